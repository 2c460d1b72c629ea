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
from ntpt_keras.config import parse_curriculum
from ntpt_keras.config import parse_tensor_labels
from tf_anc.common import cli
from tf_anc.common.trainer_flags import TrainerFlags


class Flags:
  """The NTPT trainer's flags in `flag_values`, read back as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    defaults = NtptConfig(model_file="")
    self._shared = TrainerFlags(defaults, flag_values, helps={
        "restarts": "Program restarts trained side by side.",
        "train_examples": "Training instances taken from --dataset "
                          "(default: all).",
        "test_examples": "Test instances taken from --dataset (default: "
                         "all).",
        "learning_rate": "Learning rate of the program params.",
    })
    define = self._shared.define
    self._model_file = define(
        flags.DEFINE_string, "model_file", None,
        "The NTPT model file to train (docs/ntpt-language.md).")
    self._hypers_file = define(
        flags.DEFINE_string, "hypers_file", defaults.hypers_file,
        "JSON {config: {hyper: value}} for the model's Hyper()s.")
    self._hypers = define(flags.DEFINE_string, "hypers", defaults.hypers,
                          "The config of --hypers_file (default: its only "
                          "one).")
    self._data_file = define(
        flags.DEFINE_string, "data_file", defaults.data_file,
        "A TerpreT data file (JSON list of batches).")
    self._train_batch = define(flags.DEFINE_string, "train_batch",
                               defaults.train_batch,
                               "The batch of --data_file to train on.")
    self._test_batch = define(
        flags.DEFINE_string, "test_batch", defaults.test_batch,
        "The batch of --data_file to test on (default: the training "
        "batch).")
    self._dataset = define(
        flags.DEFINE_string, "dataset", defaults.dataset,
        "A tfds dataset 'builder/config' with train and test splits, "
        "instead of --data_file.")
    self._tensor_labels = define(
        flags.DEFINE_list, "tensor_labels", [],
        "tensor:feature pairs; reports each network's accuracy on the "
        "labelled cells of that tensor.")
    self._neural_learning_rate = define(
        flags.DEFINE_float, "neural_learning_rate",
        defaults.neural_learning_rate,
        "Learning rate of the learned functions' networks (default: "
        "--learning_rate).", lower_bound=0.0)
    self._curriculum = define(
        flags.DEFINE_string, "curriculum", None,
        "output:v1,v2,...: stage i draws only training instances whose "
        "scalar Output is at most v_i; then all of them.")
    self._curriculum_steps = define(
        flags.DEFINE_integer, "curriculum_steps", defaults.curriculum_steps,
        "Training steps per curriculum stage.", lower_bound=1)
    self._library_dir = define(
        flags.DEFINE_string, "library_dir", defaults.library_dir,
        "A neural library: its networks are bound before training and the "
        "best restart's are saved back.")

  def config(self) -> NtptConfig:
    """The config the flags say; UsageError if one of them is malformed."""
    try:
      curriculum = (parse_curriculum(self._curriculum.value)
                    if self._curriculum.value is not None else None)
      tensor_labels = parse_tensor_labels(self._tensor_labels.value)
    except ValueError as error:
      raise cli.UsageError(str(error)) from None
    return NtptConfig(
        model_file=self._model_file.value,
        hypers_file=self._hypers_file.value, hypers=self._hypers.value,
        data_file=self._data_file.value,
        train_batch=self._train_batch.value,
        test_batch=self._test_batch.value, dataset=self._dataset.value,
        tensor_labels=tensor_labels,
        neural_learning_rate=self._neural_learning_rate.value,
        library_dir=self._library_dir.value, curriculum=curriculum,
        curriculum_steps=self._curriculum_steps.value,
        **self._shared.values())


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
