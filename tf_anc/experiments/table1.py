"""Reproduces the paper's Table 1: every task, N restarts, ours beside theirs.

  python -m tf_anc.experiments.table1 [--restarts=20] [--output_dir=runs/table1]
      [--tasks=access,swap,...] [--configs=configs/anc] [--seed=N]
      [--[no]population] [--methods=gradient,search,both,guided]

Trains each task with its flagfile (`<configs>/<task>.flags`: by default the
authors' hyper-parameters; `configs/anc/tuned` holds ours) as `python -m
tf_anc.train` would, all in this process, then writes `table1.md`,
`table1.json` and `table1.png` (success rates and iterations per task; the
`plots` extra draws it) to `--output_dir`. A task may name another of its
distributions, `listk@biased_k_upto_l` (same flagfile). `--seed` replaces
the flagfiles' seeds, so that searched configurations are counted on fresh
restarts.
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
from typing import NamedTuple, Optional

from absl import flags
import numpy as np

from tf_anc import shipped
from tf_anc.common import cli
from tf_anc.common import plots
from tf_anc.experiments.task_runs import METHOD_HELP
from tf_anc.experiments.task_runs import check_export, check_tasks
from tf_anc.experiments.task_runs import method_runs, run_task
from tf_anc.experiments.task_runs import success_text, summarize
from tf_anc.training.config import METHODS

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


class _Bars(NamedTuple):
  """One series of Table 1's grouped bars: a value per task (None: no bar)
  with, for success rates, its 95% interval (low, high); `failed`: the
  tasks where no restart succeeded, so there is no learned value to draw."""
  label: str
  color: str
  values: list
  intervals: Optional[list] = None
  failed: tuple = ()


def _runs(row):
  """A row's runs by name: each method's, or ours alone."""
  return row.get("methods") or {"ours": row}


def _grouped_bars(axes, tasks, series, text):
  """Draws `series` (_Bars) side by side at each task, every bar labelled
  `text(value)`, a task a series failed at hatched."""
  width = 0.8 / len(series)
  for number, bars in enumerate(series):
    x = np.arange(len(tasks)) + (number - (len(series) - 1) / 2) * width
    heights = np.array([np.nan if value is None else value
                        for value in bars.values])
    errors = None
    if bars.intervals:
      low, high = np.array(bars.intervals).T
      # Clipped at 0: a rate of 100% can round a hair above its bound.
      errors = np.clip([heights - low, high - heights], 0, None)
    drawn = axes.bar(x, heights, width, color=bars.color, label=bars.label,
                     yerr=errors, capsize=2, error_kw={"elinewidth": 1})
    axes.bar_label(drawn, ["" if value is None else text(value)
                           for value in bars.values],
                   rotation=90, padding=2, fontsize="x-small")
    for task in bars.failed:
      # Hatched the whole height: there is no number, not a small one.
      axes.axvspan(x[task] - width / 2, x[task] + width / 2, fill=False,
                   hatch="///", edgecolor=bars.color, linewidth=0,
                   label="no successful restart")
      axes.text(x[task], 0.02, "no success", rotation=90, ha="center",
                va="bottom", fontsize="x-small",
                transform=axes.get_xaxis_transform())
  axes.set_xticks(range(len(tasks)), tasks)
  # Grid lines between the bars, none through them.
  axes.xaxis.grid(False)
  handles, labels = axes.get_legend_handles_labels()
  by_label = dict(zip(labels, handles))  # the hatches once
  axes.legend(by_label.values(), by_label.keys(), loc="upper left",
              bbox_to_anchor=(1.01, 1))


def figure(rows, path):
  """Table 1 as a PNG at `path`: (a) each task's success rate with its 95%
  interval beside the paper's; (b) its mean iterations: the generic
  program's, the learned one's, and the paper's learned and ideal. Rows
  with `methods` get a bar per method where others get one of ours."""
  names = list(_runs(rows[0]))
  colors = ({"ours": plots.OURS} if names == ["ours"]
            else plots.series_colors(names))
  papers = [row["paper"] for row in rows]

  def paper_values(key, scale=1):
    return [None if paper is None else scale * paper[key]
            for paper in papers]

  success, learned = [], []
  for name in names:
    runs = [_runs(row)[name] for row in rows]
    success.append(_Bars(
        name, colors[name], [100 * run["success_rate"] for run in runs],
        [[100 * bound for bound in run["success_interval"]]
         for run in runs]))
    learned.append(_Bars(
        f"learned ({name})", colors[name],
        [None if run["success_rate"] == 0 else run["learned_iterations"]
         for run in runs],
        failed=tuple(task for task, run in enumerate(runs)
                     if run["success_rate"] == 0)))
  success.append(_Bars("paper", plots.PAPER, paper_values("success", 100)))
  iterations = [
      _Bars("generic (ours)", plots.GENERIC,
            [row["generic_iterations"] for row in rows]),
      *learned,
      _Bars("learned (paper)", plots.PAPER, paper_values("learned")),
      _Bars("ideal (paper)", plots.IDEAL, paper_values("ideal"))]
  tasks = [row["task"].replace("@", "\n@") +
           ("" if row["paper"] else "\n(not in paper)") for row in rows]
  # Wide enough for every bar's rotated label, and a legend to the right.
  width = 2.5 + len(rows) * (0.4 + 0.28 * len(iterations))
  with plots.figure(path, rows=2, panel_size=(width, 3.6)) as (fig, axes):
    success_axes, iterations_axes = axes[:, 0]
    _grouped_bars(success_axes, tasks, success,
                  lambda value: f"{value:.0f}%")
    success_axes.set_title("(a) success rate, with its 95% (Wilson) "
                           "interval")
    success_axes.set_ylabel("restarts that succeed (%)")
    # Room above 100% for the labels.
    success_axes.set_ylim(0, 125)
    success_axes.set_yticks(range(0, 101, 25))
    _grouped_bars(iterations_axes, tasks, iterations,
                  lambda value: f"{value:.1f}")
    iterations_axes.set_title("(b) mean iterations to halt")
    iterations_axes.set_ylabel("iterations")
    iterations_axes.margins(y=0.2)
    fig.suptitle("Table 1: ours beside the paper's")


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
  # Its start-up notices kept off the terminal, as in every command.
  cli.import_tensorflow_and_tfds()
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
  outputs = {"table1.md": table, "table1.json": json.dumps(rows, indent=1)}
  for name, text in outputs.items():
    with open(os.path.join(_OUTPUT_DIR.value, name), "w") as f:
      f.write(text)
  written = list(outputs)
  if plots.draw_if_installed(figure, rows,
                             os.path.join(_OUTPUT_DIR.value, "table1.png")):
    written.append("table1.png")
  print(table)
  for row in rows:
    if "export_iterations_by_size" in row:
      print(f"{row['task']}: the served model's iterations by k: " +
            ", ".join(f"{size}: {value:.2f}" for size, value in
                      row["export_iterations_by_size"].items()))
  print(f"wrote {', '.join(written)} to {_OUTPUT_DIR.value}")


if __name__ == "__main__":
  cli.run(main)
