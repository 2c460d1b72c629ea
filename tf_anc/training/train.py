"""ANC training from the command line: its flags, its run, its report.

`python -m tf_anc.train` runs this when given neither `--model_file` nor
`--lifelong`: it adapts a compiled program to a task's input distribution,

  python -m tf_anc.train --flagfile=configs/anc/listk.flags [--restarts=20]

With no flags at all it trains biased ListK with our tuned hyper-parameters
(`configs/anc/tuned/listk.flags`) and 8 restarts, in minutes on a CPU.
Writes checkpoints, TensorBoard logs, `results.json` and the best restart's
SavedModel to `--model_dir`.
"""

from absl import flags
from absl import logging

from tf_anc.common import cli
from tf_anc.common.config_flags import ConfigFlags
from tf_anc.training import config as config_module
from tf_anc.training.config import TrainingConfig


class Flags(ConfigFlags):
  """The ANC trainer's flags (TrainingConfig's fields) in `flag_values`,
  read back as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    super().__init__(TrainingConfig, flag_values)

  def config(self) -> TrainingConfig:
    """The config the flags say; UsageError if they contradict."""
    try:
      values = self.values()
    except ValueError as error:
      raise cli.UsageError(str(error)) from None
    given = self.present()
    if values["inputs_file"] is not None:
      clashing = [f"--{name}" for name in ("task", "distribution",
                                           "memory_size") if given[name]]
      if clashing:
        raise cli.UsageError(
            f"--inputs_file and {', '.join(clashing)}: the inputs file is "
            "the task (its width is M); drop " + ", ".join(clashing))
      if values["program"] is None:
        raise cli.UsageError("--inputs_file needs --program, the program "
                             "to adapt to the inputs")
      values["task"] = None
      # A user's task has its own defaults where no flag says otherwise.
      values.update({name: default for name, default in
                     config_module.USER_TASK_DEFAULTS.items()
                     if not given[name]})
    elif values["test_inputs_file"] or values["output_cells"]:
      raise cli.UsageError("--test_inputs_file and --output_cells go with "
                           "--inputs_file")
    return TrainingConfig(**values)


def main(anc_flags: Flags):
  """Trains (resuming), evaluates and exports; prints the best restart's
  program beside the one the run compiled."""
  cli.import_tensorflow_and_tfds()
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  try:
    run = trainer.Trainer(anc_flags.config())
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  config = run.config
  logging.info("ANC training: %s", config)
  run.train()
  run.search_programs()
  report = run.evaluate()
  saved_model = run.export(report)
  best = report["restarts"][report["best_restart"]]
  generic = report["generic_mean_iterations"]
  where = (f" ({report['distribution']})" if report["distribution"]
           else "")
  print(f"\n{report['task']}{where}: "
        f"{sum(r['success'] for r in report['restarts'])} of "
        f"{len(report['restarts'])} restarts succeeded.")
  if report["diverged_restarts"]:
    print(f"{len(report['diverged_restarts'])} diverged (a non-finite loss "
          f"or weight): restarts "
          f"{', '.join(map(str, report['diverged_restarts']))}.")
  if not best["diverged"]:
    print(f"best restart {best['restart']}: accuracy "
          f"{best['accuracy']:.3f}, {best['mean_iterations']:.2f} iterations "
          f"vs the generic program's {generic:.2f} "
          f"({generic / best['mean_iterations']:.2f}x faster), "
          f"interpretability level {best['interpretability']}; its "
          "program beside the one the run compiled:\n")
    print(run.program_beside_given(best["restart"]) + "\n")
  if report["exported_generic_program"]:
    print("No restart is right on the whole test split and faster than the "
          "generic program: the SavedModel is the compiled generic program.")
  elif report["exported_argmax_program"]:
    print(f"The SavedModel is restart {report['exported_restart']}'s argmax "
          "program, compiled exactly (interpretability level 1).")
  else:
    print(f"The SavedModel is restart {report['exported_restart']}.")
  print(f"results: {config.model_dir}/results.json, SavedModel: "
        f"{saved_model}, TensorBoard: tensorboard --logdir {config.model_dir}")
