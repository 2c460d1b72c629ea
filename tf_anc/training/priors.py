"""Priors that pull every restart towards the compiled program.

The authors' code (`optim/infinity_prior.lua`, `optim/softmaxed_prior.lua`)
adds them to the gradients; here they are loss terms with the same
gradients, weighted `weight / (1 + annealing * t)` at the t-th update
(t = 1, 2, ...), so the pull fades as training goes on. Only the choices the
program makes count: its lines' instruction, arguments and output register,
the registers it initialises and the instruction register's start, not the
rows past its end nor the arguments and registers it leaves flat.

- "infinity": `-sum sign * logits`, sign +1 on each chosen logit and -1 on
  the others: a constant push, however far the logits already are.
- "softmax": `sum (softmax(row) - onehot)^2`: fades as each row's choice
  sharpens.
"""

import numpy as np
import tensorflow as tf

from tf_anc.lang.compiler import compile_program

_FIELDS = ("instruction_logits", "first_argument_logits",
           "second_argument_logits", "output_logits",
           "initial_register_logits", "initial_ir_logits")


class Prior:
  """The prior of `program` (an ir.Program) over a Controller's logits."""

  def __init__(self, kind, program, weight, annealing):
    if kind not in ("infinity", "softmax"):
      raise ValueError(f"unknown prior {kind!r}; choose infinity or softmax")
    self.kind, self.weight, self.annealing = kind, weight, annealing
    # At sharpness 1 a chosen entry is 1, every other 0; a flat row is 0.
    reference = compile_program(program, sharpness=1.0)
    self.targets, self.masks = {}, {}
    for name in _FIELDS:
      target = getattr(reference, name)
      rows = target.reshape(-1, target.shape[-1])
      chosen = np.max(rows, axis=-1, keepdims=True) == 1.0
      if name not in ("initial_register_logits", "initial_ir_logits"):
        chosen[len(program.operations):] = False  # past the program's end
      self.targets[name] = tf.constant(target)
      self.masks[name] = tf.constant(
          np.broadcast_to(chosen, rows.shape).reshape(target.shape),
          tf.float32)

  def __call__(self, controller, update):
    """`[K]`: each restart's prior at the `update`-th update (from 1)."""
    weight = self.weight / (1.0 + self.annealing * tf.cast(update,
                                                           tf.float32))
    total = 0.0
    for name in _FIELDS:
      logits = getattr(controller, name)  # [K, ...]
      target, mask = self.targets[name], self.masks[name]
      if self.kind == "infinity":
        values = -(2.0 * target - 1.0) * mask * logits
      else:
        values = mask * tf.square(tf.nn.softmax(logits, axis=-1) - target)
      total += tf.reduce_sum(tf.reshape(values, [tf.shape(values)[0], -1]),
                             axis=-1)
    return weight * total
