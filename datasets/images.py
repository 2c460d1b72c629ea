"""How the tfds builders store images: uint8, a quarter of float32's size.

The images are drawn (or read) as float32 intensities in [0, 1] and stored
as `to_uint8` of them, the nearest of 256 grey levels. A reader gets float32
intensities back with `tf.image.convert_image_dtype(images, tf.float32)`
(x / 255: within half a grey level of the drawn image, and exactly an
8-bit source's value, e.g. MNIST's).
"""

import numpy as np


def to_uint8(images: np.ndarray) -> np.ndarray:
  """Intensities in [0, 1] as the nearest of the grey levels 0 ... 255."""
  return np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)
