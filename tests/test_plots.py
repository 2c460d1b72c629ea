"""The figures' shared style (`tf_anc.common.plots`): PNG files wide enough
to read, and without matplotlib one line naming the `plots` extra."""

import struct
import sys

from tf_anc.common import plots


def png_width(path) -> int:
  """The width in pixels of the PNG file at `path`, from its header."""
  with open(path, "rb") as f:
    header = f.read(24)
  assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
  return struct.unpack(">I", header[16:20])[0]


def one_line(data, path):
  with plots.figure(path, panel_size=(2, 2)) as (_, axes):
    axes[0, 0].plot(data)


def test_a_figure_of_one_small_panel_is_still_800_pixels_wide(tmp_path):
  path = tmp_path / "figure.png"
  one_line([0, 1], str(path))
  assert png_width(path) >= 800


def test_without_matplotlib_a_figure_is_one_line_naming_the_plots_extra(
    tmp_path, monkeypatch, capsys):
  monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
  path = tmp_path / "figure.png"
  assert not plots.draw_if_installed(one_line, [0, 1], str(path))
  assert capsys.readouterr().out == (
      "figure.png not written: the figures need matplotlib, the `plots` "
      "extra: pip install tf_anc[plots]\n")
  assert not path.exists()
