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
