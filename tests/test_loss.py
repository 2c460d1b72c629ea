"""The four-term loss (docs/anc-machine.md, "The loss") on executions we can reason about."""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import lang
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine
from tf_anc.machine.soft_machine import memory_error
from tf_anc.training.config import LossWeights
from tf_anc.training.loss import loss_terms, total_loss

# Writes mem[0] + 1 into mem[1]: READ, INC, WRITE, STOP = 4 steps.
PROGRAM = "var v = READ(0); v = INC(v); WRITE(1, v); STOP();"


TARGET = np.array([[3, 4, 0, 0, 0, 0]])
MASK = np.array([[False, True, False, False, False, False]])


def run(sharpness=100.0, max_steps=10, memory=(3, 0, 0, 0, 0, 0),
        target=TARGET, step_errors=True):
  program = lang.parse_program(PROGRAM, 6)
  machine = SoftMachine.from_weights(compile_program(program, sharpness),
                                     max_steps, trace_memory=True)
  if not step_errors:
    return machine(np.array([memory]))
  return machine(np.array([memory]), error_target=target, error_mask=MASK)


def test_an_exact_program_has_no_correctness_confidence_or_halting_loss():
  terms = loss_terms(run(), TARGET, MASK, eta_stop=0.9)
  assert float(terms["correctness"][0]) == 0.0
  assert float(terms["confidence"][0]) == 0.0
  assert float(terms["halting"][0]) == 0.0


def test_efficiency_counts_each_step_before_the_stop():
  terms = loss_terms(run(), TARGET, MASK, eta_stop=0.9)
  assert float(terms["efficiency"][0]) == pytest.approx(3.0)


@pytest.mark.parametrize("step_errors", [True, False])
def test_correctness_is_the_squared_error_of_the_masked_cells(step_errors):
  wrong_target = np.array([[3, 5, 0, 0, 0, 0]])
  outputs = run(target=wrong_target, step_errors=step_errors)
  terms = loss_terms(outputs, wrong_target, MASK, eta_stop=0.9)
  assert float(terms["correctness"][0]) == pytest.approx(2.0)  # 1^2 + 1^2


def test_correctness_from_step_errors_is_the_final_memorys_error():
  outputs = run(sharpness=3.0, max_steps=3)
  terms = loss_terms(outputs, TARGET, MASK, eta_stop=0.9)
  final_memory = outputs["memory"].numpy()[0]
  expected = ((final_memory[1] - np.eye(6)[4]) ** 2).sum()
  assert float(terms["correctness"][0]) == pytest.approx(expected, rel=1e-6)


def test_confidence_weights_each_steps_error_by_its_halting_increment():
  outputs = run(sharpness=3.0)
  terms = loss_terms(outputs, TARGET, MASK, eta_stop=0.9)
  halting = outputs["halting_probabilities"].numpy()[0]
  trace = outputs["memory_trace"].numpy()[0]
  errors = ((trace[:, 1] - np.eye(6)[4]) ** 2).sum(axis=-1)
  increments = np.diff(np.concatenate([[0.0], halting]))
  assert float(terms["confidence"][0]) == pytest.approx(
      float((increments * errors).sum()), rel=1e-5)


def test_halting_penalty_applies_only_below_eta_stop():
  unfinished = loss_terms(run(max_steps=2), TARGET, MASK, eta_stop=0.9)
  assert float(unfinished["halting"][0]) == pytest.approx(1.0)


def test_total_weights_the_terms():
  terms = loss_terms(run(max_steps=2), TARGET, MASK, eta_stop=0.9)
  weights = LossWeights(correctness=2.0, confidence=0.0, efficiency=0.5,
                        halting=3.0)
  expected = (2.0 * terms["correctness"] + 0.5 * terms["efficiency"] +
              3.0 * terms["halting"])
  np.testing.assert_allclose(total_loss(terms, weights), expected)


def test_confidence_without_step_errors_is_an_error():
  program = lang.parse_program(PROGRAM, 6)
  outputs = SoftMachine.from_weights(compile_program(program), 10)(
      np.zeros([1, 6], np.int32))
  terms = loss_terms(outputs, TARGET, MASK, eta_stop=0.9)
  with pytest.raises(ValueError, match="error_target"):
    total_loss(terms, LossWeights(confidence=1.0))


def test_the_memory_errors_gradient_is_bit_for_bit_tensorflows_own():
  # memory_error broadcasts the upstream gradient where TF's Sum gradient
  # tiles it; the values must not change (the README's tables train with it).
  rng = np.random.default_rng(0)
  memory = tf.constant(rng.random([3, 4, 6, 6]), tf.float32)
  target_rows = tf.one_hot(rng.integers(0, 6, [3, 4, 6]), 6)
  mask = tf.constant(rng.random([3, 4, 6]) < 0.5, tf.float32)
  upstream = tf.constant(rng.normal(size=[3, 4]), tf.float32)

  def gradient(error):
    with tf.GradientTape() as tape:
      tape.watch(memory)
      loss = tf.reduce_sum(upstream * error(memory))
    return tape.gradient(loss, memory)

  def tensorflows_own(memory):
    cell_error = tf.reduce_sum(tf.square(memory - target_rows), axis=-1)
    return tf.reduce_sum(cell_error * mask, axis=-1)

  np.testing.assert_array_equal(
      memory_error(memory, target_rows, mask), tensorflows_own(memory))
  np.testing.assert_array_equal(
      gradient(lambda memory: memory_error(memory, target_rows, mask)),
      gradient(tensorflows_own))
