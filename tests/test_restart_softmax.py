"""tf_anc.kernels.restart_softmax: the fused machine's initial registers and
instruction register, each restart's softmax repeated for its examples,
held to the TensorFlow ops it replaces."""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import kernels
from tf_anc.machine import fused

requires_library = pytest.mark.skipif(
    not fused.fused_available(),
    reason="the fused op library is not built (python -m tf_anc.kernels.build)")

pytestmark = requires_library


def reference(logits, examples_per_restart):
  """The TF ops: softmax over the last axis, repeated per example."""
  values = tf.nn.softmax(logits, axis=-1)
  repeated = tf.repeat(values, examples_per_restart, axis=0)
  return repeated


def random_logits(*shape, seed=0):
  return tf.constant(np.random.default_rng(seed).normal(0, 3, shape),
                     tf.float32)


@pytest.mark.parametrize("shape", [(3, 5, 7), (2, 20), (1, 1, 1), (4, 2, 3, 6)])
def test_each_example_gets_its_restarts_softmax(shape):
  logits = random_logits(*shape)
  np.testing.assert_allclose(kernels.restart_softmax(logits, 4),
                             reference(logits, 4), rtol=1e-6, atol=1e-7)


def test_the_output_shape_is_known_when_the_examples_are():
  @tf.function(input_signature=[tf.TensorSpec([3, 7, 20], tf.float32)])
  def values(logits):
    return kernels.restart_softmax(logits, 5)

  assert values.get_concrete_function().output_shapes == [15, 7, 20]


def test_gradient_is_the_softmax_gradient_summed_over_each_restarts_examples():
  logits = random_logits(3, 5, 7)
  upstream = random_logits(12, 5, 7, seed=1)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(logits)
    fused_loss = tf.reduce_sum(kernels.restart_softmax(logits, 4) * upstream)
    reference_loss = tf.reduce_sum(reference(logits, 4) * upstream)
  np.testing.assert_allclose(tape.gradient(fused_loss, logits),
                             tape.gradient(reference_loss, logits),
                             rtol=1e-5, atol=1e-6)


def test_gradient_matches_finite_differences():
  logits = tf.constant(np.random.default_rng(2).normal(0, 1, (2, 3, 4)),
                       tf.float64)

  def weighted(x):
    values = kernels.restart_softmax(tf.cast(x, tf.float32), 3)
    weights = tf.constant(np.random.default_rng(3).random((6, 3, 4)),
                          tf.float32)
    return tf.cast(tf.reduce_sum(values * weights), tf.float64)

  # The op is float32: a wide step keeps rounding out of the differences.
  analytic, numeric = tf.test.compute_gradient(weighted, [logits], delta=1e-2)
  np.testing.assert_allclose(analytic[0], numeric[0], atol=1e-3)


def test_no_examples_give_an_empty_output_and_a_zero_gradient():
  logits = random_logits(3, 4)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    values = kernels.restart_softmax(logits, 0)
    loss = tf.reduce_sum(values)
  assert values.shape == (0, 4)
  np.testing.assert_array_equal(tape.gradient(loss, logits),
                                np.zeros((3, 4)))


def test_logits_need_a_restarts_axis_and_a_last_axis():
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError),
                     match="rank|K, ..., N"):
    kernels.restart_softmax(tf.zeros([5]), 2)


def test_a_negative_example_count_is_refused():
  with pytest.raises(tf.errors.InvalidArgumentError, match=">= 0"):
    kernels.restart_softmax(tf.zeros([2, 5]), -1)


def test_a_negative_example_count_is_refused_when_traced():
  @tf.function
  def values():
    return kernels.restart_softmax(tf.zeros([2, 5]), -3)

  with pytest.raises((ValueError, tf.errors.InvalidArgumentError),
                     match=">= 0"):
    values()


def test_a_gradient_that_is_not_whole_examples_is_refused():
  with pytest.raises(tf.errors.InvalidArgumentError, match="K \\* E"):
    kernels.load().anc_restart_softmax_grad(tf.zeros([2, 5]),
                                            tf.zeros([3, 5]))
