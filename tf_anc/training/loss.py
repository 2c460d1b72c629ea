"""The four-term loss of the paper's section 4.1 (docs/anc-machine.md).

Per example, with target memory m* (one-hot rows) and a mask of the cells
that count:
  correctness  sum_masked (mem_T - m*)^2
  confidence   sum_t (p_t - p_{t-1}) err_t, err_t the same error on mem_t
  efficiency   sum_t (1 - p_t) over the steps executed
  halting      1 - p_T when p_T < eta_stop, else 0
"""

import tensorflow as tf

from tf_anc.machine.soft_machine import halting_at_each_step
from tf_anc.machine.soft_machine import last_step
from tf_anc.machine.soft_machine import memory_error
from tf_anc.training.config import LossWeights

TERMS = ("correctness", "confidence", "efficiency", "halting")


def loss_terms(outputs, target, mask, eta_stop):
  """Each term per example, shaped like the batch (e.g. [K, B]).

  Args:
    outputs: the SoftMachine's outputs. The confidence term needs
      `step_errors` (the machine called with `error_target=target` and
      `error_mask=mask`); without them the term is left out. With them,
      the correctness term is their last step's.
    target: int target memories [..., M].
    mask: bool [..., M], the cells that count.
    eta_stop: the machine's halting threshold.
  """
  halting = outputs["halting_probabilities"]  # [..., T]
  running = tf.cast(outputs["running"], halting.dtype)
  final_halting = last_step(halting)
  if "step_errors" in outputs:
    # The error after the last step is the final memory's: the machine
    # computed it in its loop, where the [..., M, M] error of a batch
    # would be half a dozen TF ops and their gradients.
    correctness = last_step(outputs["step_errors"])
  else:
    memory = outputs["memory"]
    correctness = memory_error(
        memory, tf.one_hot(target, memory.shape[-1], dtype=memory.dtype),
        tf.cast(mask, memory.dtype))

  terms = {
      "correctness": correctness,
      "efficiency": tf.reduce_sum(running * (1.0 - halting), axis=-1),
      "halting": tf.where(final_halting < eta_stop, 1.0 - final_halting,
                          tf.zeros_like(final_halting)),
  }
  if "step_errors" in outputs:
    terms["confidence"] = tf.reduce_sum(
        halting_at_each_step(halting) * outputs["step_errors"], axis=-1)
  return terms


def total_loss(terms, weights: LossWeights):
  """alpha*correctness + beta*confidence + gamma*efficiency + delta*halting."""
  total = 0.0
  for name in TERMS:
    weight = getattr(weights, name)
    if weight:
      if name not in terms:
        raise ValueError(f"the {name} term has weight {weight} but was not "
                         f"computed (the confidence term needs the "
                         f"machine's step_errors: call it with "
                         f"error_target and error_mask)")
      total += weight * terms[name]
  return total
