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

import json
import os


from tf_anc.common import cli
from tf_anc.common.config_flags import ConfigFlags
from tf_anc.training import sweep_trials

_FLAGS = ConfigFlags(sweep_trials.SweepConfig)


def main(argv):
  del argv
  config = sweep_trials.SweepConfig(**_FLAGS.values())
  if not config.base_flagfile:
    raise cli.UsageError("--base_flagfile is required: the training "
                         "flagfile every trial starts from")
  base_flagfile = os.path.abspath(config.base_flagfile)
  if not os.path.exists(base_flagfile):
    raise cli.UsageError(f"--base_flagfile: no such file: {base_flagfile}")
  try:
    space = sweep_trials.parse_space(config.grid, config.sample)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  output_dir = os.path.abspath(config.output_dir)
  data_dir = config.data_dir and os.path.abspath(config.data_dir)
  cli.import_tensorflow_and_tfds()
  # Checks the flags every trial shares and prepares the task's data once,
  # here, rather than in trials racing to write it.
  some_values = {name: values[0] for name, values in space.grid.items()}
  try:
    trial = sweep_trials.training_config(sweep_trials.trial_flags(
        base_flagfile, some_values, output_dir, data_dir))
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  from tf_anc_datasets import anc_tasks  # pylint: disable=g-import-not-at-top
  for split in ("train", "test"):
    anc_tasks.load(trial.task, trial.distribution, split, data_dir)

  import ray  # pylint: disable=g-import-not-at-top
  from ray import tune  # pylint: disable=g-import-not-at-top
  from ray.tune.search import basic_variant  # pylint: disable=g-import-not-at-top
  os.makedirs(output_dir, exist_ok=True)
  ray.init(address=config.ray_address, include_dashboard=False,
           log_to_driver=False)
  settings = {"base_flagfile": base_flagfile, "output_dir": output_dir,
              "data_dir": data_dir}
  tuner = tune.Tuner(
      tune.with_resources(sweep_trials.run_trial, {"cpu": config.cpus_per_trial}),
      param_space=sweep_trials.param_space(space, settings),
      tune_config=tune.TuneConfig(
          num_samples=config.num_samples,
          search_alg=basic_variant.BasicVariantGenerator(
              random_state=config.seed)),
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
  rows = sweep_trials.write_results(rows, base_flagfile, output_dir)
  print(f"{len(rows)} trials finished, {failed} failed; results: "
        f"{output_dir}/sweep.json, best: {output_dir}/best.flags, "
        f"TensorBoard: tensorboard --logdir {output_dir}/hparams")
  if rows:
    best = rows[0]
    print(f"best: success rate {best['success_rate']:.2f}, learned "
          f"iterations {best['learned_iterations']}, "
          f"{json.dumps(best['config'])}")
  if failed:
    raise SystemExit(f"{failed} trials failed; see {output_dir}/ray")


if __name__ == "__main__":
  cli.run(main)
