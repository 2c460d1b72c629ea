"""One step of the differentiable machine (docs/anc-machine.md), in plain TF ops.

Every value is a distribution over [0, M). A step takes the machine state
and the controller's command (softmaxes over instructions and registers) and
returns the next state. The arithmetic is O(M^2) per example: cyclic shifts,
gathered circulants and cumulative sums stand in for the readable [M, M, M]
indicator tensors `out_k[c] = sum_ij x_i y_j [g_k(i, j) = c]`, which the
tests keep as the oracle.
"""

import collections

import tensorflow as tf

from tf_anc import isa

MachineState = collections.namedtuple(
    "MachineState",
    [
        "memory",  # [B, M, M]: row i is the distribution of cell i
        "registers",  # [B, R, M]
        "instruction_register",  # [B, M]
        "halting_probability",  # [B]: probability of having stopped
    ])

Command = collections.namedtuple(
    "Command",
    [
        "instruction",  # [B, num_instructions]: e
        "first_argument",  # [B, R]: a, selects x
        "second_argument",  # [B, R]: b, selects y
        "output",  # [B, R]: o, the register written
    ])


def _difference_table(memory_size):
  """[M, M] table of (c - i) mod M: row c lists where y must be for x_i."""
  values = tf.range(memory_size)
  return tf.math.floormod(values[:, None] - values[None, :], memory_size)


def alu(x, y, memory, instruction):
  """Mixture over instructions of the result distributions: `sum_k e_k out_k`.

  Args:
    x, y: [B, M] argument distributions.
    memory: [B, M, M] memory before this step (READ sees the old memory).
    instruction: [B, num_instructions] instruction probabilities e.

  Returns:
    [B, M], the distribution of `out`.
  """
  memory_size = x.shape[-1] or tf.shape(x)[-1]
  # ADD: P(x + y = c) = sum_i x_i y_{c - i}; SUB: sum_i x_i y_{i - c}.
  # circulant[b, c, i] = y[b, (c - i) mod M]; its transpose holds y_{i - c}.
  circulant = tf.gather(y, _difference_table(memory_size), axis=1)
  add = tf.einsum("bi,bci->bc", x, circulant)
  sub = tf.einsum("bi,bic->bc", x, circulant)
  # MIN: P(min = c) = x_c P(y >= c) + P(x > c) y_c, and MAX symmetrically.
  x_above = tf.cumsum(x, axis=1, reverse=True, exclusive=True)
  y_at_or_above = tf.cumsum(y, axis=1, reverse=True)
  x_below = tf.cumsum(x, axis=1, exclusive=True)
  y_at_or_below = tf.cumsum(y, axis=1)
  minimum = x * y_at_or_above + x_above * y
  maximum = x * y_at_or_below + x_below * y
  zero = tf.one_hot(tf.zeros_like(x[:, 0], tf.int32), memory_size,
                    dtype=x.dtype)
  outputs = {
      isa.STOP: zero,
      isa.ZERO: zero,
      isa.INC: tf.roll(x, 1, axis=1),
      isa.ADD: add,
      isa.SUB: sub,
      isa.DEC: tf.roll(x, -1, axis=1),
      isa.MIN: minimum,
      isa.MAX: maximum,
      isa.READ: tf.einsum("bi,bic->bc", x, memory),
      isa.WRITE: zero,
      isa.JEZ: zero,
  }
  stacked = tf.stack([outputs[k] for k in range(isa.NUM_INSTRUCTIONS)], axis=1)
  return tf.einsum("bk,bkc->bc", instruction, stacked)


# How the gradient flows through the halting update p' = p + (1 - p) e_stop:
# "exact", or "authors" (their machine.lua's backward, which passes the
# gradient of p' to p unscaled, as if (1 - p) were a constant there; the
# forward values are the same).
HALTING_GRADIENTS = ("exact", "authors")


def select_argument(selection, registers):
  """`sum_r selection_r registers_r`, rescaled to sum to 1: [B, R], [B, R, M]
  -> [B, M].

  Exactly, the mixture of distributions already sums to 1 and the rescaling
  changes nothing. In floats it is what keeps the machine's values
  distributions: ADD, SUB, MIN, MAX and READ multiply the masses of their
  arguments, so `h = ADD(h, h)` squares h's mass and doubles its rounding
  error every step: the mass drifts to 0 or blows up (1e17 after 30 ADDs
  at sharpness 20) and the gradients turn NaN. Every other update mixes
  values convexly, so with unit-mass arguments no error grows. An all-zero
  mixture stays zero, as in the fused op's idle lanes.
  """
  mixture = tf.einsum("br,brm->bm", selection, registers)
  return tf.math.divide_no_nan(
      mixture, tf.reduce_sum(mixture, axis=-1, keepdims=True))


def machine_step(state: MachineState, command: Command,
                 halting_gradient: str = "exact") -> MachineState:
  """Executes one soft instruction on every example of the batch."""
  x = select_argument(command.first_argument, state.registers)
  y = select_argument(command.second_argument, state.registers)
  out = alu(x, y, state.memory, command.instruction)

  # WRITE: row i keeps 1 - x_i of itself and takes x_i of y.
  write = command.instruction[:, isa.WRITE, None, None] * x[:, :, None]
  memory = (1.0 - write) * state.memory + write * y[:, None, :]

  selected = command.output[:, :, None]
  registers = (1.0 - selected) * state.registers + selected * out[:, None, :]

  # JEZ jumps to y with the probability that it runs and x == 0.
  jump = (command.instruction[:, isa.JEZ] * x[:, 0])[:, None]
  instruction_register = (jump * y + (1.0 - jump) *
                          tf.roll(state.instruction_register, 1, axis=1))

  stop = command.instruction[:, isa.STOP]
  running_probability = 1.0 - state.halting_probability
  if halting_gradient == "authors":
    running_probability = tf.stop_gradient(running_probability)
  halting_probability = (state.halting_probability +
                         running_probability * stop)
  return MachineState(memory, registers, instruction_register,
                      halting_probability)
