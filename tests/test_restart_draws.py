"""tf_anc.training.restart_draws: each restart's training indices, numpy's
draws, and the native op that makes them bit for bit."""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import kernels
from tf_anc.machine import fused
from tf_anc.training import restart_draws

requires_library = pytest.mark.skipif(
    not fused.fused_available(),
    reason="the fused op library is not built (python -m tf_anc.kernels.build)")


def test_a_restarts_draws_are_numpys_default_generator_seeded_by_seed_restart_and_step():
  np.testing.assert_array_equal(
      restart_draws.indices(1000, 3, 17, 50000, 5),
      np.random.default_rng([1000, 3, 17]).integers(0, 50000, 5))


def test_step_indices_hold_each_restarts_own_draws():
  drawn = restart_draws.step_indices(7, 4, 2, 30, 6)
  assert drawn.shape == (4, 6)
  for restart in range(4):
    np.testing.assert_array_equal(drawn[restart],
                                  restart_draws.indices(7, restart, 2, 30, 6))


# (seed, size, batch size, first step): seeds and steps of one and of two
# 32-bit words, ranges of one value, of 2^32 values and ones where numpy's
# draw rejects often (just over 2^31).
NATIVE_CASES = [
    (1000, 50000, 5, 0), (0, 10, 20, 123), (2**40 + 5, 3, 9, 7),
    (7, 2**31 + 7, 30, 2**33), (1, 1, 4, 0), (3, 2**32, 8, 5),
    (2**63 - 1, 1000, 3, 2**62)]


@requires_library
@pytest.mark.parametrize("seed,size,batch_size,first_step", NATIVE_CASES)
def test_the_native_draws_are_numpys_bit_for_bit(seed, size, batch_size,
                                                  first_step):
  draw = restart_draws.in_graph(seed, 5, size, batch_size)
  native = draw(tf.constant(first_step, tf.int64), tf.constant(3, tf.int64))
  assert native.dtype == tf.int64
  np.testing.assert_array_equal(
      native, [restart_draws.step_indices(seed, 5, step, size, batch_size)
               for step in range(first_step, first_step + 3)])


def test_numpy_draws_where_the_native_op_would_not():
  # numpy refuses a negative seed, and draws 64 bits at a time past 2^32.
  assert restart_draws.in_graph(-1, 5, 100, 3) is None
  assert restart_draws.in_graph(0, 5, 2**32 + 1, 3) is None


@requires_library
def test_the_native_draws_refuse_a_negative_step():
  with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
    kernels.load().anc_restart_indices(
        tf.constant(-1, tf.int64), tf.constant(2, tf.int64), seed=0,
        restarts=1, batch_size=1, size=10)
