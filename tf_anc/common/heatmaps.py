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


@dataclasses.dataclass(frozen=True)
class Panel:
  """One matrix of distributions: `probabilities[row]` is a distribution
  over the columns."""
  title: str
  probabilities: np.ndarray  # [rows, columns], in [0, 1]
  row_labels: Sequence[str]
  column_labels: Sequence[str]


def render(panels: Sequence[Panel], title: str) -> np.ndarray:
  """The panels side by side under `title`, with one colour bar, as an RGB
  image `[height, width, 3]` (uint8). A panel whose rows are labelled as
  the one before it shares that one's labels. Raises
  `plots.MatplotlibMissing` without matplotlib."""
  try:
    # pylint: disable=g-import-not-at-top
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
  except ImportError:
    raise plots.MatplotlibMissing() from None
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
  figure = Figure(figsize=(width, height), dpi=DPI)
  canvas = FigureCanvasAgg(figure)
  for panel, labels, left in zip(panels, row_labels, lefts):
    panel_rows, panel_columns = panel.probabilities.shape
    ax = figure.add_axes([
        left / width, (height - _TITLES_INCHES - panel_rows * CELL_INCHES)
        / height, panel_columns * CELL_INCHES / width,
        panel_rows * CELL_INCHES / height])
    shown = ax.imshow(panel.probabilities, cmap=COLOR_MAP, vmin=0.0,
                      vmax=1.0, aspect="auto", interpolation="nearest")
    ax.set_title(panel.title, fontsize=_TITLE_POINTS)
    ax.set_xticks(range(panel_columns), panel.column_labels, rotation=90,
                  fontsize=_LABEL_POINTS)
    ax.set_yticks(range(panel_rows), labels, fontsize=_LABEL_POINTS)
  colour_bar = figure.add_axes([
      colour_bar_left / width, bottom / height, 0.15 / width,
      rows * CELL_INCHES / height])
  figure.colorbar(shown, cax=colour_bar, label="probability")
  figure.suptitle(title, fontsize=_TITLE_POINTS + 1,
                  y=1 - 0.1 / height, va="top")
  canvas.draw()
  return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _text_inches(labels: Sequence[str]) -> float:
  """About how wide the longest of `labels` is at _LABEL_POINTS."""
  return _CHARACTER_INCHES * max(map(len, labels), default=0)


def write(tag: str, panels: Sequence[Panel], title: str, step: int,
          log: Callable[[str], None]) -> Optional[np.ndarray]:
  """`render`s the panels into the default summary writer as image `tag`
  at `step`, and returns the image; without matplotlib, logs that once per
  process and returns None."""
  global _missing_logged
  try:
    image = render(panels, title)
  except plots.MatplotlibMissing as error:
    if not _missing_logged:
      log(f"TensorBoard's heatmaps are not drawn: {error}")
      _missing_logged = True
    return None
  tf.summary.image(tag, image[None], step=step)
  return image
