"""Figure 8's curves: accuracy against expression length, as JSON, a table
and a plot (`python -m ntpt_keras.math_task.figure8` makes them; the
`plots` extra draws the plot)."""

import dataclasses
import json
import os

from tf_anc.common import cli
from tf_anc.common import plots

# The curve of the paper's bound for a right program, drawn dashed.
BOUND = "net_0 accuracy ^ digits"


def ntpt_curve(run_dir: str):
  """A MATH run's (variant, NTPT's accuracy by length, the digit bound or
  None, the library its networks started from or None)."""
  path = os.path.join(run_dir, "results.json")
  if not os.path.exists(path):
    raise cli.UsageError(f"{path} does not exist: run the MATH experiment "
                         "first (python -m tf_anc.train "
                         "--flagfile=configs/ntpt/math.flags)")
  with open(path) as f:
    results = json.load(f)
  return (results["variant"], results["accuracy_by_length"],
          results.get("digit_accuracy_bound"), results.get("library_dir"))


def lstm_curve(config, path: str) -> dict:
  """The LSTM's accuracy by length: trained and tested now and saved to
  `path` (with how its training converged), or read from `path` if a run of
  the same config wrote it (an interrupted figure keeps the LSTMs it
  finished)."""
  from ntpt_keras.math_task import lstm  # pylint: disable=g-import-not-at-top
  settings = dataclasses.asdict(config)
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    if saved["config"] == settings:
      return saved["accuracy_by_length"]
  result = lstm.train_and_test(config)
  with open(path, "w") as f:
    json.dump({"config": settings, **result}, f, indent=1)
  return result["accuracy_by_length"]


def markdown(figure: dict) -> str:
  """A table per variant: a row per model, a column per length."""
  parts = []
  for variant, curves in figure.items():
    lengths = sorted({int(n) for curve in curves.values() for n in curve})
    lines = [f"### {variant}", "",
             "| model | " + " | ".join(str(n) for n in lengths) + " |",
             "|---|" + "---|" * len(lengths)]
    for model, curve in curves.items():
      lines.append(f"| {model} | " + " | ".join(
          f"{100 * curve[str(n)]:.1f}" for n in lengths) + " |")
    parts.append("\n".join(lines))
  return "\n\n".join(parts) + "\n"


def plot(figure: dict, path: str) -> None:
  """Writes the panels, one per variant, as a PNG at `path`."""
  models = list(dict.fromkeys(model for curves in figure.values()
                              for model in curves))
  colors = plots.series_colors(models)
  with plots.figure(path, columns=len(figure)) as (fig, axes):
    for axis, (variant, curves) in zip(axes[0], figure.items()):
      for model, curve in curves.items():
        lengths = sorted(int(n) for n in curve)
        axis.plot(lengths, [100 * curve[str(n)] for n in lengths],
                  color=colors[model], marker=None if model == BOUND else "o",
                  linestyle="--" if model == BOUND else "-", label=model)
      axis.set_title(f"MATH, {variant}")
      axis.set_xlabel("digits in expression")
      axis.locator_params(axis="x", integer=True)
      axis.set_ylabel("accuracy (%)")
      axis.set_ylim(0, 101)
    # One legend for every panel: a model has one colour in all of them.
    handles = {label: handle for axis in axes[0]
               for handle, label in zip(*axis.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="outside right center")
