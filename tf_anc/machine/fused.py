"""Chooses how the soft machine runs: plain-TF ops or the fused C++ op.

  TF_ANC_STEP=tf|fused|auto   (default auto: fused when the library loads)

`SoftMachine(step_impl=...)` overrides the variable. "tf" unrolls the
plain-TF step in a `tf.while_loop`; "fused" runs the whole execution,
controller and halting included, as one op (tf_anc.kernels.machine_run). Both
agree to float rounding (tests/test_fused_run.py). The fused op is
float32-only and has no XLA kernel, so other dtypes and machines traced
under `jit_compile=True` always take the plain-TF loop.
"""

import os

import tensorflow as tf
# XLA's tracing context has no public query.
from tensorflow.python.ops import control_flow_util  # pylint: disable=g-direct-tensorflow-import

from tf_anc import kernels

ENV_VAR = "TF_ANC_STEP"
STEP_IMPLS = ("tf", "fused", "auto")


def fused_available() -> bool:
  return kernels.load() is not None


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


def use_fused(step_impl=None, dtype=tf.float32) -> bool:
  """Whether a machine traced now, in `dtype`, runs as the fused op."""
  in_xla = control_flow_util.GraphOrParentsInXlaContext(
      tf.compat.v1.get_default_graph())
  fits = tf.as_dtype(dtype) == tf.float32 and not in_xla
  return resolve_step_impl(step_impl) == "fused" and fits
