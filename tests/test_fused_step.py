"""The fused step op computes exactly what the plain-TF step computes.

Values to 1e-5 and gradients to 1e-4 of their scale, on random soft states
and commands (halted examples included), and a numeric gradient check.
tests/test_fused_run.py checks the whole-run op that SoftMachine uses.
"""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import isa
from tf_anc import ops
from tf_anc.machine import Command, MachineState, fused, step

requires_library = pytest.mark.skipif(
    not fused.fused_available(),
    reason="the fused op library is not built (python -m tf_anc.ops.build)")


def random_distributions(rng, *shape, sharpness=3.0):
  logits = sharpness * rng.normal(size=shape)
  return tf.nn.softmax(tf.constant(logits, tf.float32), axis=-1)


def random_step_inputs(rng, batch, memory_size, num_registers):
  """A soft state and a command, with every other example about halted."""
  halting = rng.uniform(0.0, 0.5, batch)
  halting[::2] = 1.0 - rng.uniform(0.0, 1e-3, halting[::2].shape)
  state = MachineState(
      memory=random_distributions(rng, batch, memory_size, memory_size),
      registers=random_distributions(rng, batch, num_registers, memory_size),
      instruction_register=random_distributions(rng, batch, memory_size),
      halting_probability=tf.constant(halting, tf.float32))
  command = Command(
      instruction=random_distributions(rng, batch, isa.NUM_INSTRUCTIONS),
      first_argument=random_distributions(rng, batch, num_registers),
      second_argument=random_distributions(rng, batch, num_registers),
      output=random_distributions(rng, batch, num_registers))
  return state, command


def values_and_gradients(machine_step, state, command, loss_weights):
  """The next state and d(random linear loss)/d(each of the 8 inputs)."""
  inputs = list(state) + list(command)
  with tf.GradientTape() as tape:
    tape.watch(inputs)
    next_state = machine_step(MachineState(*inputs[:4]), Command(*inputs[4:]))
    loss = sum(tf.reduce_sum(weight * value)
               for weight, value in zip(loss_weights, next_state))
  return next_state, tape.gradient(loss, inputs)


def assert_gradients_close(actual, expected, relative):
  """Each |actual - expected| <= relative * the scale of its tensor.

  A tensor whose exact gradient is 0 (e.g. the output selection when M = 1,
  where every register already holds the result) holds only rounding noise,
  a few float32 ulps of the largest gradient; its scale is at least 1e-2 of
  the largest gradient (so its tolerance is 8 ulps of it).
  """
  expected = [np.asarray(gradient) for gradient in expected]
  largest = max(np.max(np.abs(gradient)) for gradient in expected)
  for actual_tensor, expected_tensor in zip(actual, expected):
    scale = max(np.max(np.abs(expected_tensor)), 1e-2 * largest, 1e-6)
    np.testing.assert_allclose(actual_tensor, expected_tensor, rtol=relative,
                               atol=relative * scale)


SHAPES = [  # (batch, M, R)
    (1, 1, 1), (5, 1, 3), (1, 3, 1), (5, 3, 3), (64, 3, 7), (5, 10, 3),
    (64, 10, 7), (1, 20, 7), (5, 20, 1), (64, 20, 3)]


@requires_library
@pytest.mark.parametrize("batch,memory_size,num_registers", SHAPES)
def test_values_and_gradients_match_the_plain_step(batch, memory_size,
                                                   num_registers):
  rng = np.random.default_rng(batch * 1000 + memory_size * 10 + num_registers)
  state, command = random_step_inputs(rng, batch, memory_size, num_registers)
  loss_weights = [tf.constant(rng.normal(size=value.shape), tf.float32)
                  for value in state]
  plain = values_and_gradients(step.machine_step, state, command,
                               loss_weights)
  fused_values = values_and_gradients(ops.machine_step, state, command,
                                      loss_weights)
  for actual, expected in zip(fused_values[0], plain[0]):
    np.testing.assert_allclose(actual, expected, atol=1e-5)
  assert_gradients_close(fused_values[1], plain[1], 1e-4)


@requires_library
def test_outputs_without_a_gradient_count_as_zero():
  state, command = random_step_inputs(np.random.default_rng(0), 3, 4, 2)
  with tf.GradientTape() as tape:
    tape.watch(state.memory)
    loss = tf.reduce_sum(ops.machine_step(state, command).registers)
  with tf.GradientTape() as plain_tape:
    plain_tape.watch(state.memory)
    plain_loss = tf.reduce_sum(step.machine_step(state, command).registers)
  np.testing.assert_allclose(tape.gradient(loss, state.memory),
                             plain_tape.gradient(plain_loss, state.memory),
                             atol=1e-6)


@requires_library
def test_gradient_matches_finite_differences():
  state, command = random_step_inputs(np.random.default_rng(1), 2, 3, 2)

  def flat_next_state(*inputs):
    next_state = ops.machine_step(MachineState(*inputs[:4]),
                                  Command(*inputs[4:]))
    return tf.concat([tf.reshape(value, [-1]) for value in next_state], 0)

  theoretical, numerical = tf.test.compute_gradient(
      flat_next_state, list(state) + list(command), delta=1e-2)
  for analytic, numeric in zip(theoretical, numerical):
    np.testing.assert_allclose(analytic, numeric, atol=2e-3)


@requires_library
@pytest.mark.parametrize("bad_input,shape", [
    ("memory", [2, 3, 4]), ("registers", [2, 2, 4]),
    ("instruction", [2, 10]), ("output", [2, 3]), ("halting", [3])])
def test_inconsistent_shapes_are_invalid_arguments(bad_input, shape):
  state, command = random_step_inputs(np.random.default_rng(2), 2, 3, 2)
  inputs = {**state._asdict(), **command._asdict()}
  inputs["halting"] = inputs.pop("halting_probability")
  inputs[bad_input] = tf.zeros(shape)
  with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
    ops.load().anc_machine_step(**inputs)
