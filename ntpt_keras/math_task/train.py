"""The MATH experiment from the command line: flags, run, report.

`python -m tf_anc.train --math` runs this: the NTPT paper's MATH model
(section 4.3) trained on 2-digit expression tapes, restarts side by side
over the neural library of the lifelong experiment, tested on tapes of 1 to
16 digits,

  python -m tf_anc.train --flagfile=configs/ntpt/math.flags
  python -m tf_anc.train --flagfile=configs/ntpt/math_symbols.flags

and writes TensorBoard curves, `results.json` (restarts,
converged_restarts, generalizing_restarts, program, accuracy_by_length,
network_accuracy, ...) and the best restart as a SavedModel over tapes of
any length.
"""

from absl import flags
from absl import logging

from ntpt_keras.math_task.config import MathConfig
from tf_anc.common import cli
from tf_anc.common.config_flags import ConfigFlags


class Flags(ConfigFlags):
  """The MATH run's flags (MathConfig's fields) in `flag_values`, read back
  as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    super().__init__(MathConfig, flag_values)

  def config(self) -> MathConfig:
    return MathConfig(**self.values())


def main(math_flags: Flags):
  """Trains (resuming), evaluates and exports; prints the learned program."""
  config = math_flags.config()
  cli.import_tensorflow_and_tfds()
  from ntpt_keras.math_task import export  # pylint: disable=g-import-not-at-top
  from ntpt_keras.math_task import trainer  # pylint: disable=g-import-not-at-top
  logging.info("MATH: %s", config)
  try:
    run = trainer.MathTrainer(config)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  run.train()
  report = run.evaluate()
  saved_model = export.export_saved_model(
      run, report["best_restart"], f"{config.model_dir}/saved_model")
  print(f"\nMATH ({config.variant}): {report['converged_restarts']} of "
        f"{report['restarts']} restarts converged; "
        f"{report['generalizing_restarts']} learned a program right on "
        f"every symbols tape of 1-{config.max_digits} digits. Best restart "
        f"{report['best_restart']}:")
  print(report["program"])
  print("accuracy by digits: " + ", ".join(
      f"{n}: {value:.3f}" for n, value in
      report["accuracy_by_length"].items()))
  for name, value in report["network_accuracy"].items():
    print(f"{name}: {value:.3f} of test symbols read right")
  print(f"results: {config.model_dir}/results.json, SavedModel: "
        f"{saved_model}, TensorBoard: tensorboard --logdir "
        f"{config.model_dir}")
