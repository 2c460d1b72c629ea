"""Reproduces the paper's Table 1: every task, N restarts, ours beside theirs.

  python -m tf_anc.experiments.table1 [--restarts=20] [--output_dir=runs/table1]
      [--tasks=access,swap,...] [--configs=configs/anc]

Trains each task with its flagfile (`<configs>/<task>.flags`: by default the
authors' hyper-parameters; `configs/anc/tuned` holds ours) in its own process, then writes `table1.md`,
`table1.json` and `table1.svg` (iterations per task) to `--output_dir`. A
task whose run already finished is not trained again; an interrupted one
resumes from its checkpoints.
"""

import json
import os
import subprocess
import sys

from absl import flags

from tf_anc import data
from tf_anc.common import cli

# Table 1 of the paper: iterations (= steps + 1) and success over 100 restarts.
PAPER = {
    "access": {"generic": 6, "learned": 4, "ideal": 4, "success": 0.37},
    "increment": {"generic": 40, "learned": 16, "ideal": 34, "success": 0.84},
    "swap": {"generic": 10, "learned": 6, "ideal": 6, "success": 0.27},
    "listk": {"generic": 18, "learned": 11, "ideal": 10, "success": 0.19},
    "addition": {"generic": 20, "learned": 9, "ideal": 6, "success": 0.12},
    "sort": {"generic": 38, "learned": 18, "ideal": 9.5, "success": 0.74},
}

_RESTARTS = flags.DEFINE_integer("restarts", 20, "Restarts per task.",
                                 lower_bound=1)
_TASKS = flags.DEFINE_list("tasks", list(PAPER), "Tasks to run.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/table1",
                                  "Where runs and tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tfds data directory.")
_CONFIGS = flags.DEFINE_string(
    "configs", str(data.configs_dir() / "anc"),
    "Directory of the <task>.flags files to run.")


def _finished(results_path, restarts):
  if not os.path.exists(results_path):
    return False
  with open(results_path) as f:
    report = json.load(f)
  return (len(report["restarts"]) == restarts and
          report["train_steps_done"] == report["config"]["train_steps"])


def run_task(task, restarts, output_dir, data_dir, configs):
  """Trains one task (unless done) and returns its results.json."""
  model_dir = os.path.join(output_dir, task)
  results_path = os.path.join(model_dir, "results.json")
  if not _finished(results_path, restarts):
    command = [sys.executable, "-m", "tf_anc.train",
               f"--flagfile={os.path.join(configs, task + '.flags')}",
               f"--restarts={restarts}", f"--model_dir={model_dir}",
               "--log_every=500"]
    if data_dir:
      command.append(f"--data_dir={data_dir}")
    print(f"== {task}: {' '.join(command)}", flush=True)
    subprocess.run(command, check=True)
  with open(results_path) as f:
    return json.load(f)


def summarize(task, report):
  """Ours for one task: generic/learned iterations, success rate."""
  restarts = report["restarts"]
  successes = [r for r in restarts if r["success"]]
  best = min(successes or restarts,
             key=lambda r: (-r["accuracy"], r["mean_iterations"]))
  return {
      "task": task,
      "distribution": report["distribution"],
      "restarts": len(restarts),
      "generic_iterations": report["generic_mean_iterations"],
      "learned_iterations": best["mean_iterations"],
      "learned_accuracy": best["accuracy"],
      "learned_interpretability": best["interpretability"],
      "success_rate": len(successes) / len(restarts),
      "paper": PAPER[task],
  }


def markdown(rows):
  lines = [
      "| task | distribution | restarts | generic iterations (ours / paper) "
      "| learned iterations (ours / paper) | level (ours) | ideal (paper) "
      "| success (ours / paper) |",
      "|---|---|---|---|---|---|---|---|",
  ]
  for row in rows:
    paper = row["paper"]
    learned = f"{row['learned_iterations']:.2f}"
    if row["success_rate"] == 0:
      learned += " (no success)"
    lines.append(
        f"| {row['task']} | {row['distribution']} | {row['restarts']} "
        f"| {row['generic_iterations']:.2f} / {paper['generic']} "
        f"| {learned} / {paper['learned']} "
        f"| {row['learned_interpretability']} | {paper['ideal']} "
        f"| {row['success_rate']:.0%} / {paper['success']:.0%} |")
  return "\n".join(lines) + "\n"


def svg_bars(rows):
  """Grouped bars per task: generic, ours learned, paper learned, ideal."""
  series = (("generic (ours)", "#888888",
             lambda row: row["generic_iterations"]),
            ("learned (ours)", "#1f77b4", lambda row: row["learned_iterations"]),
            ("learned (paper)", "#ff7f0e",
             lambda row: row["paper"]["learned"]),
            ("ideal (paper)", "#2ca02c", lambda row: row["paper"]["ideal"]))
  bar, gap, height, top = 14, 24, 240, 30
  group = bar * len(series) + gap
  width = 60 + group * len(rows)
  scale = (height - top) / max(max(value(row) for _, _, value in series)
                               for row in rows)
  parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height + 40}" font-family="sans-serif" font-size="11">',
           f'<text x="10" y="16">Table 1: mean iterations per task</text>']
  for index, row in enumerate(rows):
    x0 = 50 + index * group
    for offset, (_, color, value) in enumerate(series):
      bar_height = value(row) * scale
      parts.append(f'<rect x="{x0 + offset * bar}" '
                   f'y="{height - bar_height:.1f}" width="{bar - 2}" '
                   f'height="{bar_height:.1f}" fill="{color}"/>')
    parts.append(f'<text x="{x0}" y="{height + 14}">{row["task"]}</text>')
  for offset, (label, color, _) in enumerate(series):
    parts.append(f'<rect x="{50 + offset * 120}" y="{height + 22}" '
                 f'width="10" height="10" fill="{color}"/>'
                 f'<text x="{64 + offset * 120}" y="{height + 31}">{label}'
                 f'</text>')
  parts.append("</svg>")
  return "\n".join(parts) + "\n"


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  unknown = [task for task in _TASKS.value if task not in PAPER]
  if unknown:
    raise cli.UsageError(f"unknown tasks {', '.join(unknown)}; Table 1 has "
                         f"{', '.join(PAPER)}")
  for task in _TASKS.value:
    flagfile = os.path.join(_CONFIGS.value, task + ".flags")
    if not os.path.exists(flagfile):
      raise cli.UsageError(f"no flagfile {flagfile}")
  rows = [summarize(task, run_task(task, _RESTARTS.value, _OUTPUT_DIR.value,
                                   _DATA_DIR.value, _CONFIGS.value))
          for task in _TASKS.value]
  table = markdown(rows)
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  outputs = {"table1.md": table, "table1.json": json.dumps(rows, indent=1),
             "table1.svg": svg_bars(rows)}
  for name, text in outputs.items():
    with open(os.path.join(_OUTPUT_DIR.value, name), "w") as f:
      f.write(text)
  print(table)
  print(f"wrote {', '.join(outputs)} to {_OUTPUT_DIR.value}")


if __name__ == "__main__":
  cli.run(main)
