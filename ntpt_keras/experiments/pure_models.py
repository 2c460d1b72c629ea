"""The pure (no @Learn) NTPT models: restarts solved per task, as a table.

    python -m ntpt_keras.experiments.pure_models [--restarts=20] \
        [--output_dir=runs/ntpt/pure_models]

Trains each flagfile of `configs/ntpt/` named by --tasks with
`python -m tf_anc.train` and writes `table.md` (and `table.json`): restarts
tried and solved, test accuracy of the best restart, and, for TerpreT's
tasks, the success rate of FMGD (TerpreT's gradient descent) that the
TerpreT tech report gives (Gaunt et al. 2016, Table 3).
"""

import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

_TASKS = flags.DEFINE_list(
    "tasks", ["turing_invert", "turing_prepend", "turing_decrement",
              "circuit_swap", "add2x2_ints_top", "add2x2_ints_left",
              "add2x2_ints_bottom", "add2x2_ints_right"],
    "Flagfiles of configs/ntpt/ to run (without .flags).")
_RESTARTS = flags.DEFINE_integer("restarts", None,
                                 "Restarts per task (default: the flagfile's).")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/ntpt/pure_models",
                                  "Where each run and the table go.")

# FMGD success rates of the TerpreT tech report, Table 3 (percent), quoted
# from memory: the report is not in this repository (see docs/results.md).
TECH_REPORT_FMGD = {"turing_invert": 100, "turing_prepend": 60,
                    "turing_decrement": 5}


def run_task(task: str, output_dir: str, restarts=None) -> dict:
  model_dir = os.path.join(output_dir, task)
  command = [sys.executable, "-m", "tf_anc.train",
             f"--flagfile=configs/ntpt/{task}.flags",
             f"--model_dir={model_dir}"]
  if restarts:
    command.append(f"--restarts={restarts}")
  started = time.perf_counter()
  subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
  with open(os.path.join(model_dir, "results.json")) as f:
    report = json.load(f)
  report["seconds"] = time.perf_counter() - started
  return report


def table(rows) -> str:
  lines = ["| task | restarts | solved | success | best test accuracy | "
           "tech report FMGD | seconds |", "|---|---|---|---|---|---|---|"]
  for task, report in rows:
    reference = TECH_REPORT_FMGD.get(task)
    lines.append(
        f"| {task} | {report['restarts']} | {report['solved_restarts']} | "
        f"{100 * report['solved_restarts'] / report['restarts']:.0f}% | "
        f"{100 * report['test_accuracy']:.1f}% | "
        f"{'—' if reference is None else f'{reference}%'} | "
        f"{report['seconds']:.0f} |")
  return "\n".join(lines) + "\n"


def main(argv):
  del argv
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  rows = []
  for task in _TASKS.value:
    rows.append((task, run_task(task, _OUTPUT_DIR.value, _RESTARTS.value)))
    print(f"{task}: {rows[-1][1]['solved_restarts']} of "
          f"{rows[-1][1]['restarts']} solved", flush=True)
  text = table(rows)
  with open(os.path.join(_OUTPUT_DIR.value, "table.md"), "w") as f:
    f.write(text)
  with open(os.path.join(_OUTPUT_DIR.value, "table.json"), "w") as f:
    json.dump({task: {k: report[k] for k in (
        "restarts", "solved_restarts", "test_accuracy", "params", "seconds")}
               for task, report in rows}, f, indent=1)
  print(text)


if __name__ == "__main__":
  app.run(main)
