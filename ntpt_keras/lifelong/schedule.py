"""The lifelong schedule: a time-varying distribution over the tasks.

Training is a sequence of batches, each of one task. The lifetime of
`total_examples` is cut into one segment per task, in task order; task i is
presented in a window one segment wide on either side of its segment's
middle, with a weight that falls off linearly from there:

  weight_i(s) = max(0, 1 - |s - (i + 1/2)|),  s = example / segment length.

So each task in turn is dominant (during its own segment), shares the
batches with its neighbours as it comes and goes, and is never presented
again after it: the first task's last batch is at 1.5 segments, so its
accuracy afterwards shows reverse transfer or forgetting (paper, Figure 6).
The task of every step is a pure function of (seed, step), so a resumed run
sees the batches an uninterrupted one would have.
"""

from typing import Sequence, Tuple

import numpy as np


class Schedule:
  """Which task each training step presents, and which examples."""

  def __init__(self, tasks: Sequence[str], total_examples: int,
               batch_size: int, seed: int = 0):
    if total_examples < batch_size:
      raise ValueError(f"a lifetime of {total_examples} examples is shorter "
                       f"than one batch of {batch_size}")
    self.tasks = tuple(tasks)
    self.batch_size = batch_size
    self.seed = seed
    self.num_steps = total_examples // batch_size
    self.total_examples = self.num_steps * batch_size
    self._segment = self.total_examples / len(self.tasks)

  def weights(self, example: float) -> np.ndarray:
    """Each task's probability at `example` (examples seen so far)."""
    position = example / self._segment
    centres = np.arange(len(self.tasks)) + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(position - centres))
    return weights / weights.sum()

  def step(self, step: int, num_train: int) -> Tuple[int, np.ndarray]:
    """The task of `step` and the indices of its batch in that task's
    `num_train` training examples."""
    rng = np.random.default_rng([self.seed, step])
    task = int(rng.choice(len(self.tasks),
                          p=self.weights(step * self.batch_size)))
    return task, rng.integers(0, num_train, self.batch_size)

  def presented(self, task: int) -> Tuple[float, float]:
    """The first and last example at which `task` has a positive weight."""
    first = max(0.0, (task - 0.5) * self._segment)
    last = min(self.total_examples, (task + 1.5) * self._segment)
    return first, last
