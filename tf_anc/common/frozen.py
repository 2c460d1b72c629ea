"""What every export's serving signature shares: frozen variables, and
inputs checked against their range.

Keras 3 variables restore in `tf.saved_model.load` but not in TF1-style
session loaders (`saved_model_cli run`, `tf.compat.v1` sessions, TF
Serving): those fail with "Could not find variable ..." (keras-team/keras
#19274). An export's signature is therefore a `Frozen` module's `serve`: the
same inputs and dict of outputs, with every variable the function reads
turned into a constant of the graph, so the SavedModel holds no variables
for a loader to miss.
"""

import tensorflow as tf
# TF's own converters (TFLite) freeze functions with this; it has no tf.*
# alias.
from tensorflow.python.framework import convert_to_constants  # pylint: disable=g-direct-tensorflow-import


class Frozen(tf.Module):
  """`function`, a `tf.function` with an input signature returning a dict of
  tensors, frozen: `serve` takes the same inputs and returns the same dict,
  reading no variables. Save it with `signatures={key: frozen.serve}`."""

  def __init__(self, function, name=None):
    super().__init__(name=name)
    traced = function.get_concrete_function()
    self._constant = convert_to_constants.convert_variables_to_constants_v2(
        traced)
    # The frozen function returns its outputs flat, in tf.nest order
    # (a dict's keys sorted).
    self._output_names = sorted(traced.structured_outputs)
    self.serve = tf.function(self._serve,
                             input_signature=function.input_signature)

  def _serve(self, *inputs):
    return dict(zip(self._output_names, self._constant(*inputs)))


def checked_range(values, size: int, name: str):
  """`values` (ints) once every one is in [0, size); else an
  InvalidArgumentError naming `name`, the first index outside and its value
  (`tf.one_hot` would silently make such a value all zeros)."""
  outside = tf.where((values < 0) | (values >= size))[:1]
  check = tf.debugging.Assert(
      tf.equal(tf.shape(outside)[0], 0),
      [f"{name} values must be in [0, {size}); the index and value of the "
       "first outside:", outside, tf.gather_nd(values, outside)])
  with tf.control_dependencies([check]):
    return tf.identity(values)
