"""The optimizers a trainer may be configured with, and a step over groups.

Names only at import (no Keras): the CLIs check a configured name before
paying for TensorFlow's import.
"""

# Each configurable name and its class in `keras.optimizers`.
_CLASS_NAMES = {"adam": "Adam", "sgd": "SGD"}
OPTIMIZERS = tuple(_CLASS_NAMES)


def check_name(name: str):
  """Raises a ValueError naming the choices if `name` is not an optimizer."""
  if name not in _CLASS_NAMES:
    raise ValueError(f"unknown optimizer {name!r}; choose from "
                     f"{', '.join(OPTIMIZERS)}")


def make(name: str, learning_rate: float, variables, **options):
  """Optimizer `name` for `variables`, its slots already built.

  Built now rather than at the first step, so that a checkpoint restored
  before training restores the slots too. `options` go to the Keras class
  (e.g. Adam's `epsilon`).
  """
  import keras  # pylint: disable=g-import-not-at-top
  check_name(name)
  optimizer = getattr(keras.optimizers, _CLASS_NAMES[name])(learning_rate,
                                                            **options)
  optimizer.build(variables)
  return optimizer


def apply_gradients(tape, loss, groups) -> None:
  """One gradient of `loss`, each `(optimizer, variables)` group's part
  applied by its own optimizer."""
  variables = [v for _, group in groups for v in group]
  gradients = tape.gradient(loss, variables)
  start = 0
  for optimizer, group in groups:
    optimizer.apply_gradients(zip(gradients[start:start + len(group)], group))
    start += len(group)
