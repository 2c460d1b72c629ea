"""The soft step against its readable definitions (docs/anc-machine.md)."""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import isa
from tf_anc.machine import Command, MachineState, alu, machine_step
from tf_anc.machine.step import select_argument


def indicator_tensor(instruction, memory_size):
  """The readable form: [M, M, M] with 1 where g_k(i, j) = c."""
  g = isa.INSTRUCTIONS[instruction].result
  tensor = np.zeros([memory_size] * 3)
  for i in range(memory_size):
    for j in range(memory_size):
      tensor[i, j, g(i, j, memory_size)] = 1.0
  return tensor


def random_distributions(rng, *shape):
  values = rng.random(shape) ** 3  # skewed, so mistakes don't average out
  return values / values.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("memory_size", [1, 2, 5, 8])
@pytest.mark.parametrize("instruction", [
    k for k in range(isa.NUM_INSTRUCTIONS) if k != isa.READ])
def test_alu_matches_the_indicator_tensor_form(instruction, memory_size):
  rng = np.random.default_rng(instruction * 100 + memory_size)
  x = random_distributions(rng, 3, memory_size)
  y = random_distributions(rng, 3, memory_size)
  memory = random_distributions(rng, 3, memory_size, memory_size)
  expected = np.einsum("bi,bj,ijc->bc", x, y,
                       indicator_tensor(instruction, memory_size))
  one_hot = np.eye(isa.NUM_INSTRUCTIONS)[[instruction] * 3]
  actual = alu(tf.constant(x), tf.constant(y), tf.constant(memory),
               tf.constant(one_hot))
  np.testing.assert_allclose(actual.numpy(), expected, atol=1e-12)


def test_read_is_the_address_distribution_times_memory():
  rng = np.random.default_rng(0)
  x = random_distributions(rng, 2, 6)
  memory = random_distributions(rng, 2, 6, 6)
  one_hot = np.eye(isa.NUM_INSTRUCTIONS)[[isa.READ] * 2]
  actual = alu(tf.constant(x), tf.constant(x), tf.constant(memory),
               tf.constant(one_hot))
  np.testing.assert_allclose(actual.numpy(), np.einsum("bi,bic->bc", x,
                                                       memory))


def test_alu_mixes_instructions_by_their_probabilities():
  rng = np.random.default_rng(1)
  x, y = random_distributions(rng, 2, 1, 7)
  memory = random_distributions(rng, 1, 7, 7)
  e = random_distributions(rng, 1, isa.NUM_INSTRUCTIONS)
  mixed = alu(x, y, memory, e).numpy()
  pure = [alu(x, y, memory, np.eye(isa.NUM_INSTRUCTIONS)[[k]]).numpy()
          for k in range(isa.NUM_INSTRUCTIONS)]
  np.testing.assert_allclose(mixed, sum(e[0, k] * pure[k]
                                        for k in range(isa.NUM_INSTRUCTIONS)))


def soft_state(rng, memory_size=6, num_registers=3):
  return MachineState(
      memory=tf.constant(random_distributions(rng, 1, memory_size,
                                              memory_size)),
      registers=tf.constant(random_distributions(rng, 1, num_registers,
                                                 memory_size)),
      instruction_register=tf.constant(random_distributions(rng, 1,
                                                            memory_size)),
      halting_probability=tf.constant([0.25], tf.float64))


def command(instruction, a, b, o, num_registers=3):
  return Command(
      instruction=tf.constant(np.eye(isa.NUM_INSTRUCTIONS)[[instruction]]),
      first_argument=tf.constant(np.eye(num_registers)[[a]]),
      second_argument=tf.constant(np.eye(num_registers)[[b]]),
      output=tf.constant(np.eye(num_registers)[[o]]))


def test_write_blends_each_row_with_y_by_the_address_probability():
  state = soft_state(np.random.default_rng(2))
  new = machine_step(state, command(isa.WRITE, 0, 1, 2))
  x, y = state.registers[0, 0].numpy(), state.registers[0, 1].numpy()
  memory = state.memory[0].numpy()
  expected = (1 - x)[:, None] * memory + x[:, None] * y[None, :]
  np.testing.assert_allclose(new.memory[0].numpy(), expected)


def test_the_output_register_takes_the_result_and_others_keep_theirs():
  state = soft_state(np.random.default_rng(3))
  new = machine_step(state, command(isa.INC, 0, 0, 2))
  registers = state.registers[0].numpy()
  np.testing.assert_allclose(new.registers[0, 2], np.roll(registers[0], 1))
  np.testing.assert_allclose(new.registers[0, :2], registers[:2])


def test_jez_jumps_with_the_probability_that_x_is_zero():
  state = soft_state(np.random.default_rng(4))
  new = machine_step(state, command(isa.JEZ, 0, 1, 2))
  jump = state.registers[0, 0, 0].numpy()
  expected = (jump * state.registers[0, 1].numpy() + (1 - jump) *
              np.roll(state.instruction_register[0].numpy(), 1))
  np.testing.assert_allclose(new.instruction_register[0], expected)


def test_other_instructions_advance_the_instruction_register():
  state = soft_state(np.random.default_rng(5))
  new = machine_step(state, command(isa.ADD, 0, 1, 2))
  np.testing.assert_allclose(new.instruction_register[0],
                             np.roll(state.instruction_register[0], 1))


def test_halting_probability_accumulates_the_stop_probability():
  state = soft_state(np.random.default_rng(6))
  e = np.full([1, isa.NUM_INSTRUCTIONS], 0.5 / (isa.NUM_INSTRUCTIONS - 1))
  e[0, isa.STOP] = 0.5
  soft = command(isa.STOP, 0, 1, 2)._replace(instruction=tf.constant(e))
  new = machine_step(state, soft)
  np.testing.assert_allclose(new.halting_probability, [0.25 + 0.75 * 0.5])


def test_an_argument_is_its_register_mixture_divided_by_its_mass():
  rng = np.random.default_rng(7)
  registers = 1.5 * random_distributions(rng, 1, 3, 6)  # masses off 1
  selection = random_distributions(rng, 1, 3)
  mixture = np.einsum("br,brm->bm", selection, registers)
  np.testing.assert_allclose(select_argument(selection, registers),
                             mixture / mixture.sum(-1, keepdims=True))


def test_an_all_zero_argument_stays_zero():
  argument = select_argument(tf.constant([[0.5, 0.5]]), tf.zeros([1, 2, 4]))
  np.testing.assert_array_equal(argument, np.zeros([1, 4]))


def test_adding_a_register_to_itself_keeps_its_mass_at_one():
  # Exactly, ADD(h, h)'s mass is h's squared: 1.01 would become 1.0201.
  state = soft_state(np.random.default_rng(8))
  registers = state.registers.numpy()
  registers[0, 0] *= 1.01
  new = machine_step(state._replace(registers=tf.constant(registers)),
                     command(isa.ADD, 0, 0, 0))
  np.testing.assert_allclose(np.sum(new.registers[0, 0]), 1.0, rtol=1e-12)
