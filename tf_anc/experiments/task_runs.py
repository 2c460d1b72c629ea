"""Running Table 1's tasks from their flagfiles and summarising the runs.

Shared by `tf_anc.experiments.table1` and `tf_anc.experiments.compare`: a
task spec (`access`, `listk@biased_k_upto_l`) is trained with
`<configs>/<task>.flags` as `python -m tf_anc.train` would train it, in
this process (resuming, or read back when already finished), and its
results.json becomes one row; a variant's runs over several seeds are
pooled into one.
"""

import dataclasses
import json
import math
import os
import shlex
import shutil
import time

import numpy as np

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


def task_and_distribution(spec):
  """`listk@biased_k_upto_l` -> ("listk", "biased_k_upto_l"); a plain task
  name -> (task, None): its flagfile's distribution."""
  task, _, distribution = spec.partition("@")
  return task, distribution or None


def flagfile(configs, spec):
  """`<configs>/<spec>.flags` when there is one (a configuration for that
  distribution, e.g. `listk@biased_k_upto_l.flags`), else the task's."""
  own = os.path.join(configs, spec + ".flags")
  if os.path.exists(own):
    return own
  return os.path.join(configs, task_and_distribution(spec)[0] + ".flags")


# Settings that do not change what a run computes (or name where it reads
# and writes): a run read back may differ from its command in these.
_BOOKKEEPING = ("model_dir", "data_dir", "log_every", "checkpoint_every",
                "jit_compile")


def stale_settings(report, arguments):
  """{setting: (the run's value, the command's)} wherever the run that
  wrote `report` differs from what the `tf_anc.train` `arguments` ask for
  now (its flagfile edited since, say)."""
  # Imported here: the commands parse their flags before TensorFlow loads.
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  config = _training_config(arguments)
  wanted = json.loads(json.dumps(trainer.config_json(config)))
  defaults = json.loads(json.dumps(trainer.config_json(
      dataclasses.replace(config, **{
          field.name: field.default
          for field in dataclasses.fields(config)
          if field.default is not dataclasses.MISSING}))))
  return {name: (report["config"].get(name), value)
          for name, value in wanted.items()
          if name not in _BOOKKEEPING and report["config"].get(name) != value
          # A setting added since the run, asked for at its default, is
          # what the run did.
          and not (name not in report["config"] and value == defaults[name])}


def run_task(spec, restarts, model_dir, data_dir, configs, extra_flags=()):
  """Trains one task spec (unless done) into `model_dir` with its flagfile
  and `extra_flags`; returns its results.json. A finished run there with
  other settings is an error (cli.UsageError), not read back as this one."""
  _, distribution = task_and_distribution(spec)
  arguments = [f"--flagfile={flagfile(configs, spec)}",
               f"--restarts={restarts}", f"--model_dir={model_dir}",
               "--log_every=500", *extra_flags]
  if distribution:
    arguments.append(f"--distribution={distribution}")
  if data_dir:
    arguments.append(f"--data_dir={data_dir}")
  results_path = os.path.join(model_dir, "results.json")
  if os.path.exists(results_path):
    with open(results_path) as f:
      report = json.load(f)
    stale = stale_settings(report, arguments)
    if stale:
      raise cli.UsageError(
          f"{model_dir} holds a run with other settings (" +
          ", ".join(f"{name} {old} there, {new} now"
                    for name, (old, new) in sorted(stale.items())) +
          "): move it away or give another --output_dir")
    if report["train_steps_done"] == report["config"]["train_steps"]:
      return report
  print(f"== {spec}: python -m tf_anc.train {shlex.join(arguments)}",
        flush=True)
  _train(arguments)
  with open(results_path) as f:
    return json.load(f)


def _train(arguments):
  """What `python -m tf_anc.train` does with `arguments`, in this process:
  a table's runs share one import of TensorFlow (5 s a run in a process of
  its own; each run seeds everything it draws, so it trains the same)."""
  cli.import_tensorflow_and_tfds()
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  trainer.train_and_evaluate(_training_config(arguments))


def _training_config(arguments):
  """The `TrainingConfig` of `tf_anc.train` arguments; UsageError if bad."""
  from tf_anc.training import sweep_trials  # pylint: disable=g-import-not-at-top
  try:
    return sweep_trials.training_config(arguments)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None


METHOD_HELP = (
    "gradient: training alone (no program search); search: the program "
    "search alone, from the compiled program, for as many steps as take "
    "the gradient's training time here; both: the gradient's run, then "
    "that search from each restart's argmax program; guided: the same, "
    "its proposals drawn from each restart's trained controller "
    "(tf_anc.train's --method).")


def search_steps_matching(report, seconds, probe_seconds=0.5):
  """Program-search steps per restart whose search takes about `seconds`
  of wall time here: the native search (all restarts at once) from the
  run's program, on samples of its distribution, at `search_rate`."""
  # pylint: disable=g-import-not-at-top
  from tf_anc import lang
  from tf_anc.training import program_search
  from tf_anc_datasets import anc_distributions
  config = report["config"]
  program = lang.load_program(config["program"], config["memory_size"])
  examples = program_search.distinct_examples(
      *anc_distributions.sample(report["task"], report["distribution"],
                                20 * config["program_search_examples"],
                                seed=2**21),
      config["program_search_examples"])
  generic = report["generic_mean_steps"]
  restarts = len(report["restarts"])

  def search(steps):
    program_search.anneal_many(
        [program] * restarts, examples, config["max_steps"], steps,
        [f"probe/{restart}" for restart in range(restarts)],
        [generic] * restarts)

  return max(1, round(search_rate(search, probe_seconds) * seconds))


def search_rate(search, probe_seconds, windows=3):
  """Steps a second of `search(steps)`: the median over `windows` runs of
  as many steps as first took at least `probe_seconds` (doubling from
  1,000). One window can run at half the speed of the next on a busy
  machine (a Table 1 run's ListK search got half its budget from one
  window); the median ignores one such."""
  def timed(steps):
    started = time.perf_counter()
    search(steps)
    return time.perf_counter() - started

  steps = 1000
  elapsed = timed(steps)
  while elapsed < probe_seconds:
    steps *= 2
    elapsed = timed(steps)
  rates = [steps / elapsed] + [steps / timed(steps)
                               for _ in range(windows - 1)]
  return float(np.median(rates))


def method_runs(spec, restarts, directory, data_dir, configs, extra_flags,
                methods):
  """`spec` run by each of `methods` (config.METHODS) into `directory/<method>`,
  the search's budget matched to the gradient's training time; returns
  {method: results.json}, each with "wall_seconds" (its training and
  program search, evaluation left out) and "search_steps"."""
  gradient_dir = os.path.join(directory, "gradient")
  gradient = run_task(spec, restarts, gradient_dir, data_dir, configs,
                      [*extra_flags, "--method=gradient"])
  budget = gradient["seconds"]["train"]
  reports = {"gradient": {**gradient, "wall_seconds": budget,
                          "search_steps": 0}}
  steps = None
  for method in methods:
    if method == "gradient":
      continue
    model_dir = os.path.join(directory, method)
    done = _finished_report(model_dir)
    if done is not None:  # the budget it was given, not a new estimate
      steps = done["config"]["program_search_steps"]
    elif steps is None:
      steps = search_steps_matching(gradient, budget)
    flags = [*extra_flags, f"--method={method}",
             f"--program_search_steps={steps}"]
    if method != "search" and not os.path.exists(model_dir):
      # The gradient's training, copied.
      shutil.copytree(gradient_dir, model_dir, ignore=shutil.ignore_patterns(
          "results.json", "saved_model*"))
    report = run_task(spec, restarts, model_dir, data_dir, configs, flags)
    seconds = report["seconds"]
    wall = (seconds["train"] or 0.0) + (seconds["program_search"] or 0.0)
    if method != "search":
      wall += budget
    reports[method] = {**report, "wall_seconds": wall,
                       "search_steps": steps}
  return {method: reports[method] for method in methods}


def _finished_report(model_dir):
  path = os.path.join(model_dir, "results.json")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


# The memory cell holding a task's size parameter: ListK's k.
_SIZE_CELLS = {"listk": 1}


def check_export(report, num_examples=500, seed=2**20):
  """The served SavedModel on fresh samples of the run's distribution
  (drawn with a seed no split uses): the share it gets right and its mean
  iterations, beside the discrete generic program's on the same inputs."""
  # Imported here: the commands parse their flags before TensorFlow loads.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tf_anc import lang  # pylint: disable=g-import-not-at-top
  from tf_anc.common import serving  # pylint: disable=g-import-not-at-top
  from tf_anc.training import evaluation  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import anc_distributions  # pylint: disable=g-import-not-at-top
  config = report["config"]
  inputs, targets, masks = anc_distributions.sample(
      report["task"], report["distribution"], num_examples, seed)
  served = tf.saved_model.load(serving.resolve_saved_model(
      os.path.join(config["model_dir"], "saved_model")))
  outputs = served.signatures["serving_default"](
      memory=tf.constant(inputs, tf.int32))
  right = evaluation.correct(outputs["memory"].numpy(), targets, masks)
  generic = evaluation.generic_steps(
      lang.load_program(config["program"], config["memory_size"]), inputs,
      config["max_steps"])
  steps = outputs["steps"].numpy()
  checked = {
      "fresh_examples": num_examples,
      "export_accuracy": float(np.mean(right)),
      "export_iterations": float(np.mean(steps)) + 1,
      "generic_iterations_fresh": float(np.mean(generic)) + 1,
  }
  unbiased = anc_distributions.UNBIASED
  if (report["distribution"] != unbiased and
      unbiased in anc_distributions.get(report["task"]).distributions):
    # What the served program still does in general: a program that
    # exploits the bias is wrong off it.
    general_inputs, general_targets, general_masks = (
        anc_distributions.sample(report["task"], unbiased, num_examples,
                                 seed))
    general = served.signatures["serving_default"](
        memory=tf.constant(general_inputs, tf.int32))
    checked["export_accuracy_unbiased"] = float(np.mean(evaluation.correct(
        general["memory"].numpy(), general_targets, general_masks)))
  if report["task"] in _SIZE_CELLS:
    # Whether the served program's time grows with the input's size (the
    # paper's O(1) ListK): mean iterations for each value of the size cell.
    sizes = inputs[:, _SIZE_CELLS[report["task"]]]
    checked["export_iterations_by_size"] = {
        int(size): float(np.mean(steps[sizes == size])) + 1
        for size in np.unique(sizes)}
  return checked


def wilson_interval(successes, trials, z=1.96):
  """The 95% Wilson score interval of a success rate, (low, high)."""
  rate = successes / trials
  denominator = 1 + z * z / trials
  centre = (rate + z * z / (2 * trials)) / denominator
  half = z * math.sqrt(rate * (1 - rate) / trials +
                       z * z / (4 * trials * trials)) / denominator
  return max(0.0, centre - half), min(1.0, centre + half)


def summarize(spec, report):
  """Ours for one task: generic/learned iterations, success rate."""
  restarts = report["restarts"]
  successes = [r for r in restarts if r["success"]]
  # Restarts whose argmax program (the decompiled text, run on the discrete
  # machine) is right and faster: a program was learned, not only a soft
  # machine that the biased inputs let through.
  program_successes = [
      r for r in restarts if r["discrete_accuracy"] == 1.0 and
      r["discrete_mean_steps"] < report["generic_mean_steps"]]
  # Right and faster by the final memory alone, wrong at halting: the
  # halting probability stopped them before the work was done.
  early_halting = [
      r for r in restarts if r["accuracy"] == 1.0 and
      r["halted_accuracy"] < 1.0 and
      r["mean_steps"] < report["generic_mean_steps"]]
  best = min(successes or restarts,
             key=lambda r: (-r["accuracy"], r["mean_iterations"]))
  return {
      "task": spec,
      "distribution": report["distribution"],
      "restarts": len(restarts),
      "generic_iterations": report["generic_mean_iterations"],
      "learned_iterations": best["mean_iterations"],
      "learned_accuracy": best["accuracy"],
      "learned_interpretability": best["interpretability"],
      "successes": len(successes),
      "success_rate": len(successes) / len(restarts),
      "success_interval": wilson_interval(len(successes), len(restarts)),
      "early_halting": len(early_halting),
      "program_successes": len(program_successes),
      "program_learned_iterations": min(
          (r["discrete_mean_steps"] + 1 for r in program_successes),
          default=None),
      # Restarts that reach the same program (its argmax choices, not their
      # probabilities) count once here.
      "distinct_successful_programs": len({_choices(r["program"])
                                           for r in successes}),
      # None for a task not in the paper (a user's inputs file).
      "paper": PAPER.get(task_and_distribution(spec)[0]),
  }


def success_text(row):
  """`35% [20-54]`: the rate and its 95% interval."""
  low, high = row["success_interval"]
  return f"{row['success_rate']:.0%} [{low:.0%}-{high:.0%}]"


def _choices(program_text):
  """A decompiled program without its comments (the probabilities)."""
  return "\n".join(line.split("#")[0].rstrip()
                   for line in program_text.splitlines()
                   if line.split("#")[0].strip())


def check_tasks(specs, configs, paper_only=True):
  """UsageError unless every task spec has a flagfile (and, `paper_only`,
  is Table 1's)."""
  tasks = [task_and_distribution(spec)[0] for spec in specs]
  unknown = [task for task in tasks if task not in PAPER]
  if unknown and paper_only:
    raise cli.UsageError(f"unknown tasks {', '.join(unknown)}; Table 1 has "
                         f"{', '.join(PAPER)}")
  for spec in specs:
    path = flagfile(configs, spec)
    if not os.path.exists(path):
      raise cli.UsageError(f"no flagfile {path}")


def parse_variant(text):
  """`NAME[:FLAGS]` -> (name, [flag, ...])."""
  name, _, flag_text = text.partition(":")
  if not name or "/" in name:
    raise ValueError(f"--variant={text}: give NAME or NAME:FLAGS")
  added = shlex.split(flag_text)
  for flag in added:
    if not flag.startswith("--"):
      raise ValueError(f"--variant={text}: {flag!r} is not a --flag")
  return name, added


def pooled(spec, variant, reports, seconds=None):
  """One row: the variant's restarts over all its seeds; `seconds`, the
  wall time its runs took here (0 for runs read back)."""
  rows = [summarize(spec, report) for report in reports]
  successes = sum(row["successes"] for row in rows)
  restarts = sum(row["restarts"] for row in rows)
  learned = [row["learned_iterations"] for row in rows if row["successes"]]
  return {
      "task": spec, "variant": variant, "runs": len(rows),
      "restarts": restarts, "successes": successes,
      "success_rate": successes / restarts,
      "success_interval": wilson_interval(successes, restarts),
      "runs_with_success": sum(1 for row in rows if row["successes"]),
      "early_halting": sum(row["early_halting"] for row in rows),
      "program_successes": sum(row["program_successes"] for row in rows),
      "distinct_successful_programs": sum(
          row["distinct_successful_programs"] for row in rows),
      "learned_iterations": min(learned) if learned else None,
      "generic_iterations": rows[0]["generic_iterations"],
      "seconds": seconds,
  }


def _seconds_text(seconds):
  return "-" if seconds is None else f"{seconds:.0f}"


def variants_markdown(rows):
  """compare.md: one row per (task, variant)."""
  lines = ["| task | variant | restarts | success [95%] | runs with a "
           "success | distinct successful programs | learned iterations "
           "(generic) | right only at the end (early halting) | argmax "
           "program right and faster | time (s) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
  for row in rows:
    learned = ("-" if row["learned_iterations"] is None
               else f"{row['learned_iterations']:.2f}")
    lines.append(
        f"| {row['task']} | {row['variant']} | {row['restarts']} "
        f"| {success_text(row)} | {row['runs_with_success']} of "
        f"{row['runs']} | {row['distinct_successful_programs']} "
        f"| {learned} ({row['generic_iterations']:.2f}) "
        f"| {row['early_halting']} | {row['program_successes']} "
        f"| {_seconds_text(row.get('seconds'))} |")
  return "\n".join(lines) + "\n"
