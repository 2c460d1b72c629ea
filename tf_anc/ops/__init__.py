"""The fused machine-step op (ops/machine_step.cc) and its gradient.

`load()` returns the op library, or None (with one logged warning) when it
is not built or does not load; tf_anc.machine.fused then picks the plain-TF
step. The op has no XLA kernel.
"""

import functools
import logging
import os

import tensorflow as tf

# Where tf_anc/ops/build.py writes the library (setup.py, `make install`).
LIBRARY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "_machine_ops.so")


@functools.cache
def load():
  """The loaded op library, or None if it is missing or fails to load."""
  if not os.path.exists(LIBRARY_PATH):
    logging.warning("tf_anc: fused step library %s is not built (run `python "
                    "-m tf_anc.ops.build`); using the plain-TF step",
                    LIBRARY_PATH)
    return None
  try:
    library = tf.load_op_library(LIBRARY_PATH)
  except (tf.errors.NotFoundError, OSError) as error:
    logging.warning("tf_anc: cannot load the fused step library %s (%s); "
                    "using the plain-TF step", LIBRARY_PATH, error)
    return None
  return library


def machine_step(state, command):
  """tf_anc.machine.step.machine_step as one op; needs `load()` to succeed."""
  next_state = load().anc_machine_step(
      state.memory, state.registers, state.instruction_register,
      state.halting_probability, command.instruction, command.first_argument,
      command.second_argument, command.output)
  return type(state)(*next_state)


@tf.RegisterGradient("AncMachineStep")
def _machine_step_gradient(op, *output_gradients):
  # Outputs nobody used come without a gradient.
  output_gradients = [
      tf.zeros_like(output) if gradient is None else gradient
      for output, gradient in zip(op.outputs, output_gradients)]
  return load().anc_machine_step_grad(*op.inputs, *output_gradients)
