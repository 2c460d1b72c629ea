"""Checks of values known only at run time, eager or in a graph.

A model checks its inputs where they enter: what is known when tracing
(names, shapes, dtypes) raises a ValueError or TypeError then; values only
exist at run time, so `require` checks them eagerly at once, or in a graph
as an assertion the run waits on. XLA has no assertions: in an XLA context
(`jit_compile=True`) the run-time checks are left out.
"""

import tensorflow as tf
# XLA's tracing context has no public query.
from tensorflow.python.ops import control_flow_util  # pylint: disable=g-direct-tensorflow-import


def require(condition, message):
  """[] once `condition` holds; else an InvalidArgumentError saying
  `message()` (a string tensor): raised now when eager, else from an
  assertion the caller makes the run wait on (returned in a list)."""
  if tf.executing_eagerly():
    if not bool(condition):
      raise tf.errors.InvalidArgumentError(
          None, None, message().numpy().decode())
    return []
  if control_flow_util.GraphOrParentsInXlaContext(
      tf.compat.v1.get_default_graph()):
    return []
  return [tf.debugging.Assert(condition, [message()])]
