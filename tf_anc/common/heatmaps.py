"""Learned distributions as labelled heatmaps in TensorBoard's Images tab.

A restart's program is rows of distributions: an ANC controller's four
matrices (the paper's Figure 2c: a row per program line, a column per
instruction or register), an NTPT model's params (a row per cell, a column
per value). `write` draws such panels side by side in one figure, with
their row and column labels, a colour bar and a title, and writes it with
`tf.summary.image` at a step, so that TensorBoard's slider shows the program
forming over training.

The figures are drawn with matplotlib's Agg renderer, imported on first use
(the optional `plots` extra). Without it a run logs one line, once, and
writes no images: they are never a reason for a run to fail.
"""

import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tf_anc.common import plots

DPI = 100
CELL_INCHES = 0.28  # a matrix entry's side
MIN_WIDTH_INCHES = 4.0  # 400 pixels at DPI
COLOR_MAP = "Blues"  # white: improbable, dark: likely, as in Figure 2c
_LABEL_POINTS = 7
_TITLE_POINTS = 9
_CHARACTER_INCHES = 0.06  # a label character's width, about, at 7 points
_MARGIN = 0.15
_TITLES_INCHES = 0.75  # the figure's title and the panels' (two lines)
_COLOUR_BAR_INCHES = 0.9  # the bar, its ticks and its label

# Has this process said that matplotlib is missing?
_missing_logged = False

# The figures `write` keeps to redraw, by tag (a few MB each): a run's
# imaged restarts, and a few more.
_KEPT_DRAWINGS = 16
_drawings = {}


@dataclasses.dataclass(frozen=True)
class Panel:
  """One matrix of distributions: `probabilities[row]` is a distribution
  over the columns."""
  title: str
  probabilities: np.ndarray  # [rows, columns], in [0, 1]
  row_labels: Sequence[str]
  column_labels: Sequence[str]


class Drawing:
  """Panels drawn once, with their labels, colour bar and title; `redraw`
  draws new values and a new title over the kept labels.

  Matplotlib spends most of a figure's time on its tick labels. Between
  two summaries of one run only the probabilities and the title change
  (and, now and then, a row's most likely statement): so the labels,
  axes and colour bar are drawn once into a kept background, and each
  image is that background with the values, the axes' frames and the
  title drawn over it (matplotlib's blitting), a few milliseconds instead
  of a quarter of a second. The first image is made the same way, so a
  redrawn image is the one a new Drawing would make, pixel for pixel.
  """

  def __init__(self, panels: Sequence[Panel], title: str):
    """Raises `plots.MatplotlibMissing` without matplotlib."""
    try:
      # pylint: disable=g-import-not-at-top
      from matplotlib.backends.backend_agg import FigureCanvasAgg
      from matplotlib.figure import Figure
    except ImportError:
      raise plots.MatplotlibMissing() from None
    self._drawn_layout = _layout(panels)
    # Laid out by hand, in inches, from the labels' lengths: square cells,
    # and a quarter of the time matplotlib's constrained layout takes.
    row_labels = [[] if index and panel.row_labels ==
                  panels[index - 1].row_labels else list(panel.row_labels)
                  for index, panel in enumerate(panels)]
    lefts, left = [], _MARGIN
    for panel, labels in zip(panels, row_labels):
      left += _text_inches(labels)
      lefts.append(left)
      left += panel.probabilities.shape[1] * CELL_INCHES + _MARGIN
    colour_bar_left = left + _MARGIN
    width = max(MIN_WIDTH_INCHES, colour_bar_left + _COLOUR_BAR_INCHES)
    bottom = _text_inches([label for panel in panels
                           for label in panel.column_labels]) + _MARGIN
    rows = max(panel.probabilities.shape[0] for panel in panels)
    height = bottom + rows * CELL_INCHES + _TITLES_INCHES
    self._figure = Figure(figsize=(width, height), dpi=DPI)
    self._canvas = FigureCanvasAgg(self._figure)
    self._images, self._frames = [], []
    for panel, labels, left in zip(panels, row_labels, lefts):
      panel_rows, panel_columns = panel.probabilities.shape
      ax = self._figure.add_axes([
          left / width, (height - _TITLES_INCHES - panel_rows * CELL_INCHES)
          / height, panel_columns * CELL_INCHES / width,
          panel_rows * CELL_INCHES / height])
      self._images.append(ax.imshow(
          panel.probabilities, cmap=COLOR_MAP, vmin=0.0, vmax=1.0,
          aspect="auto", interpolation="nearest", animated=True))
      self._frames.extend(ax.spines.values())
      ax.set_title(panel.title, fontsize=_TITLE_POINTS)
      ax.set_xticks(range(panel_columns), panel.column_labels, rotation=90,
                    fontsize=_LABEL_POINTS)
      ax.set_yticks(range(panel_rows), labels, fontsize=_LABEL_POINTS)
    colour_bar = self._figure.add_axes([
        colour_bar_left / width, bottom / height, 0.15 / width,
        rows * CELL_INCHES / height])
    self._figure.colorbar(self._images[-1], cax=colour_bar,
                          label="probability")
    self._title = self._figure.suptitle(
        title, fontsize=_TITLE_POINTS + 1, y=1 - 0.1 / height, va="top",
        animated=True)
    for frame in self._frames:
      frame.set_animated(True)
    self._canvas.draw()  # everything but the animated artists
    self._background = self._canvas.copy_from_bbox(self._figure.bbox)

  def fits(self, panels: Sequence[Panel]) -> bool:
    """Whether `panels` have this drawing's titles, shapes and labels."""
    return _layout(panels) == self._drawn_layout

  def redraw(self, panels: Sequence[Panel], title: str) -> np.ndarray:
    """The image of `panels` (which must `fit`) under `title`, as an RGB
    `[height, width, 3]` uint8 array."""
    self._canvas.restore_region(self._background)
    for image, panel in zip(self._images, panels):
      image.set_data(panel.probabilities)
      self._figure.draw_artist(image)
    for frame in self._frames:  # over the images' edges, as when unanimated
      self._figure.draw_artist(frame)
    self._title.set_text(title)
    self._figure.draw_artist(self._title)
    return np.asarray(self._canvas.buffer_rgba())[..., :3].copy()


def render(panels: Sequence[Panel], title: str) -> np.ndarray:
  """The panels side by side under `title`, with one colour bar, as an RGB
  image `[height, width, 3]` (uint8). A panel whose rows are labelled as
  the one before it shares that one's labels. Raises
  `plots.MatplotlibMissing` without matplotlib."""
  return Drawing(panels, title).redraw(panels, title)


def _layout(panels: Sequence[Panel]):
  """What a Drawing draws once: the panels' titles, shapes and labels."""
  return tuple((panel.title, panel.probabilities.shape,
                tuple(panel.row_labels), tuple(panel.column_labels))
               for panel in panels)


def _text_inches(labels: Sequence[str]) -> float:
  """About how wide the longest of `labels` is at _LABEL_POINTS."""
  return _CHARACTER_INCHES * max(map(len, labels), default=0)


def write(tag: str, panels: Sequence[Panel], title: str, step: int,
          log: Callable[[str], None]) -> Optional[np.ndarray]:
  """`render`s the panels into the default summary writer as image `tag`
  at `step`, and returns the image; without matplotlib, logs that once per
  process and returns None. The tag's last Drawing is redrawn when the
  panels fit it."""
  global _missing_logged
  try:
    drawing = _drawings.pop(tag, None)
    if drawing is None or not drawing.fits(panels):
      drawing = Drawing(panels, title)
    image = drawing.redraw(panels, title)
  except plots.MatplotlibMissing as error:
    if not _missing_logged:
      log(f"TensorBoard's heatmaps are not drawn: {error}")
      _missing_logged = True
    return None
  _drawings[tag] = drawing  # the most recently written last
  while len(_drawings) > _KEPT_DRAWINGS:
    del _drawings[next(iter(_drawings))]
  tf.summary.image(tag, image[None], step=step)
  return image
