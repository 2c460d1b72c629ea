"""Gradients of the soft machine agree with numeric differentiation."""

import numpy as np
import tensorflow as tf

from tf_anc import lang
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine

MEMORY_SIZE = 5
# Reads a cell, branches on it, writes: every instruction kind takes part.
PROGRAM = """
var v = READ(0);
JEZ(v, zero);
v = ADD(v, 1);
zero: WRITE(1, v);
STOP();
"""


def soft_machine():
  program = lang.parse_program(PROGRAM, MEMORY_SIZE)
  # Low sharpness: a soft program, as training starts from. eta_stop = 1 is
  # never reached by a soft STOP, so no example halts mid-way and the loss is
  # smooth in every weight.
  return SoftMachine.from_weights(compile_program(program, sharpness=2.0),
                                  max_steps=6, eta_stop=1.0, dtype="float64")


def loss(machine, memory, target):
  outputs = machine(memory)
  correctness = tf.reduce_sum((outputs["memory"] - target) ** 2)
  return correctness + tf.reduce_sum(1.0 - outputs["halting_probabilities"])


def test_gradients_match_central_differences_for_every_weight():
  machine = soft_machine()
  memory = tf.one_hot([[2, 0, 1, 3, 4], [0, 1, 0, 0, 2]], MEMORY_SIZE,
                      dtype=tf.float64)
  target = tf.one_hot([[2, 3, 1, 3, 4], [0, 0, 0, 0, 2]], MEMORY_SIZE,
                      dtype=tf.float64)
  with tf.GradientTape() as tape:
    value = loss(machine, memory, target)
  variables = machine.trainable_variables
  analytic = tape.gradient(value, variables)
  assert len(variables) == 6

  epsilon = 1e-6
  for variable, gradient in zip(variables, analytic):
    original = variable.numpy()
    numeric = np.zeros_like(original)
    for index in np.ndindex(original.shape):
      for sign in (1, -1):
        shifted = original.copy()
        shifted[index] += sign * epsilon
        variable.assign(shifted)
        numeric[index] += sign * loss(machine, memory, target).numpy()
      variable.assign(original)
    numeric /= 2 * epsilon
    np.testing.assert_allclose(gradient.numpy(), numeric, rtol=1e-5,
                               atol=1e-7, err_msg=variable.name)
    assert np.abs(gradient.numpy()).max() > 0, variable.name
