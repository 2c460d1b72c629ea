"""Learned distributions as labelled heatmaps in TensorBoard's Images tab."""

import sys

import numpy as np
import tensorflow as tf

from tf_anc.common import heatmaps

PANELS = [heatmaps.Panel("x", np.eye(3), ["0: a", "1: b", "2: c"],
                         ["a", "b", "c"]),
          heatmaps.Panel("y", np.full([3, 2], 0.5), ["0: a", "1: b", "2: c"],
                         ["a", "b"])]


def test_panels_become_one_image_at_least_300_pixels_wide():
  image = heatmaps.render(PANELS, "restart 0, step 3")
  height, width, channels = image.shape
  assert width >= 300 and height > 100 and channels == 3
  assert image.dtype == np.uint8


def test_without_matplotlib_a_run_says_so_once_and_writes_no_image(
    monkeypatch, tmp_path):
  for module in ("matplotlib.figure", "matplotlib.backends.backend_agg"):
    monkeypatch.setitem(sys.modules, module, None)  # import fails
  monkeypatch.setattr(heatmaps, "_missing_logged", False)
  lines = []
  with tf.summary.create_file_writer(str(tmp_path)).as_default():
    for step in (1, 2):
      assert heatmaps.write("restart_0/controller", PANELS, "restart 0",
                            step, lines.append) is None
  assert len(lines) == 1
  assert "matplotlib" in lines[0] and "tf_anc[plots]" in lines[0]


def other_values(panels):
  return [heatmaps.Panel(panel.title, panel.probabilities[::-1],
                         panel.row_labels, panel.column_labels)
          for panel in panels]


def test_a_redrawn_figure_is_the_one_drawn_afresh_pixel_for_pixel():
  drawing = heatmaps.Drawing(PANELS, "restart 0, step 3")
  redrawn = drawing.redraw(other_values(PANELS), "restart 0, step 6")
  afresh = heatmaps.render(other_values(PANELS), "restart 0, step 6")
  np.testing.assert_array_equal(redrawn, afresh)
  assert not np.array_equal(
      redrawn, heatmaps.render(PANELS, "restart 0, step 6"))


def test_write_draws_a_tag_afresh_when_its_labels_change(tmp_path):
  relabelled = [heatmaps.Panel(panel.title, panel.probabilities,
                               ["0: a", "1: a much longer statement", "2: c"],
                               panel.column_labels) for panel in PANELS]
  with tf.summary.create_file_writer(str(tmp_path)).as_default():
    heatmaps.write("restart_0/controller", PANELS, "step 1", 1, print)
    image = heatmaps.write("restart_0/controller", relabelled, "step 2", 2,
                           print)
  np.testing.assert_array_equal(image, heatmaps.render(relabelled, "step 2"))
