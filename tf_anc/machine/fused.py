"""Chooses the machine step: the plain-TF ops or the fused C++ op.

  TF_ANC_STEP=tf|fused|auto   (default auto: fused when the library loads)

`SoftMachine(step_impl=...)` overrides the variable. Both steps have the
signature `(MachineState, Command) -> MachineState` and agree to float
rounding (tests/test_fused_step.py). The fused op is float32-only and has no
XLA kernel, so other dtypes and machines traced under `jit_compile=True`
always take the plain-TF step.
"""

import os

import tensorflow as tf
# XLA's tracing context has no public query.
from tensorflow.python.ops import control_flow_util  # pylint: disable=g-direct-tensorflow-import

from tf_anc import ops
from tf_anc.machine import step

ENV_VAR = "TF_ANC_STEP"
STEP_IMPLS = ("tf", "fused", "auto")


def fused_available() -> bool:
  return ops.load() is not None


def resolve_step_impl(step_impl=None) -> str:
  """"tf" or "fused": `step_impl`, else $TF_ANC_STEP, else auto."""
  choice = step_impl or os.environ.get(ENV_VAR) or "auto"
  if choice not in STEP_IMPLS:
    raise ValueError(f"step implementation {choice!r} is not one of "
                     f"{', '.join(STEP_IMPLS)} (argument or ${ENV_VAR})")
  if choice == "tf":
    return "tf"
  if fused_available():
    return "fused"
  if choice == "fused":
    raise RuntimeError("the fused step was requested but its op library "
                       "did not load (see the warning above)")
  return "tf"


def step_function(step_impl=None, dtype=tf.float32):
  """The `(state, command) -> state` function to trace now, for `dtype`."""
  in_xla = control_flow_util.GraphOrParentsInXlaContext(
      tf.compat.v1.get_default_graph())
  fits = tf.as_dtype(dtype) == tf.float32 and not in_xla
  if resolve_step_impl(step_impl) == "fused" and fits:
    return ops.machine_step
  return step.machine_step
