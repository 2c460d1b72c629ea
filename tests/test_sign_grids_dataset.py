"""The `sign_grids` tfds builder: street-sign maze grids, generated offline."""

import itertools
import socket

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import tf_anc_datasets  # Registers `sign_grids`.
from tf_anc_datasets import images
from tf_anc_datasets import sign_grids

SMALL = "maze_5x3_small"
NUM_CHECKED = 100  # Examples of a split where the count does not matter.


@pytest.fixture
def offline(monkeypatch):
  """Any attempt to open a network connection fails the test."""

  def refuse(*args, **kwargs):
    raise AssertionError(f"network access attempted: {args} {kwargs}")

  monkeypatch.setattr(socket.socket, "connect", refuse)
  monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def train_examples():
  return list(itertools.islice(sign_grids.generate(SMALL, "train"),
                               NUM_CHECKED))


def _walk(example):
  """The cells visited by following the signs from the start, in order.

  Stops on the first stop sign or after as many moves as there are cells.
  """
  height, width = example["signs"].shape
  x, y = int(example["init_X"]), int(example["init_Y"])
  cells = [(x, y)]
  while example["signs"][y, x] != sign_grids.STOP and len(cells) <= (
      width * height):
    x, y = sign_grids.move(x, y, example["signs"][y, x], width, height)
    cells.append((x, y))
  return cells


def test_importing_the_package_registers_the_builder():
  assert "sign_grids" in tfds.list_builders()
  assert tf_anc_datasets.sign_grids.SignGrids.name == "sign_grids"
  assert set(sign_grids.SignGrids.builder_configs) == {"maze_5x3", SMALL}


def test_following_the_signs_reaches_the_final_cell_in_path_len_moves(
    train_examples):
  for example in train_examples:
    cells = _walk(example)
    x, y = cells[-1]
    assert len(cells) - 1 == example["path_len"]
    assert (x, y) == (example["final_X"], example["final_Y"])
    assert example["signs"][y, x] == sign_grids.STOP
    assert example["is_halted_at_end"] == 1


def test_the_path_never_revisits_a_cell(train_examples):
  for example in train_examples:
    cells = _walk(example)
    assert len(set(cells)) == len(cells)


def test_path_lengths_cover_zero_to_max_moves(train_examples):
  lengths = {int(example["path_len"]) for example in train_examples}
  assert lengths == set(range(13))


def test_moves_wrap_around_like_the_models_move_x_and_move_y():
  assert sign_grids.move(4, 0, sign_grids.EAST, 5, 3) == (0, 0)
  assert sign_grids.move(0, 0, sign_grids.WEST, 5, 3) == (4, 0)
  assert sign_grids.move(2, 0, sign_grids.NORTH, 5, 3) == (2, 2)
  assert sign_grids.move(2, 2, sign_grids.SOUTH, 5, 3) == (2, 0)
  assert sign_grids.move(2, 1, sign_grids.STOP, 5, 3) == (2, 1)


def test_generation_is_deterministic_for_a_seed():
  first, second = (list(itertools.islice(sign_grids.generate(SMALL, "test"),
                                         5)) for _ in range(2))
  for a, b in zip(first, second):
    assert a.keys() == b.keys()
    for key in a:
      np.testing.assert_array_equal(a[key], b[key])


def test_train_and_test_images_differ(train_examples):
  test = list(itertools.islice(sign_grids.generate(SMALL, "test"), 20))
  train_images = np.concatenate(
      [example["img_grid"].reshape(-1, 28 * 28)
       for example in train_examples[:20]]) / 255.0
  test_images = np.concatenate(
      [example["img_grid"].reshape(-1, 28 * 28) for example in test]) / 255.0
  # No test image is (close to) any train image.
  squared_distances = ((test_images**2).sum(1)[:, None]
                       + (train_images**2).sum(1)[None]
                       - 2 * test_images @ train_images.T)
  assert squared_distances.min() > 1.0


def test_every_drawn_sign_is_a_different_image():
  rng = np.random.default_rng(0)
  images = [sign_grids.draw_sign(sign_grids.EAST, rng) for _ in range(10)]
  assert len({image.tobytes() for image in images}) == 10
  for image in images:
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_a_nearest_class_mean_classifier_tells_the_five_signs_apart():
  rng = np.random.default_rng(0)

  def drawn(count):
    labels = rng.integers(sign_grids.NUM_SIGNS, size=count)
    images = np.stack([sign_grids.draw_sign(label, rng).ravel()
                       for label in labels])
    return images, labels

  train_images, train_labels = drawn(500)
  test_images, test_labels = drawn(500)
  means = np.stack([train_images[train_labels == sign].mean(axis=0)
                    for sign in range(sign_grids.NUM_SIGNS)])
  predicted = np.argmin(
      ((test_images[:, None] - means[None]) ** 2).sum(-1), axis=1)
  assert np.mean(predicted == test_labels) > 0.9


def test_tfds_builds_the_small_config_offline_with_the_right_features(
    tmp_path, offline):
  builder = sign_grids.builder(SMALL, data_dir=str(tmp_path))
  assert builder.info.splits["train"].num_examples == 200
  assert builder.info.splits["test"].num_examples == 200
  dataset = builder.as_dataset(split="test", shuffle_files=False)
  scalar = tf.TensorSpec(shape=(), dtype=tf.int32)
  assert dataset.element_spec == {
      "img_grid": tf.TensorSpec(shape=(3, 5, 28, 28), dtype=tf.uint8),
      "init_X": scalar, "init_Y": scalar, "final_X": scalar,
      "final_Y": scalar, "path_len": scalar, "is_halted_at_end": scalar,
      "signs": tf.TensorSpec(shape=(3, 5), dtype=tf.int32)}
  # The stored examples are `generate`'s, in its order.
  stored = list(tfds.as_numpy(dataset.take(3)))
  for got, want in zip(stored, sign_grids.generate(SMALL, "test")):
    for key in want:
      np.testing.assert_array_equal(got[key], want[key])


def test_load_num_examples_gives_the_first_examples_of_the_config(tmp_path):
  dataset = sign_grids.load(SMALL, "train", data_dir=str(tmp_path),
                            num_examples=4)
  stored = list(tfds.as_numpy(dataset))
  assert len(stored) == 4
  for got, want in zip(stored, sign_grids.generate(SMALL, "train")):
    np.testing.assert_array_equal(got["img_grid"], want["img_grid"])


def test_configs_reject_paths_longer_than_the_grid_allows():
  with pytest.raises(ValueError, match="max_moves must be in"):
    sign_grids.SignGridsConfig(name="too_long", width=2, height=2,
                               max_moves=4)


def test_images_are_stored_as_uint8_within_half_a_grey_level_of_the_drawing(
    monkeypatch):
  stored = list(itertools.islice(sign_grids.generate(SMALL, "test"), 3))
  monkeypatch.setattr(images, "to_uint8", lambda drawn: drawn)
  drawn = list(itertools.islice(sign_grids.generate(SMALL, "test"), 3))
  for example, drawing in zip(stored, drawn):
    assert example["img_grid"].dtype == np.uint8
    assert drawing["img_grid"].dtype == np.float32
    read = tf.image.convert_image_dtype(example["img_grid"], tf.float32)
    assert np.abs(read.numpy() - drawing["img_grid"]).max() <= (
        0.5 / 255 + 1e-6)
