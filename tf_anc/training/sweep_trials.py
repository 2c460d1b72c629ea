"""The pieces of a hyper-parameter search over ANC runs (`tf_anc.sweep`).

The searched flags (`parse_space`: `--grid` values and `--sample`
distributions, as Ray Tune's `param_space`), the `tf_anc.train` flags of a
trial and its folder, one trial as Ray Tune runs it (`run_trial`: train,
resuming, evaluate, report), and the sweep's files (`write_results`:
sweep.json, best.flags, the HParams logs).
"""

import dataclasses
import hashlib
import json
import os
from typing import Dict, List, Optional, Tuple

from absl import flags

from tf_anc.common.config_flags import setting

_SAMPLERS = ("log_uniform", "uniform", "choice")


@dataclasses.dataclass(frozen=True)
class SweepConfig:
  """One sweep (`python -m tf_anc.sweep --helpfull`); each field a flag."""
  base_flagfile: Optional[str] = setting(
      None, "The ANC training flagfile every trial starts from (flags given "
      "here after it override it).")
  grid: Tuple[str, ...] = setting(
      (), "FLAG=V1,V2,...: try every value (crossed with the other grids). "
      "A single value fixes the flag for every trial.", repeated=True)
  sample: Tuple[str, ...] = setting(
      (), "FLAG=log_uniform:LO:HI, FLAG=uniform:LO:HI or FLAG=choice:A,B,"
      "...: a value drawn for each trial.", repeated=True)
  num_samples: int = setting(
      1, "Trials per point of the grid (new draws of the --sample flags "
      "each).", lower=1)
  seed: int = setting(0, "Seeds the --sample draws.")
  output_dir: str = setting("runs/sweep", "Where the sweep's files go.")
  data_dir: Optional[str] = setting(None)
  ray_address: Optional[str] = setting(
      None, "An existing Ray cluster's address (e.g. HEAD:6379, or 'auto'); "
      "default: start Ray here, inside the command.")
  cpus_per_trial: int = setting(1, "CPUs Ray reserves for each trial.",
                                lower=1)


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


def trial_name(values: Dict[str, object], varying=None) -> str:
  """A trial's folder: the values of the `varying` flags (default: all),
  readable and short, plus the hash of all its values."""
  def text(names):
    return ",".join(f"{name}={values[name]}" for name in sorted(names))
  digest = hashlib.sha1(text(values).encode()).hexdigest()[:8]
  shown = values if varying is None else set(varying) & set(values)
  readable = "".join(c if c.isalnum() or c in "=.,-" else "_"
                     for c in text(shown))[:80]
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
                           trial_name(values, settings["varying"]))
  config = training_config(trial_flags(settings["base_flagfile"], values,
                                       model_dir, settings["data_dir"]))
  run = trainer.Trainer(config, log=lambda line: None)
  run.train()
  tune.report({**summarize(run.evaluate()), "model_dir": model_dir})


def param_space(space: Space, settings: dict) -> dict:
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
  # A one-value grid fixes its flag: trials' folders do not spell it out.
  varying = sorted([name for name, choices in space.grid.items()
                    if len(choices) > 1] + list(space.samples))
  return {**settings, "values": values, "varying": varying}


def _rank(row) -> tuple:
  """Best first: the highest success rate, then the fewest iterations."""
  iterations = row["learned_iterations"]
  return (-row["success_rate"], iterations is None, iterations or 0.0)


def write_results(rows: List[dict], base_flagfile: str,
                  output_dir: str) -> List[dict]:
  """sweep.json, best.flags and the HParams logs of finished trials;
  returns the rows best first."""
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
  return rows


def _hparam_value(value):
  """HParams takes bools, numbers and strings; flags values are strings."""
  for kind in (int, float):
    try:
      return kind(value)
    except ValueError:
      pass
  return str(value)
