"""The lifelong results: results.json, the Figure 7 table, the Figure 6 plot.

`write(report, directory)` writes `results.json`, `figure7.md` (the final
accuracy of every learner on every task beside the paper's Figure 7) and
`figure6.svg` (accuracy over the lifetime, one panel per task, the task's
presentation window shaded, like the paper's Figure 6).
"""

import json
import os
from typing import Dict

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
COLORS = {"ntpt": "#d62728", "indep": "#7f7f7f", "pnn": "#2ca02c",
          "mtnn1": "#9467bd", "mtnn2": "#1f77b4"}


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


def svg(report: dict) -> str:
  """Accuracy over training, one panel per task (like Figure 6)."""
  tasks = report["tasks"]
  columns = 4
  rows = (len(tasks) + columns - 1) // columns
  panel_width, panel_height, margin = 260, 170, 40
  width = columns * (panel_width + margin) + margin
  height = rows * (panel_height + 2 * margin) + 60
  total = max(report["examples_trained"], 1)
  parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
  for number, task in enumerate(tasks):
    left = margin + (number % columns) * (panel_width + margin)
    top = margin + (number // columns) * (panel_height + 2 * margin)

    def x(examples, left=left):
      return left + panel_width * examples / total

    def y(accuracy, top=top):
      return top + panel_height * (1 - accuracy)

    first, last = report["schedule"][task]
    parts.append(f'<rect x="{x(first):.1f}" y="{top}" '
                 f'width="{x(last) - x(first):.1f}" height="{panel_height}" '
                 'fill="#eeeeee"/>')
    parts.append(f'<rect x="{left}" y="{top}" width="{panel_width}" '
                 f'height="{panel_height}" fill="none" stroke="black"/>')
    parts.append(f'<text x="{left}" y="{top - 6}">{task}</text>')
    for tick in (0.0, 0.5, 1.0):
      parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" '
                   f'text-anchor="end">{tick:.1f}</text>')
    parts.append(f'<text x="{left + panel_width}" '
                 f'y="{top + panel_height + 14}" text-anchor="end">'
                 f'{total // 1000}k examples</text>')
    for learner, curves in report["curves"].items():
      points = " ".join(f"{x(e):.1f},{y(a):.1f}" for e, a in curves[task])
      parts.append(f'<polyline points="{points}" fill="none" '
                   f'stroke="{COLORS.get(learner, "black")}" '
                   f'stroke-width="{2 if learner == "ntpt" else 1}"/>')
  legend_top = height - 24
  for number, learner in enumerate(report["curves"]):
    left = margin + number * 110
    parts.append(f'<line x1="{left}" y1="{legend_top}" x2="{left + 20}" '
                 f'y2="{legend_top}" stroke="{COLORS.get(learner, "black")}" '
                 'stroke-width="2"/>')
    parts.append(f'<text x="{left + 26}" y="{legend_top + 4}">'
                 f'{LABELS.get(learner, learner)}</text>')
  parts.append(f'<text x="{margin + 5 * 110}" y="{legend_top + 4}">'
               'shaded: the task is presented</text>')
  parts.append("</svg>")
  return "\n".join(parts) + "\n"


def write(report: dict, directory: str) -> None:
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, "results.json"), "w") as f:
    json.dump(report, f, indent=1)
  with open(os.path.join(directory, "figure7.md"), "w") as f:
    f.write(table(report))
  with open(os.path.join(directory, "figure6.svg"), "w") as f:
    f.write(svg(report))
