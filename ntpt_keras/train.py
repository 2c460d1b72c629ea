"""NTPT training from the command line: its flags, its run, its report.

`python -m tf_anc.train --model_file=...` runs this: it trains a Neural
TerpreT model from input/output instances, a TerpreT data file or a tfds
dataset,

  python -m tf_anc.train --model_file=M.py --hypers_file=H.json \\
      --hypers=NAME --data_file=D.json --train_batch=train --test_batch=NAME \\
      --restarts=K --model_dir=DIR
  python -m tf_anc.train --flagfile=configs/ntpt/maze.flags

and writes checkpoints, TensorBoard logs, `results.json` (restarts,
solved_restarts, test_accuracy, the learned program and params) and the best
restart as a SavedModel.
"""

from absl import flags
from absl import logging

from ntpt_keras.config import NtptConfig
from tf_anc.common import cli
from tf_anc.common.config_flags import ConfigFlags


class Flags(ConfigFlags):
  """The NTPT trainer's flags (NtptConfig's fields) in `flag_values`, read
  back as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    super().__init__(NtptConfig, flag_values)

  def config(self) -> NtptConfig:
    """The config the flags say; UsageError if one of them is malformed."""
    try:
      return NtptConfig(**self.values())
    except ValueError as error:
      raise cli.UsageError(str(error)) from None


def main(ntpt_flags: Flags):
  """Trains (resuming), evaluates and exports; prints the best program."""
  config = ntpt_flags.config()
  cli.import_tensorflow_and_tfds()
  from ntpt_keras import training  # pylint: disable=g-import-not-at-top
  logging.info("NTPT training: %s", config)
  try:
    run = training.Trainer(config)
    run.train()
    report = run.evaluate()
  except ValueError as error:  # a ModelError, bad data, a bad config
    raise cli.UsageError(str(error)) from None
  saved_model = run.export(report)
  print(f"\n{config.model_file}: {report['solved_restarts']} of "
        f"{report['restarts']} restarts solved the training instances; best "
        f"restart {report['best_restart']}: test accuracy "
        f"{report['test_accuracy']:.3f} on {report['test_examples']} "
        "instances")
  for name, accuracy in report.get("network_test_accuracy", {}).items():
    print(f"network {name}: test accuracy {accuracy:.3f}")
  print(report["program"])
  print(f"results: {config.model_dir}/results.json, SavedModel: "
        f"{saved_model}, TensorBoard: tensorboard --logdir {config.model_dir}")
