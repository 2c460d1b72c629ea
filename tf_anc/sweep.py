"""A hyper-parameter search over ANC training runs, on Ray Tune.

  python -m tf_anc.sweep --flagfile=configs/anc/sweep/access.flags \
      [--output_dir=runs/sweep/access] [--ray_address=ADDR]

Every trial is one ANC training run (`tf_anc.training`): the flags of
`--base_flagfile`, then the trial's values of the searched flags, K restarts
trained side by side in one graph as always. The searched flags are given
as

  --grid=learning_rate=0.03,0.1,0.3      every value, crossed with the other
                                         grids (Ray Tune's grid_search)
  --sample=sharpness=log_uniform:1:10    drawn per trial; also uniform:LO:HI
                                         and choice:A,B,...

with `--num_samples` draws of the samples per point of the grid (their
generator seeded by `--seed`). By default Ray starts inside the command, on
this machine, running as many trials at once as it has CPUs for
(`--cpus_per_trial` each); `--ray_address` runs them on an existing Ray
cluster instead (`ray start --head` on one machine, `ray start
--address=HEAD:6379` on the others; every machine needs this package).

Writes to `--output_dir`:
- `sweep.json`: one row per trial, best first: `config` (flag -> value),
  `success_rate`, `restarts`, `learned_iterations` (the fastest successful
  restart's mean iterations, null without one), `interpretability` (its
  level) and `model_dir`;
- `hparams/`: every trial for TensorBoard's HParams dashboard
  (`tensorboard --logdir OUTPUT_DIR/hparams`);
- `best.flags`: the base flagfile with the best trial's values (and
  `--model_dir=OUTPUT_DIR/best`), a flagfile `python -m tf_anc.train` runs
  as it is;
- `trials/<trial>/`: each trial's model_dir (checkpoints, results.json).
A trial's folder is named by its values, so a killed sweep run again with
the same flags resumes every trial from its last checkpoint and does not
train finished ones again.
"""

import dataclasses
import hashlib
import json
import os
from typing import Dict, List, Optional, Tuple

from absl import flags

from tf_anc.common import cli

_BASE_FLAGFILE = flags.DEFINE_string(
    "base_flagfile", None, "The ANC training flagfile every trial starts "
    "from (flags given here after it override it).")
_GRID = flags.DEFINE_multi_string(
    "grid", [], "FLAG=V1,V2,...: try every value (crossed with the other "
    "grids). A single value fixes the flag for every trial.")
_SAMPLE = flags.DEFINE_multi_string(
    "sample", [], "FLAG=log_uniform:LO:HI, FLAG=uniform:LO:HI or "
    "FLAG=choice:A,B,...: a value drawn for each trial.")
_NUM_SAMPLES = flags.DEFINE_integer(
    "num_samples", 1, "Trials per point of the grid (new draws of the "
    "--sample flags each).", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", 0, "Seeds the --sample draws.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/sweep",
                                  "Where the sweep's files go.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tfds data directory.")
_RAY_ADDRESS = flags.DEFINE_string(
    "ray_address", None, "An existing Ray cluster's address (e.g. "
    "HEAD:6379, or 'auto'); default: start Ray here, inside the command.")
_CPUS_PER_TRIAL = flags.DEFINE_integer("cpus_per_trial", 1,
                                       "CPUs Ray reserves for each trial.",
                                       lower_bound=1)

_SAMPLERS = ("log_uniform", "uniform", "choice")


@dataclasses.dataclass(frozen=True)
class Space:
  """The searched flags: grid values and sampled distributions."""
  grid: Dict[str, Tuple[str, ...]]
  samples: Dict[str, Tuple[str, Tuple[str, ...]]]  # flag -> (kind, args)


def parse_space(grid: List[str], samples: List[str]) -> Space:
  """`--grid` and `--sample` values; ValueError naming a malformed one."""
  parsed_grid, parsed_samples = {}, {}
  for text in grid:
    name, values = _assignment("--grid", text)
    parsed_grid[name] = tuple(v for v in values.split(",") if v)
    if not parsed_grid[name]:
      raise ValueError(f"--grid={text}: no values")
  for text in samples:
    name, spec = _assignment("--sample", text)
    kind, _, args = spec.partition(":")
    if kind not in _SAMPLERS:
      raise ValueError(f"--sample={text}: unknown distribution {kind!r}; "
                       f"choose from {', '.join(_SAMPLERS)}")
    values = tuple(args.split(",") if kind == "choice" else args.split(":"))
    if kind != "choice":
      try:
        low, high = (float(v) for v in values)
      except ValueError:
        raise ValueError(f"--sample={text}: {kind} takes LO:HI, two "
                         "numbers") from None
      if not low < high or (kind == "log_uniform" and low <= 0):
        raise ValueError(f"--sample={text}: need 0 < LO < HI" if
                         kind == "log_uniform" else
                         f"--sample={text}: need LO < HI")
    parsed_samples[name] = (kind, values)
  both = set(parsed_grid) & set(parsed_samples)
  if both:
    raise ValueError(f"{', '.join(sorted(both))} both on a grid and sampled")
  return Space(parsed_grid, parsed_samples)


def _assignment(option: str, text: str) -> Tuple[str, str]:
  name, equals, value = text.partition("=")
  if not equals or not name:
    raise ValueError(f"{option}={text}: expected FLAG=...")
  return name.lstrip("-"), value


def trial_flags(base_flagfile: str, values: Dict[str, object],
                model_dir: str, data_dir: Optional[str]) -> List[str]:
  """The `tf_anc.train` flags of a trial."""
  result = [f"--flagfile={base_flagfile}"]
  result += [f"--{name}={value}" for name, value in sorted(values.items())]
  result.append(f"--model_dir={model_dir}")
  if data_dir:
    result.append(f"--data_dir={data_dir}")
  return result


def trial_name(values: Dict[str, object]) -> str:
  """A trial's folder: its values, readable and short, plus their hash."""
  text = ",".join(f"{name}={value}" for name, value in sorted(values.items()))
  digest = hashlib.sha1(text.encode()).hexdigest()[:8]
  readable = "".join(c if c.isalnum() or c in "=.,-" else "_"
                     for c in text)[:80]
  return f"{readable}_{digest}"


def training_config(arguments: List[str]):
  """The resolved `TrainingConfig` of `tf_anc.train` flags; ValueError if
  they are bad."""
  from tf_anc.training import train as anc_train  # pylint: disable=g-import-not-at-top
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  flag_values = flags.FlagValues()
  anc_flags = anc_train.Flags(flag_values)
  try:
    flag_values(["tf_anc.train", *arguments])
  except flags.Error as error:
    raise ValueError(str(error)) from None
  return trainer.resolve(anc_flags.config())


def summarize(report: dict) -> dict:
  """A trial's metrics from its results.json report."""
  successes = [r for r in report["restarts"] if r["success"]]
  fastest = min(successes, key=lambda r: r["mean_iterations"],
                default=None)
  return {
      "success_rate": report["success_rate"],
      "restarts": len(report["restarts"]),
      "learned_iterations": fastest and fastest["mean_iterations"],
      "interpretability": fastest and fastest["interpretability"],
      "generic_iterations": report["generic_mean_iterations"],
  }


def run_trial(settings: dict):
  """One trial, in a Ray worker: trains (resuming), evaluates, reports."""
  from ray import tune  # pylint: disable=g-import-not-at-top
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  values = settings["values"]
  model_dir = os.path.join(settings["output_dir"], "trials",
                           trial_name(values))
  config = training_config(trial_flags(settings["base_flagfile"], values,
                                       model_dir, settings["data_dir"]))
  run = trainer.Trainer(config, log=lambda line: None)
  run.train()
  tune.report({**summarize(run.evaluate()), "model_dir": model_dir})


def _param_space(space: Space, settings: dict) -> dict:
  from ray import tune  # pylint: disable=g-import-not-at-top
  values = {name: tune.grid_search(list(choices))
            for name, choices in space.grid.items()}
  for name, (kind, args) in space.samples.items():
    if kind == "choice":
      values[name] = tune.choice(list(args))
    else:
      low, high = (float(v) for v in args)
      values[name] = (tune.loguniform(low, high) if kind == "log_uniform"
                      else tune.uniform(low, high))
  return {**settings, "values": values}


def _rank(row) -> tuple:
  """Best first: the highest success rate, then the fewest iterations."""
  iterations = row["learned_iterations"]
  return (-row["success_rate"], iterations is None, iterations or 0.0)


def write_results(rows: List[dict], base_flagfile: str,
                  output_dir: str) -> None:
  """sweep.json, best.flags and the HParams logs of finished trials."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorboard.plugins.hparams import api as hp  # pylint: disable=g-import-not-at-top
  rows = sorted(rows, key=_rank)
  with open(os.path.join(output_dir, "sweep.json"), "w") as f:
    json.dump(rows, f, indent=1)
  if rows:
    with open(base_flagfile) as f:
      base = f.read()
    best = rows[0]
    with open(os.path.join(output_dir, "best.flags"), "w") as f:
      f.write(f"# The best trial of a sweep (success rate "
              f"{best['success_rate']:.2f}, learned iterations "
              f"{best['learned_iterations']}): {base_flagfile} and its "
              "values.\n")
      # The base's model_dir is another run's: the best trial's run goes
      # beside the sweep.
      f.writelines(f"{line}\n" for line in base.splitlines()
                   if not line.startswith("--model_dir="))
      f.writelines(f"--{name}={value}\n"
                   for name, value in sorted(best["config"].items()))
      f.write(f"--model_dir={os.path.join(output_dir, 'best')}\n")
  metrics = ("success_rate", "learned_iterations", "interpretability")
  for row in rows:
    directory = os.path.join(output_dir, "hparams",
                             os.path.basename(row["model_dir"]))
    with tf.summary.create_file_writer(directory).as_default():
      hp.hparams({name: _hparam_value(value)
                  for name, value in row["config"].items()})
      for metric in metrics:
        if row[metric] is not None:
          tf.summary.scalar(metric, row[metric], step=0)


def _hparam_value(value):
  """HParams takes bools, numbers and strings; flags values are strings."""
  for kind in (int, float):
    try:
      return kind(value)
    except ValueError:
      pass
  return str(value)


def main(argv):
  del argv
  if not _BASE_FLAGFILE.value:
    raise cli.UsageError("--base_flagfile is required: the training "
                         "flagfile every trial starts from")
  base_flagfile = os.path.abspath(_BASE_FLAGFILE.value)
  if not os.path.exists(base_flagfile):
    raise cli.UsageError(f"--base_flagfile: no such file: {base_flagfile}")
  try:
    space = parse_space(_GRID.value, _SAMPLE.value)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  output_dir = os.path.abspath(_OUTPUT_DIR.value)
  data_dir = _DATA_DIR.value and os.path.abspath(_DATA_DIR.value)
  cli.import_tensorflow_and_tfds()
  # Checks the flags every trial shares and prepares the task's data once,
  # here, rather than in trials racing to write it.
  some_values = {name: values[0] for name, values in space.grid.items()}
  try:
    config = training_config(trial_flags(base_flagfile, some_values,
                                         output_dir, data_dir))
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  from tf_anc_datasets import anc_tasks  # pylint: disable=g-import-not-at-top
  for split in ("train", "test"):
    anc_tasks.load(config.task, config.distribution, split, data_dir)

  import ray  # pylint: disable=g-import-not-at-top
  from ray import tune  # pylint: disable=g-import-not-at-top
  from ray.tune.search import basic_variant  # pylint: disable=g-import-not-at-top
  os.makedirs(output_dir, exist_ok=True)
  ray.init(address=_RAY_ADDRESS.value, include_dashboard=False,
           log_to_driver=False)
  settings = {"base_flagfile": base_flagfile, "output_dir": output_dir,
              "data_dir": data_dir}
  tuner = tune.Tuner(
      tune.with_resources(run_trial, {"cpu": _CPUS_PER_TRIAL.value}),
      param_space=_param_space(space, settings),
      tune_config=tune.TuneConfig(
          num_samples=_NUM_SAMPLES.value,
          search_alg=basic_variant.BasicVariantGenerator(
              random_state=_SEED.value)),
      run_config=tune.RunConfig(storage_path=os.path.join(output_dir, "ray"),
                                name="sweep", verbose=1))
  results = tuner.fit()
  ray.shutdown()
  rows, failed = [], 0
  for result in results:
    if result.error or not result.metrics:
      failed += 1
      continue
    metrics = result.metrics
    rows.append({"config": {name: str(value) for name, value in
                            result.config["values"].items()},
                 **{name: metrics[name] for name in (
                     "success_rate", "restarts", "learned_iterations",
                     "interpretability", "generic_iterations",
                     "model_dir")}})
  write_results(rows, base_flagfile, output_dir)
  print(f"{len(rows)} trials finished, {failed} failed; results: "
        f"{output_dir}/sweep.json, best: {output_dir}/best.flags, "
        f"TensorBoard: tensorboard --logdir {output_dir}/hparams")
  if rows:
    best = sorted(rows, key=_rank)[0]
    print(f"best: success rate {best['success_rate']:.2f}, learned "
          f"iterations {best['learned_iterations']}, "
          f"{json.dumps(best['config'])}")
  if failed:
    raise SystemExit(f"{failed} trials failed; see {output_dir}/ray")


if __name__ == "__main__":
  cli.run(main)
