"""Training batches as a `tf.data` pipeline, each a pure function of its step.

Every trainer reads its training split once from its tfds builder into
memory, one tensor per feature (`in_memory`: the splits are thousands of
small examples), and draws each step's batch from it with `drawn_batches`:

    steps s, s+1, ... -> each step's indices (`draw(step)`, numpy)
                      -> the examples at those indices (`tf.gather`)
                      -> one batch per step, prefetched (two draws ahead)

`draw` seeds its own generator from (seed, step) (and the restart, where
every restart has a stream of its own), so the batches do not depend on how
many steps ran before: a run resumed at step s builds the pipeline from s
and sees exactly the batches an uninterrupted run sees from s on, with no
iterator state in the checkpoint. The pipeline draws and gathers the next
batches while the current step trains.
"""

from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

# More examples than any split has: `in_memory` takes a split in one batch.
_WHOLE_SPLIT = 1 << 30
# Steps drawn per call into numpy: one call per step costs more than the
# draw itself (measured on ListK's 20 restarts).
_STEPS_PER_DRAW = 32


def in_memory(dataset: tf.data.Dataset):
  """A finite dataset's examples as one structure of `[N, ...]` tensors."""
  return dataset.batch(_WHOLE_SPLIT).get_single_element()


def drawn_batches(examples, draw: Callable[[int], np.ndarray],
                  start_step: int, num_steps: int,
                  indices_shape: Optional[Sequence[int]] = None,
                  graph_draw: Optional[Callable[[tf.Tensor, tf.Tensor],
                                                tf.Tensor]] = None
                  ) -> tf.data.Dataset:
  """The batches of steps `start_step` to `num_steps - 1`, in order.

  Args:
    examples: a structure (e.g. a dict) of `[N, ...]` tensors or arrays.
    draw: step -> the indices of its examples, an int array of any shape
      (e.g. `[K, B]` for K restarts of B examples each). Must depend on the
      step alone.
    start_step: the first step (the step a resumed run restored).
    num_steps: one past the last step.
    indices_shape: the shape `draw` always returns, if fixed: the batches
      then have static shapes (`[K, B, ...]`) and are drawn
      `_STEPS_PER_DRAW` steps at a time (else one step at a time).
    graph_draw: `draw`'s indices as TensorFlow ops, if there are such:
      (first step, number of steps) -> `[steps, *indices_shape]`. The
      pipeline then runs no Python, which would hold Python's lock beside
      the training loop. Needs `indices_shape`.

  Returns:
    A dataset of `examples`-shaped structures, `[*indices.shape, ...]`
    tensors gathered at `draw(step)` for each step.
  """
  if graph_draw is not None and indices_shape is None:
    raise ValueError("graph_draw needs indices_shape")
  # Tensors, so that the pipeline captures them rather than embedding
  # numpy arrays in its graph as constants.
  examples = tf.nest.map_structure(tf.convert_to_tensor, examples)
  steps_per_draw = 1 if indices_shape is None else _STEPS_PER_DRAW

  def indices(first_step):
    steps = range(int(first_step),
                  min(int(first_step) + steps_per_draw, num_steps))
    return np.stack([np.asarray(draw(step), dtype=np.int64)
                     for step in steps])

  def gather(first_step):
    if graph_draw is not None:
      chosen = graph_draw(first_step,
                          tf.minimum(first_step + steps_per_draw, num_steps) -
                          first_step)
    else:
      chosen = tf.numpy_function(indices, [first_step], tf.int64,
                                 stateful=False)
    if indices_shape is not None:
      chosen.set_shape((None, *indices_shape))
    return tf.nest.map_structure(lambda values: tf.gather(values, chosen),
                                 examples)

  # A fixed buffer, tf.data's autotuning off: its model thread kept a
  # finished loop's iterator from closing for up to a minute (seen after
  # ListK's 6,000 steps, 50-56 s), and two draws ahead keep the steps fed.
  options = tf.data.Options()
  options.autotune.enabled = False
  return (tf.data.Dataset.range(start_step, num_steps, steps_per_draw)
          .map(gather).unbatch().prefetch(2 * steps_per_draw)
          .with_options(options))
