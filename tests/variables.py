"""Every variable a trainer holds, found without asking its checkpoint.

The resume tests check that a restore sets every variable of a new trainer
to the saved trainer's value (`assert_restores_every_variable`), then that
training on ends where an uninterrupted run does. To catch a variable the
checkpoint misses (one no optimizer holds, which resumed training would
not show), the list must not come from the checkpoint: `every_variable` walks the trainer's own
attributes instead, taking Keras layers' and optimizers' own variable lists
(trainable or not) and following our objects, dicts, lists and tuples.
"""

import keras
import numpy as np
import tensorflow as tf

_OUR_PACKAGES = ("tf_anc", "ntpt_keras")


def every_variable(root) -> list:
  """The variables reachable from `root`, each once, in a fixed order."""
  found, seen = [], set()

  def add(variable):
    if id(variable) not in seen:
      seen.add(id(variable))
      found.append(variable)

  def walk(value):
    if isinstance(value, (tf.Variable, keras.Variable)):
      add(value)
      return
    if id(value) in seen:
      return
    seen.add(id(value))
    if isinstance(value, (keras.layers.Layer, keras.optimizers.Optimizer)):
      for variable in value.variables:
        add(variable)
    elif isinstance(value, dict):
      for item in value.values():
        walk(item)
    elif isinstance(value, (list, tuple)):
      for item in value:
        walk(item)
    elif type(value).__module__.startswith(_OUR_PACKAGES) and hasattr(
        value, "__dict__"):
      for item in vars(value).values():
        walk(item)

  walk(root)
  return found


def assert_restores_every_variable(saved, restoring, value=99991):
  """`restoring.restore()` sets every variable to `saved`'s, exactly.

  `saved` is a trainer whose variables are those of its latest checkpoint
  (it has just saved); `restoring` a new trainer of the same run. Every
  variable of `restoring` is first set to `value`, which no run produces,
  so that one the restore misses keeps it and shows.
  """
  for variable in every_variable(restoring):
    variable.assign(np.full(variable.shape, value,
                            tf.as_dtype(variable.dtype).as_numpy_dtype))
  restoring.restore()
  assert_same_variables(saved, restoring, rtol=0, atol=0)


def assert_same_variables(expected_root, actual_root, rtol=1e-5, atol=1e-6):
  """Both hold the same variables (by position and shape) with equal values."""
  expected, actual = every_variable(expected_root), every_variable(actual_root)
  assert [tuple(v.shape) for v in expected] == [tuple(v.shape)
                                                for v in actual]
  for number, (want, got) in enumerate(zip(expected, actual)):
    np.testing.assert_allclose(
        np.asarray(got), np.asarray(want), rtol=rtol, atol=atol,
        err_msg=f"variable {number} ({getattr(want, 'path', want.name)})")
