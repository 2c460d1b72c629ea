"""Each restart's training examples: a stream of draws of its own.

Step s gives restart k the examples at `indices(seed, k, s, ...)`:
`batch_size` draws with replacement, numpy's
`Generator(PCG64(SeedSequence([seed, k, s]))).integers(0, size,
batch_size)`. A pure function of (seed, restart, step), so that a resumed
run sees the batches an uninterrupted one does (`common.pipeline`), and
each restart's examples do not depend on how many restarts run beside it.

`in_graph` draws the same indices in TensorFlow, with the op library's
AncRestartIndices (numpy's generator in C++, bit for bit;
tests/test_restart_draws.py), when the library loads: numpy's draws, about
13 µs a restart and step, ran in the pipeline's thread holding Python's
lock beside the training loop (ListK with 100 restarts: 8.2 ms a step with
them, 6.6 ms with draws that cost nothing).
"""

from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from tf_anc import kernels

# The largest range AncRestartIndices draws from, as numpy does for ranges
# of 32 bits (numpy draws 64 bits at a time for larger ones).
_NATIVE_SIZES = 1 << 32


def indices(seed: int, restart: int, step: int, size: int,
            batch_size: int) -> np.ndarray:
  """`[batch_size]`: restart `restart`'s examples of `step`, drawn from
  `size` examples. np.random.default_rng's generator, built from its
  parts: the same draws in two thirds of the time."""
  return np.random.Generator(np.random.PCG64(np.random.SeedSequence(
      [seed, restart, step]))).integers(0, size, batch_size)


def step_indices(seed: int, restarts: int, step: int, size: int,
                 batch_size: int) -> np.ndarray:
  """`[restarts, batch_size]`: every restart's examples of `step`."""
  return np.stack([indices(seed, restart, step, size, batch_size)
                   for restart in range(restarts)])


def in_graph(seed: int, restarts: int, size: int, batch_size: int
             ) -> Optional[Callable[[tf.Tensor, tf.Tensor], tf.Tensor]]:
  """(first_step, num_steps) -> `[num_steps, restarts, batch_size]` int64,
  `step_indices` of those steps as a TensorFlow op; None where the op
  library does not load (or predates the op), or numpy would draw
  otherwise (a negative seed, which numpy refuses, or more than 2^32
  examples)."""
  library = kernels.load()
  if (library is None or not hasattr(library, "anc_restart_indices") or
      seed < 0 or size > _NATIVE_SIZES):
    return None

  def draw(first_step, num_steps):
    return library.anc_restart_indices(
        first_step, num_steps, seed=seed, restarts=restarts,
        batch_size=batch_size, size=size)

  return draw
