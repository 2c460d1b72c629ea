"""The MATH model's discretized program, run by TensorFlow on tapes of any
length.

The differentiable model (`models/math.py`) is compiled for one tape
length; the program it learns is not. `interpret` runs a discrete program
(every param at a value) as a `tf.while_loop` of `models/math.py`'s steps,
batched, on the reads of every cell: the symbols of the tapes, or the argmax
of net_0 and net_1 on their images (`reads`), exactly as the model's
`discrete_outputs` would (tests/test_math_task.py checks it). It scores the
learned programs on every test length in milliseconds and is what the
SavedModel serves.
"""

from typing import Mapping

import tensorflow as tf

M = 18  # values are 0 ... M; models/math.py's constants
MOVE = 0
HALT = 3  # the instruction pointer once halted (models/math.py's n_blocks)
STEPS_PER_DIGIT = 3


def _apply(a, b, op):
  """APPLY(a, b, op) of models/math.py, elementwise."""
  modulus = M + 1
  quotient = tf.math.floordiv(a, tf.maximum(b, 1)) % modulus
  results = tf.stack([(a + b) % modulus, (a - b) % modulus,
                      (a * b) % modulus,
                      tf.where(b == 0, M, quotient)], axis=-1)
  chosen = tf.gather(results, tf.minimum(op, 3), batch_dims=1)
  return tf.where(op > 3, M, chosen)


def interpret(params: Mapping[str, object], digits, operators):
  """The discrete program `params` on tapes whose cells read as `digits`
  (net_0's class) and `operators` (net_1's), int32 `[B, L]`: the answers
  `[B]`."""
  instr = tf.constant(params["instr"], tf.int32)
  arguments = tf.constant([params["arg1"], params["arg2"], params["arg3"]],
                          tf.int32)  # [3, n_blocks]
  net_choice = tf.constant(params["net_choice"], tf.int32)
  goto = tf.constant(params["goto"], tf.int32)
  n_blocks = int(instr.shape[0])
  batch = tf.shape(digits)[0]
  length = tf.shape(digits)[1]
  past_end = length + 1
  steps = STEPS_PER_DIGIT * (length + 1) // 2
  # The read of each cell by each net, padded with 0 for "off the tape".
  reads = tf.stack([digits, operators], axis=1)  # [B, nets, L]
  reads = tf.pad(reads, [[0, 0], [0, 0], [1, 1]])

  def step(t, ip, pos, registers):
    running = ip != HALT
    block = tf.minimum(ip, n_blocks - 1)
    moves = tf.gather(instr, block) == MOVE
    new_pos = tf.where(moves, tf.minimum(pos + 1, past_end), pos)
    read = tf.gather_nd(reads, tf.stack(
        [tf.range(batch), tf.gather(net_choice, block), new_pos], axis=1))
    operands = tf.gather(registers, tf.transpose(tf.gather(
        arguments, block, axis=1)), batch_dims=1)  # [B, 3]
    result = tf.where(moves, read, _apply(operands[:, 0], operands[:, 1],
                                          operands[:, 2]))
    written = tf.one_hot(block, n_blocks, on_value=True, off_value=False)
    new_registers = tf.where(written, result[:, None], registers)
    new_ip = tf.where(new_pos == past_end, HALT, tf.gather(goto, block))
    return (t + 1, tf.where(running, new_ip, ip),
            tf.where(running, new_pos, pos),
            tf.where(running[:, None], new_registers, registers))

  start = (tf.constant(0), tf.zeros([batch], tf.int32),
           tf.zeros([batch], tf.int32), tf.zeros([batch, n_blocks], tf.int32))
  _, _, _, registers = tf.while_loop(lambda t, *_: t < steps, step, start)
  return tf.gather(registers, tf.fill([batch], int(params["return_register"])),
                   batch_dims=1)


def reads(tape, networks=None):
  """`(digits, operators)`, int32 `[B, L]`: each cell of `tape` as net_0 and
  net_1 read it (`networks`, for images `[B, L, 28, 28]`), or as the
  symbols variant's fixed readers read symbols `[B, L]`."""
  if networks is None:
    return tape % 10, tf.where(tape >= 10, tape - 10, tape % 4)
  images = tf.reshape(tape, [-1, 28 * 28])
  shape = tf.shape(tape)[:2]
  return tuple(tf.reshape(tf.argmax(networks[name](images), -1, tf.int32),
                          shape) for name in ("net_0", "net_1"))
