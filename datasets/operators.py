"""Handwriting-like images of the four arithmetic operators, and a loader.

The operator classes, in this order (the class ids of the NTPT tasks):

    0 plus (+), 1 minus (−), 2 times (×), 3 divide (÷)

The paper's 800 hand-drawn operator symbols are not public, so by default
`draw_operator` generates them: each image is the operator's strokes, first
varied like a hand would vary them (arm lengths, where the strokes cross,
their tilt, the dots' size and place) and then jittered and rendered by
`glyphs.draw` (vertex wobble, elastic bending, rotation, scale, shift,
stroke thickness, pixel noise): float32[28, 28] in [0, 1], ink bright on
dark like MNIST. ÷ is a bar with a dot above and one below.

`load_operator_images(split, count, seed)` draws a labelled set
deterministically; its train and test splits come from different generator
streams (`np.random.default_rng([seed, 0])` and `([seed, 1])`), so they
never share an image. `load_directory(path)` reads real images instead,
from `<path>/<class>/*.png` with class one of `plus minus times divide`.
"""

import os
from typing import List, Tuple

import numpy as np

from tf_anc_datasets import glyphs

PLUS, MINUS, TIMES, DIVIDE = range(4)
NUM_OPERATORS = 4
OPERATOR_NAMES = ("plus", "minus", "times", "divide")  # Directory names.
OPERATOR_SYMBOLS = ("+", "−", "×", "÷")
IMAGE_SIZE = glyphs.IMAGE_SIZE

TRAIN = "train"
TEST = "test"
SPLITS = (TRAIN, TEST)


def _dot(centre: np.ndarray, radius: float) -> np.ndarray:
  """A small filled-looking blob: a closed hexagon around `centre`."""
  angles = np.linspace(0, 2 * np.pi, 7)
  return centre + radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def operator_strokes(op: int, rng: np.random.Generator) -> List[np.ndarray]:
  """The strokes of operator `op` in the unit box, varied from `rng`.

  Before `glyphs.draw`'s jitter: the arms' lengths, the crossing point, the
  bar's tilt and the dots' size and distance vary per drawing.
  """
  if op not in range(NUM_OPERATORS):
    raise ValueError(f"unknown operator {op!r}; the operators are 0..3 "
                     f"({', '.join(OPERATOR_NAMES)})")
  centre = 0.5 + rng.uniform(-0.03, 0.03, size=2)

  def bar(half_length: float, tilt: float) -> np.ndarray:
    """A near-horizontal stroke through `centre`, drawn left to right."""
    direction = np.array([np.cos(tilt), np.sin(tilt)])
    return np.stack([centre - half_length * direction,
                     centre + half_length * direction])

  def arm_pair(angle: float) -> np.ndarray:
    """A stroke through `centre` at `angle`, its halves of random lengths."""
    direction = np.array([np.cos(angle), np.sin(angle)])
    before, after = rng.uniform(0.22, 0.32, size=2)
    return np.stack([centre - before * direction, centre + after * direction])

  def tilt() -> float:
    return np.deg2rad(rng.uniform(-5, 5))

  if op == PLUS:
    return [arm_pair(np.pi / 2 + tilt()), arm_pair(tilt())]
  if op == MINUS:
    return [bar(rng.uniform(0.22, 0.33), tilt())]
  if op == TIMES:
    return [arm_pair(np.pi / 4 + tilt()), arm_pair(3 * np.pi / 4 + tilt())]
  # DIVIDE: a bar, a dot above and a dot below.
  strokes = [bar(rng.uniform(0.2, 0.3), tilt())]
  for side in (-1, 1):
    offset = np.array([rng.uniform(-0.03, 0.03),
                       side * rng.uniform(0.16, 0.22)])
    strokes.append(_dot(centre + offset, rng.uniform(0.015, 0.035)))
  return strokes


def draw_operator(op: int, rng: np.random.Generator) -> np.ndarray:
  """A handwriting-like image of operator `op`: float32[28, 28] in [0, 1].

  Draws from `rng`, so successive calls give different images.
  """
  return glyphs.draw(operator_strokes(op, rng), rng)


def split_rng(split: str, seed: int) -> np.random.Generator:
  """The generator of `split`: `np.random.default_rng([seed, 0 or 1])`."""
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; the splits are "
                     f"{', '.join(SPLITS)}")
  return np.random.default_rng([seed, SPLITS.index(split)])


def load_operator_images(split: str, count: int,
                         seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
  """`count` generated operator images: (float32[count, 28, 28], int32[count]).

  The labels cycle through 0, 1, 2, 3 (balanced), each image drawn in turn
  from `split_rng(split, seed)`; the same arguments give the same arrays,
  and a smaller count gives a prefix.
  """
  if count < 0:
    raise ValueError(f"count must be non-negative, got {count}")
  rng = split_rng(split, seed)
  labels = (np.arange(count) % NUM_OPERATORS).astype(np.int32)
  images = np.zeros((count, IMAGE_SIZE, IMAGE_SIZE), np.float32)
  for index, label in enumerate(labels):
    images[index] = draw_operator(int(label), rng)
  return images, labels


def _to_ink_image(png: bytes):
  """A PNG as float32[28, 28] in [0, 1], ink bright on a dark background."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  # As RGBA (grey and RGB images get an opaque alpha), laid over white paper.
  rgba = tf.cast(tf.io.decode_png(png, channels=4), tf.float32) / 255.0
  alpha = rgba[..., 3:]
  grey = tf.image.rgb_to_grayscale(rgba[..., :3] * alpha + (1.0 - alpha))
  border = tf.concat([grey[0, :, 0], grey[-1, :, 0], grey[:, 0, 0],
                      grey[:, -1, 0]], axis=0)
  if float(tf.reduce_mean(border)) > 0.5:  # Dark ink on light paper.
    grey = 1.0 - grey
  # Pads (with the dark background) to keep the aspect ratio.
  resized = tf.image.resize_with_pad(grey, IMAGE_SIZE, IMAGE_SIZE,
                                     antialias=True)
  return np.clip(resized.numpy()[..., 0], 0.0, 1.0).astype(np.float32)


def load_directory(path: str) -> Tuple[np.ndarray, np.ndarray]:
  """Real operator images from `<path>/<class>/*.png`: (images, labels).

  `class` is one of `plus minus times divide` (class ids 0..3); missing
  class directories are allowed. Each image is converted to grayscale
  (transparent pixels count as white paper), flipped to bright ink on a
  dark background if its border is mostly light, and resized (keeping its
  aspect ratio, padded) to 28x28. Returns float32[N, 28, 28] in [0, 1] and
  int32[N], in class order and then file-name order.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if not tf.io.gfile.isdir(path):
    raise FileNotFoundError(f"no directory {path!r}")
  images, labels = [], []
  for label, name in enumerate(OPERATOR_NAMES):
    class_dir = os.path.join(path, name)
    if not tf.io.gfile.isdir(class_dir):
      continue
    for file_name in sorted(tf.io.gfile.listdir(class_dir)):
      if not file_name.lower().endswith(".png"):
        continue
      with tf.io.gfile.GFile(os.path.join(class_dir, file_name), "rb") as file:
        images.append(_to_ink_image(file.read()))
      labels.append(label)
  if not images:
    raise ValueError(f"no PNG images under {path!r} in any of "
                     f"{', '.join(n + '/' for n in OPERATOR_NAMES)}")
  return np.stack(images), np.asarray(labels, np.int32)
