"""The figures' shared look, drawn with matplotlib (the `plots` extra).

Table 1 (`tf_anc.experiments.table1`), the lifelong experiment's Figure 6
(`ntpt_keras.lifelong.report`) and MATH's Figure 8
(`ntpt_keras.math_task.curves`) are drawn in one style: the same fonts,
grid, colours (ours, the paper's, then one per method, learner or model)
and resolution, as PNG files. matplotlib is optional and imported on first
use: without it a command still writes its tables and JSON, and says in
one line that its figure needs the extra.
"""

import contextlib
import os

EXTRA = "pip install tf_anc[plots]"

# Our numbers, the paper's, and the two references they are read against:
# the generic (compiled) program and the paper's ideal one.
OURS = "#1f77b4"
PAPER = "#ff7f0e"
GENERIC = "#7f7f7f"
IDEAL = "#2ca02c"
# Methods, learners and models, in turn; none takes ours' or the paper's
# colour, so that a method is never read as the paper.
SERIES = ("#d62728", "#9467bd", "#17becf", "#8c564b", "#e377c2",
          "#bcbd22", "#393b79", "#637939")

# At this resolution the narrowest figure (MIN_WIDTH inches) is 900 pixels.
DPI = 150
MIN_WIDTH = 6.0
STYLE = {
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "font.size": 10,
    "figure.titlesize": 12,
    "figure.labelsize": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.5,
}


class MatplotlibMissing(ImportError):
  """matplotlib is not installed; the message says how to install it."""

  def __init__(self):
    super().__init__(
        f"the figures need matplotlib, the `plots` extra: {EXTRA}")


def pyplot():
  """matplotlib.pyplot drawing to files (the Agg backend: no display
  needed); MatplotlibMissing if matplotlib is not installed."""
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise MatplotlibMissing() from None
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def series_colors(names) -> dict:
  """{name: its colour}, SERIES in turn: a method's, learner's or model's
  colour, the same in every panel of a figure."""
  return {name: SERIES[number % len(SERIES)]
          for number, name in enumerate(names)}


@contextlib.contextmanager
def figure(path: str, rows: int = 1, columns: int = 1,
           panel_size=(5.0, 4.0), **subplots):
  """A Figure and its `rows` x `columns` Axes (an array, by row then
  column) in the shared style, saved to `path` as a PNG when the block
  ends, then closed. `subplots`: more of `pyplot.subplots`' arguments
  (sharey=True, ...)."""
  plt = pyplot()
  width, height = panel_size
  # The style is the block's alone: a caller's own figures keep theirs.
  with plt.style.context({**STYLE,
                          "axes.prop_cycle": plt.cycler(color=SERIES)}):
    fig, axes = plt.subplots(
        rows, columns, figsize=(max(columns * width, MIN_WIDTH),
                                rows * height),
        squeeze=False, layout="constrained", **subplots)
    try:
      yield fig, axes
      fig.savefig(path, format="png")
    finally:
      plt.close(fig)


def draw_if_installed(draw, data, path: str) -> bool:
  """`draw(data, path)`, a figure function writing the PNG `path`; without
  matplotlib, one line on stdout saying what it needs instead, and False
  (a command's tables and JSON are its results, written either way)."""
  try:
    draw(data, path)
  except MatplotlibMissing as error:
    print(f"{os.path.basename(path)} not written: {error}")
    return False
  return True
