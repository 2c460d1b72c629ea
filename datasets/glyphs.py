"""Handwriting-like glyphs rasterised from strokes, in plain numpy.

A glyph is a list of strokes, each a `[n, 2]` array of (x, y) points in the
unit box: x grows to the right, y grows downwards (image coordinates), and
the box covers the whole image, (0, 0) being the top-left corner of the
top-left pixel. A stroke is the polyline through its points; a stroke of one
point is a dot. Keep glyphs inside about [0.15, 0.85]^2, the margin leaving
room for the jitter (like MNIST's 20x20 digits in 28x28 images).

`render` draws strokes as anti-aliased lines of a given thickness; `draw`
first jitters them the way a hand would (`Jitter`: vertex wobble, a smooth
elastic distortion, rotation, scale, shift, stroke thickness) and then adds
light noise, so that every call with a new generator state gives another
image of the same glyph:

    rng = np.random.default_rng(0)
    plus = [np.array([[0.5, 0.2], [0.5, 0.8]]),
            np.array([[0.2, 0.5], [0.8, 0.5]])]
    image = glyphs.draw(plus, rng)  # float32[28, 28] in [0, 1]
"""

import dataclasses
from typing import List, Sequence, Tuple

import numpy as np

IMAGE_SIZE = 28

Stroke = np.ndarray  # [n, 2] float (x, y) points in the unit box.


@dataclasses.dataclass(frozen=True)
class Jitter:
  """How much `draw` perturbs a glyph; every amount is drawn independently.

  Attributes:
    thickness_px: the stroke thickness in pixels, uniform in this range.
    rotation_deg: the rotation about the box centre, uniform in
      [-rotation_deg, rotation_deg] degrees.
    scale: the scaling about the box centre, uniform in this range.
    shift_px: the translation of each axis, uniform in
      [-shift_px, shift_px] pixels.
    vertex_wobble: the standard deviation of independent Gaussian offsets
      of the strokes' given points, in box units.
    elastic: the amplitude, in box units, of a smooth random displacement
      field (a sum of a few long-wave sinusoids) that bends the strokes.
    noise: the standard deviation of additive Gaussian pixel noise.
  """
  thickness_px: Tuple[float, float] = (1.6, 3.0)
  rotation_deg: float = 6.0
  scale: Tuple[float, float] = (0.85, 1.1)
  shift_px: float = 2.0
  vertex_wobble: float = 0.015
  elastic: float = 0.025
  noise: float = 0.04


NO_JITTER = Jitter(thickness_px=(2.2, 2.2), rotation_deg=0.0,
                   scale=(1.0, 1.0), shift_px=0.0, vertex_wobble=0.0,
                   elastic=0.0, noise=0.0)


def _segments(strokes: Sequence[Stroke]) -> Tuple[np.ndarray, np.ndarray]:
  """The strokes' segments as (starts, ends), each `[num_segments, 2]`."""
  starts, ends = [], []
  for stroke in strokes:
    points = np.asarray(stroke, np.float64).reshape(-1, 2)
    if len(points) == 1:  # A dot: a segment of length zero.
      starts.append(points)
      ends.append(points)
    else:
      starts.append(points[:-1])
      ends.append(points[1:])
  return np.concatenate(starts), np.concatenate(ends)


def _squared_distances(pixel_x: np.ndarray, pixel_y: np.ndarray,
                       starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
  """[S, P]: from each of P pixel centres to each of S segments, squared."""
  start_x, start_y = starts[:, :1], starts[:, 1:]  # [S, 1] each.
  along_x, along_y = ends[:, :1] - start_x, ends[:, 1:] - start_y
  length_squared = np.maximum(along_x**2 + along_y**2, 1e-12)
  offset_x, offset_y = pixel_x - start_x, pixel_y - start_y  # [S, P] each.
  # The fraction of the way along each segment of its point closest to each
  # pixel centre.
  fraction = np.clip((offset_x * along_x + offset_y * along_y)
                     / length_squared, 0.0, 1.0)
  return ((offset_x - fraction * along_x)**2
          + (offset_y - fraction * along_y)**2)


def render(strokes: Sequence[Stroke], thickness_px: float = 2.2,
           size: int = IMAGE_SIZE) -> np.ndarray:
  """The strokes drawn as anti-aliased lines: float32[size, size] in [0, 1].

  A pixel's ink falls linearly from 1 to 0 over the pixel around the line's
  edge, i.e. with the distance from its centre to the nearest segment.
  """
  starts, ends = (points.astype(np.float32) for points in _segments(strokes))
  centres = (np.arange(size, dtype=np.float32) + 0.5) / size
  columns, rows = np.meshgrid(centres, centres)
  pixel_x, pixel_y = columns.ravel(), rows.ravel()
  # 16 segments at a time: with larger [S, P] temporaries glibc's malloc
  # gives their memory back to the system and faults it in again on every
  # call, which makes rendering two to three times slower.
  squared = np.full(size * size, np.inf, np.float32)
  for first in range(0, len(starts), 16):
    chunk = slice(first, first + 16)
    squared = np.minimum(squared, _squared_distances(
        pixel_x, pixel_y, starts[chunk], ends[chunk]).min(axis=0))
  distance_px = np.sqrt(squared) * size
  ink = np.clip(thickness_px / 2 + 0.5 - distance_px, 0.0, 1.0)
  return ink.reshape(size, size)


def _densify(points: np.ndarray, spacing: float) -> np.ndarray:
  """The polyline with points added so that none are over `spacing` apart."""
  if len(points) < 2:
    return points
  dense = [points[:1]]
  for start, end in zip(points[:-1], points[1:]):
    pieces = max(1, int(np.ceil(np.linalg.norm(end - start) / spacing)))
    steps = np.arange(1, pieces + 1)[:, None] / pieces
    dense.append(start + steps * (end - start))
  return np.concatenate(dense)


def jitter_strokes(strokes: Sequence[Stroke], rng: np.random.Generator,
                   jitter: Jitter = Jitter(),
                   size: int = IMAGE_SIZE) -> List[np.ndarray]:
  """The strokes as a hand might draw them (everything but thickness, noise).

  In order: each given point moves by `vertex_wobble`; the strokes are
  subdivided so that they can bend, and bent by a smooth random displacement
  field of amplitude `elastic`; then the whole glyph is rotated and scaled
  about the box centre and shifted (`size` converts `shift_px` to box units).
  """
  angle = np.deg2rad(rng.uniform(-jitter.rotation_deg, jitter.rotation_deg))
  scale = rng.uniform(*jitter.scale)
  cos, sin = np.cos(angle), np.sin(angle)
  # Row-vector points times this: scale, then rotate.
  linear = scale * np.array([[cos, sin], [-sin, cos]])
  shift = rng.uniform(-jitter.shift_px, jitter.shift_px, size=2) / size
  # The displacement field: per axis, three waves of 0.5 to 1.5 cycles per
  # box in random directions and phases.
  wave_directions = rng.uniform(0, 2 * np.pi, size=(2, 3))
  frequencies = rng.uniform(0.5, 1.5, size=(2, 3, 1)) * np.stack(
      [np.cos(wave_directions), np.sin(wave_directions)],
      axis=-1)  # [axis, wave, 2]
  phases = rng.uniform(0, 2 * np.pi, size=(2, 3))
  amplitude = jitter.elastic / np.sqrt(3)

  centre = np.array([0.5, 0.5])
  result = []
  for stroke in strokes:
    points = np.asarray(stroke, np.float64).reshape(-1, 2)
    points = points + rng.normal(0.0, jitter.vertex_wobble, points.shape)
    points = _densify(points, spacing=0.06)
    waves = 2 * np.pi * np.einsum("pd,awd->paw", points, frequencies) + phases
    points = points + amplitude * np.sin(waves).sum(axis=-1)  # [p, axis]
    result.append((points - centre) @ linear + centre + shift)
  return result


def draw(strokes: Sequence[Stroke], rng: np.random.Generator,
         jitter: Jitter = Jitter(), size: int = IMAGE_SIZE) -> np.ndarray:
  """A jittered, noisy rendering of the glyph: float32[size, size] in [0, 1].

  Draws from `rng` (see `Jitter` for what varies), so successive calls give
  different images; `jitter=NO_JITTER` gives the clean `render`.
  """
  thickness_px = rng.uniform(*jitter.thickness_px)
  image = render(jitter_strokes(strokes, rng, jitter, size), thickness_px,
                 size)
  if jitter.noise > 0:
    image = image + rng.normal(0.0, jitter.noise, image.shape)
  return np.clip(image, 0.0, 1.0).astype(np.float32)
