"""The lifelong experiment from the command line: flags, run, report.

`python -m tf_anc.train --lifelong` runs this: the NTPT paper's lifelong
experiment, NTPT and the neural baselines trained on the 8 tasks of 2x2
grids in turn (`ntpt_keras.lifelong`),

  python -m tf_anc.train --flagfile=configs/ntpt/lifelong.flags

and writes TensorBoard curves, `results.json` (digit_source, final_accuracy
of every learner on every task), `figure7.md`, `figure6.png` and NTPT's
model of every task as a SavedModel.
"""

import os
import sys

from absl import flags
from absl import logging

from ntpt_keras.lifelong.config import LifelongConfig
from tf_anc.common import cli
from tf_anc.common.config_flags import ConfigFlags


class Flags(ConfigFlags):
  """The lifelong experiment's flags (LifelongConfig's fields) in
  `flag_values`, read back as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    super().__init__(LifelongConfig, flag_values)

  def config(self) -> LifelongConfig:
    return LifelongConfig(
        **self.values(),
        command=" ".join(["python -m tf_anc.train", *sys.argv[1:]]))


def main(lifelong_flags: Flags):
  """Runs (resuming) the experiment; prints the Figure 7 table."""
  config = lifelong_flags.config()
  cli.import_tensorflow_and_tfds()
  from ntpt_keras.lifelong import trainer  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import digits  # pylint: disable=g-import-not-at-top
  logging.info("lifelong experiment: %s", config)
  try:
    run = trainer.LifelongTrainer(config)
  except (ValueError, digits.SourceUnavailableError) as error:
    raise cli.UsageError(str(error)) from None
  run.train()
  run.evaluate()
  saved_models = run.export()
  with open(f"{config.model_dir}/figure7.md") as f:
    print("\n" + f.read())
  # Without the NTPT learner nothing is exported.
  listed = (f"SavedModels: {', '.join(saved_models.values())}, "
            if saved_models else "")
  # Without matplotlib there is no plot (report.write said so).
  plot = f"{config.model_dir}/figure6.png"
  plotted = f"plot: {plot}, " if os.path.exists(plot) else ""
  print(f"results: {config.model_dir}/results.json, {plotted}{listed}"
        f"TensorBoard: tensorboard --logdir {config.model_dir}")
