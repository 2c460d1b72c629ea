"""The fused machine op (ops/*.cc) and its gradient.

`machine_run` is a whole run of the soft machine (controller, steps and
halting mask; ops/machine_run.h), what SoftMachine uses when fused,
`restart_softmax` its initial registers and instruction register
(ops/initial_state.cc), and `one_hot_cells` and `checked_cells` its integer
memories and error targets, checked (ops/cells.cc); `fma_peak` measures
the multiply-adds a second that the steps' arithmetic is compared with
(ops/fma_peak.cc).
`load()` returns the op library, or None (with one logged line saying why)
when it cannot be built or loaded; tf_anc.machine.fused then picks the
plain-TF loop. The library is $TF_ANC_OP_LIBRARY when set (e.g. Bazel's
build), else the one tf_anc.kernels.build keeps in its cache for this machine,
compiled on first use. The ops have no XLA kernels.
"""

import functools
import logging
import os

import tensorflow as tf

LIBRARY_ENV = "TF_ANC_OP_LIBRARY"


@functools.cache
def load():
  """The loaded op library, or None if it cannot be built or loaded."""
  # Imported here: `python -m tf_anc.kernels.build` runs that module as
  # __main__, after this package, which must not have imported it.
  from tf_anc.kernels import build  # pylint: disable=g-import-not-at-top
  path = os.environ.get(LIBRARY_ENV)
  try:
    if not path:
      path = build.ensure_built()
    return tf.load_op_library(str(path))
  except build.BuildError as error:
    logging.warning("%s", build.not_built_notice(error))
  except (tf.errors.NotFoundError, OSError) as error:
    logging.warning("tf_anc: cannot load the fused machine op library %s "
                    "(%s); running the plain-TF machine", path,
                    str(error).strip())
  return None


def machine_run(state, logits, max_steps, eta_stop, trace_memory=False,
                error_target=None, error_mask=None, halting_gradient="exact",
                halting_mixture=False):
  """Runs the soft machine from `state` for up to `max_steps` steps.

  Args:
    state: the initial MachineState of a restart-major batch of B examples.
    logits: the controller's (instruction, first_argument, second_argument,
      output) logits, [K, M, 11] and three [K, M, R]; example b runs restart
      b // (B // K).
    max_steps: T_max, at least 1.
    eta_stop: examples stop once their halting probability reaches it.
    trace_memory: whether to output the memory after every step.
    error_target, error_mask: [B, M] target cell values (integers in
      [0, M)) and [B, M] cell weights; given, the op outputs each step's
      error of the memory against them, sum_i mask_i sum_c (memory[i, c] -
      [c = target[i]])^2 (one-hot target rows), without a trace.
    halting_gradient: "exact", or "authors" (the gradient op passes the
      halting probability's gradient on unscaled, as
      tf_anc.machine.step.machine_step does with "authors").
    halting_mixture: whether to output the memory at halting (what
      tf_anc.machine.soft_machine.memory_at_halting computes from a trace),
      without a trace; it has no gradient.

  Returns:
    The op's outputs as a namedtuple: final_memory, final_registers,
    halting_probabilities [B, T], running [B, T], steps [B], memory_trace
    ([B, T, M, M], or [B, 0, M, M] without trace_memory), step_errors
    ([B, T], or [B, 0] without a target), saved, what the gradient reads,
    and memory_at_halting ([B, M, M], or [0, M, M] without
    halting_mixture).
  """
  trace_errors = error_target is not None
  if trace_errors != (error_mask is not None):
    raise ValueError("error_target and error_mask go together")
  if trace_errors:
    error_target = tf.cast(error_target, tf.int32)
  else:
    error_target = tf.zeros([0], tf.int32)
    error_mask = tf.zeros([0], state.memory.dtype)
  return load().anc_machine_run(
      state.memory, state.registers, state.instruction_register,
      state.halting_probability, *logits, error_target, error_mask,
      max_steps=max_steps, eta_stop=eta_stop, trace_memory=trace_memory,
      trace_errors=trace_errors, halting_mixture=halting_mixture,
      halting_gradient=halting_gradient)


def restart_softmax(logits, examples_per_restart):
  """softmax(logits[k]) over the last axis for each of restart k's examples:
  logits `[K, ..., N]` -> `[K * E, ..., N]`, E = `examples_per_restart`."""
  return load().anc_restart_softmax(logits, examples_per_restart)


@tf.RegisterGradient("AncRestartSoftmax")
def _restart_softmax_gradient(op, gradient):
  return load().anc_restart_softmax_grad(op.inputs[0], gradient), None


def one_hot_cells(cells, memory_size, what="memory"):
  """tf.one_hot(cells, memory_size) (float32) once every value of the int32
  or int64 `cells` is in [0, memory_size); else an InvalidArgumentError
  naming the first outside, e.g. "memory[2, 4] = 12 is outside [0, 10)"."""
  return load().anc_one_hot_cells(cells, memory_size=memory_size, what=what)


def checked_cells(cells, memory_size, what="error_target"):
  """`cells` as int32, checked as `one_hot_cells` checks them."""
  return load().anc_checked_cells(cells, memory_size=memory_size, what=what)


# Integer inputs: nothing to differentiate.
tf.no_gradient("AncOneHotCells")
tf.no_gradient("AncCheckedCells")


def fma_peak(seconds=0.3):
  """(vector multiply-adds a second on one thread, floats per vector): this
  machine's peak on the run ops' vector type, measured for `seconds` (the
  best of windows of about 10 ms), for comparing the steps' arithmetic
  with (`python -m tf_anc.benchmarks.machine --breakdown`)."""
  rate, lanes = load().anc_fma_peak(seconds=seconds)
  return float(rate), int(lanes)


# AncMachineRun's outputs by index: those its gradient op reads (running and
# saved), and the float ones it takes gradients of (final memory and
# registers, halting probabilities, the memory trace and the step errors),
# in op order.
_RUNNING, _SAVED = 3, 7
_DIFFERENTIABLE_OUTPUTS = (0, 1, 2, 5, 6)
_MEMORY_AT_HALTING = 8
# The initial memory's index among its inputs.
_MEMORY = 0


@tf.RegisterGradient("AncMachineRun")
def _machine_run_gradient(op, *output_gradients):
  mixture_gradient = output_gradients[_MEMORY_AT_HALTING]
  checks = []
  if mixture_gradient is not None and op.get_attr("halting_mixture"):
    # A tape hands an unused output zeros: only a nonzero gradient uses it.
    checks.append(tf.debugging.assert_equal(
        tf.reduce_any(tf.not_equal(mixture_gradient, 0.0)), False,
        message="AncMachineRun's memory_at_halting has no gradient "
        "(differentiate the memory trace's mixture instead)"))
  # An output nobody used has no gradient: the op reads an empty one as zero
  # (cheaper than zeros the size of a trace).
  gradients = [tf.zeros([0]) if output_gradients[index] is None
               else output_gradients[index]
               for index in _DIFFERENTIABLE_OUTPUTS]
  # A tape says which inputs need no gradient (tf.gradients' ops do not):
  # the initial memory, when it is data, is the largest not to compute.
  memory_gradient = _MEMORY not in (getattr(op, "skip_input_indices", None)
                                    or ())
  with tf.control_dependencies(checks):
    input_gradients = list(load().anc_machine_run_grad(
        *op.inputs, op.outputs[_RUNNING], op.outputs[_SAVED], *gradients,
        halting_gradient=op.get_attr("halting_gradient"),
        memory_gradient=memory_gradient))
  if not memory_gradient:
    input_gradients[_MEMORY] = None
  return input_gradients + [None, None]  # none for the error target
