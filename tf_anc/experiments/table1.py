"""Reproduces the paper's Table 1: every task, N restarts, ours beside theirs.

  python -m tf_anc.experiments.table1 [--restarts=20] [--output_dir=runs/table1]
      [--tasks=access,swap,...] [--configs=configs/anc] [--seed=N]
      [--[no]population] [--methods=gradient,search,both,guided]

Trains each task with its flagfile (`<configs>/<task>.flags`: by default the
authors' hyper-parameters; `configs/anc/tuned` holds ours) in its own
process, then writes `table1.md`, `table1.json` and `table1.svg` (iterations
per task) to `--output_dir`. A task may name another of its distributions,
`listk@biased_k_upto_l` (same flagfile). `--seed` replaces the flagfiles'
seeds, so that searched configurations are counted on fresh restarts.
Success rates come with a 95% (Wilson) interval. A task whose run already
finished is not trained again; an interrupted one resumes from its
checkpoints.

`--methods` runs each task by each method at equal budget, into
`<output_dir>/<task>/<method>`: gradient (training alone), search (the
program search alone, from the compiled program, given as many steps as
take the gradient's training time here), both (the gradient's run, then
that search) and guided (the same with proposals from the trained
controllers). Each row of table1.json then holds every method's fields,
wall seconds and search steps under `methods`, its own fields being the
most successful method's (named in `method`); table1.md gets a table by
method.
"""

import json
import os

from absl import flags

from tf_anc import shipped
from tf_anc.common import cli
from tf_anc.experiments.task_runs import METHOD_HELP, METHODS, PAPER
from tf_anc.experiments.task_runs import check_export, check_tasks
from tf_anc.experiments.task_runs import method_runs, run_task
from tf_anc.experiments.task_runs import success_text, summarize

_RESTARTS = flags.DEFINE_integer("restarts", 20, "Restarts per task.",
                                 lower_bound=1)
# Both ListK generators: ours, and the authors' (k up to the list's length).
_TASKS = flags.DEFINE_list(
    "tasks", ["access", "increment", "swap", "listk",
              "listk@biased_k_upto_l", "addition", "sort"],
    "Tasks to run; TASK@DISTRIBUTION runs TASK's flagfile on another of "
    "its distributions.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/table1",
                                  "Where runs and tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tfds data directory.")
_CONFIGS = flags.DEFINE_string(
    "configs", str(shipped.configs_dir() / "anc"),
    "Directory of the <task>.flags files to run.")
_SEED = flags.DEFINE_integer(
    "seed", None, "Seed of every run (default: each flagfile's).")
_POPULATION = flags.DEFINE_bool(
    "population", None,
    "Every run's --population (default: each flagfile's): population "
    "success rates count population members, not independent restarts.")
_METHODS = flags.DEFINE_list(
    "methods", [], "Run each task by each of these methods at equal "
    f"budget: {METHOD_HELP} Empty: each flagfile's own settings, once.")


def export_text(row):
  if "export_accuracy" not in row:
    return "-"
  return (f"{row['export_accuracy']:.0%} of {row['fresh_examples']}, "
          f"{row['export_iterations']:.2f} "
          f"({row['generic_iterations_fresh']:.2f})")


def program_text(row):
  if not row["program_successes"]:
    return "0"
  return (f"{row['program_successes']}, "
          f"{row['program_learned_iterations']:.2f}")


def markdown(rows):
  lines = [
      "| task | distribution | restarts | generic iterations (ours / paper) "
      "| learned iterations (ours / paper) | level (ours) | ideal (paper) "
      "| success [95%] (ours / paper) | right only at the end (early "
      "halting) | argmax program right and faster: restarts, fewest "
      "iterations | export on fresh samples: right, iterations (generic) |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
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
        f"| {success_text(row)} / {paper['success']:.0%} "
        f"| {row['early_halting']} | {program_text(row)} "
        f"| {export_text(row)} |")
  return "\n".join(lines) + "\n"


def methods_markdown(rows):
  """One line per task and method."""
  lines = [
      "| task | method | success [95%] (paper) | learned iterations "
      "(generic) | argmax program right and faster: restarts, fewest "
      "iterations | export on fresh samples: right, iterations (generic) "
      "| export right on unbiased samples | search steps per restart "
      "| wall seconds |",
      "|---|---|---|---|---|---|---|---|---|",
  ]
  for row in rows:
    for method, result in row["methods"].items():
      learned = ("-" if result["success_rate"] == 0
                 else f"{result['learned_iterations']:.2f}")
      general = result.get("export_accuracy_unbiased")
      paper = row["paper"]
      lines.append(
          f"| {row['task']} | {method} | {success_text(result)} "
          f"({paper['success']:.0%}) "
          f"| {learned} ({result['generic_iterations']:.2f}) "
          f"| {program_text(result)} | {export_text(result)} "
          f"| {'-' if general is None else f'{general:.0%}'} "
          f"| {result['search_steps']} | {result['wall_seconds']:.0f} |")
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
  check_tasks(_TASKS.value, _CONFIGS.value)
  extra_flags = [] if _SEED.value is None else [f"--seed={_SEED.value}"]
  if _POPULATION.value is not None:
    extra_flags.append(f"--{'' if _POPULATION.value else 'no'}population")
  unknown = [method for method in _METHODS.value if method not in METHODS]
  if unknown:
    raise cli.UsageError(f"unknown --methods {', '.join(unknown)}; choose "
                         f"from {', '.join(METHODS)}")
  rows = []
  for spec in _TASKS.value:
    directory = os.path.join(_OUTPUT_DIR.value, spec)
    if not _METHODS.value:
      report = run_task(spec, _RESTARTS.value, directory, _DATA_DIR.value,
                        _CONFIGS.value, extra_flags)
      rows.append({**summarize(spec, report), **check_export(report)})
      continue
    by_method = {
        method: {**summarize(spec, report), **check_export(report),
                 "wall_seconds": report["wall_seconds"],
                 "search_steps": report["search_steps"]}
        for method, report in method_runs(
            spec, _RESTARTS.value, directory, _DATA_DIR.value,
            _CONFIGS.value, extra_flags, _METHODS.value).items()}
    best = max(by_method, key=lambda method: by_method[method]["successes"])
    rows.append({**by_method[best], "method": best, "methods": by_method})
  table = markdown(rows)
  if _METHODS.value:
    table = methods_markdown(rows) + "\n" + table
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  outputs = {"table1.md": table, "table1.json": json.dumps(rows, indent=1),
             "table1.svg": svg_bars(rows)}
  for name, text in outputs.items():
    with open(os.path.join(_OUTPUT_DIR.value, name), "w") as f:
      f.write(text)
  print(table)
  for row in rows:
    if "export_iterations_by_size" in row:
      print(f"{row['task']}: the served model's iterations by k: " +
            ", ".join(f"{size}: {value:.2f}" for size, value in
                      row["export_iterations_by_size"].items()))
  print(f"wrote {', '.join(outputs)} to {_OUTPUT_DIR.value}")


if __name__ == "__main__":
  cli.run(main)
