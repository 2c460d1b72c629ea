"""The lifelong results: results.json, the Figure 7 table, the Figure 6 plot.

`write(report, directory)` writes `results.json`, `figure7.md` (the final
accuracy of every learner on every task beside the paper's Figure 7) and
`figure6.png` (accuracy over the lifetime, one panel per task, the task's
presentation window shaded, like the paper's Figure 6; the `plots` extra
draws it).
"""

import json
import os
from typing import Dict

from tf_anc.common import plots

# The paper's Figure 7: final accuracy (%) per learner and task.
PAPER_FINAL_ACCURACY = {
    "indep": [35, 32, 34, 32, 38, 39, 39, 39],
    "pnn": [35, 36, 33, 35, 39, 51, 48, 51],
    "mtnn1": [26, 38, 40, 44, 40, 41, 41, 42],
    "mtnn2": [24, 47, 56, 60, 38, 39, 40, 37],
    "ntpt": [87, 87, 86, 86, 98, 100, 100, 100],
}
PAPER_TASKS = ("add2x2_top", "add2x2_left", "add2x2_bottom", "add2x2_right",
               "apply2x2_top", "apply2x2_left", "apply2x2_bottom",
               "apply2x2_right")
LABELS = {"ntpt": "NTPT", "indep": "indep.", "pnn": "PNN",
          "mtnn1": "MTNN-1", "mtnn2": "MTNN-2"}


def paper_accuracy(learner: str, task: str):
  if learner not in PAPER_FINAL_ACCURACY or task not in PAPER_TASKS:
    return None
  return PAPER_FINAL_ACCURACY[learner][PAPER_TASKS.index(task)]


def reverse_transfer(report: dict) -> Dict[str, Dict[str, dict]]:
  """Per learner and task: accuracy when the task was last presented, at
  its best afterwards, and at the end. Final above the first is reverse
  transfer; below, forgetting."""
  result = {}
  for learner, tasks in report["curves"].items():
    result[learner] = {}
    for task, points in tasks.items():
      last = report["schedule"][task][1]
      before = [a for e, a in points if e <= last]
      after = [a for e, a in points if e > last]
      if not before or not after:
        continue
      result[learner][task] = {
          "last_presented_example": last,
          "accuracy_when_last_presented": before[-1],
          "best_accuracy_after": max(after),
          "final_accuracy": after[-1]}
  return result


def table(report: dict) -> str:
  """Markdown: ours and the paper's final accuracy, learner by task."""
  tasks = report["tasks"]
  lines = [
      f"Final accuracy on {_test_size(report)} held-out grids per task, "
      f"ours (paper's Figure 7), after {report['examples_trained']:,} "
      f"training examples; digits from `{report['digit_source']}`."
      + (f" Command: `{report['config']['command']}`."
         if report["config"].get("command") else ""), "",
      "| learner | " + " | ".join(tasks) + " |",
      "|---|" + "---|" * len(tasks)]
  for learner, accuracies in report["final_accuracy"].items():
    cells = []
    for task in tasks:
      paper = paper_accuracy(learner, task)
      cells.append(f"{100 * accuracies[task]:.1f}%" + (
          f" ({paper}%)" if paper is not None else ""))
    lines.append(f"| {LABELS.get(learner, learner)} | " + " | ".join(cells)
                 + " |")
  return "\n".join(lines) + "\n"


def _test_size(report: dict) -> str:
  sizes = set(report["test_examples"].values())
  return f"{sizes.pop():,}" if len(sizes) == 1 else "all"


def figure(report: dict, path: str) -> None:
  """Figure 6 as a PNG at `path`: every learner's accuracy on each task over
  the lifetime, a panel per task, shaded while the task is presented."""
  tasks = report["tasks"]
  columns = min(4, len(tasks))
  colors = plots.series_colors(report["curves"])
  rows = (len(tasks) + columns - 1) // columns
  with plots.figure(path, rows=rows, columns=columns, panel_size=(3.2, 2.6),
                    sharey=True) as (fig, axes):
    for axis, task in zip(axes.flat, tasks):
      first, last = report["schedule"][task]
      axis.axvspan(first / 1000, last / 1000, color="#eeeeee",
                   label="task presented")
      for learner, curves in report["curves"].items():
        examples, accuracies = zip(*curves[task])
        # NTPT, the paper's learner, stands out from the baselines.
        axis.plot([e / 1000 for e in examples],
                  [100 * a for a in accuracies], color=colors[learner],
                  linewidth=2.5 if learner == "ntpt" else 1.5,
                  label=LABELS.get(learner, learner))
      axis.set_title(task)
      axis.set_ylim(0, 101)
    for axis in axes.flat[len(tasks):]:  # the last row's spare panels
      axis.set_visible(False)
    fig.supxlabel("training examples (thousands)")
    fig.supylabel("accuracy (%)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center")
    fig.suptitle(f"Accuracy over the lifetime, {len(tasks)} tasks in turn "
                 "(the paper's Figure 6)")


def write(report: dict, directory: str) -> None:
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, "results.json"), "w") as f:
    json.dump(report, f, indent=1)
  with open(os.path.join(directory, "figure7.md"), "w") as f:
    f.write(table(report))
  plots.draw_if_installed(figure, report,
                          os.path.join(directory, "figure6.png"))
