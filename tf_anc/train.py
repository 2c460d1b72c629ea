"""Adapts a compiled program to a task's input distribution.

  python -m tf_anc.train --flagfile=configs/anc/listk.flags [--restarts=20]

With no flags at all it trains biased ListK with our tuned hyper-parameters
(`configs/anc/tuned/listk.flags`) and 8 restarts, in minutes on a CPU.
Writes checkpoints, TensorBoard logs, `results.json` and the best restart's SavedModel to
`--model_dir`; a run started again with the same `--model_dir` resumes from
its last checkpoint.
"""

from absl import flags
from absl import logging

from tf_anc import cli
from tf_anc.training.config import LossWeights, TrainingConfig

_DEFAULT = TrainingConfig()

_TASK = flags.DEFINE_string("task", _DEFAULT.task, "Task name (tf_anc.tasks).")
_DISTRIBUTION = flags.DEFINE_string("distribution", _DEFAULT.distribution,
                                    "The task's input distribution.")
_PROGRAM = flags.DEFINE_string(
    "program", None, "The .anc program to adapt (default: the task's "
    "generic program).")
_MEMORY_SIZE = flags.DEFINE_integer(
    "memory_size", None, "M; must match the task's (default: the task's).")
_MAX_STEPS = flags.DEFINE_integer("max_steps", None,
                                  "T_max (default: the task's).", lower_bound=1)
_ETA_STOP = flags.DEFINE_float("eta_stop", _DEFAULT.eta_stop,
                               "Halting threshold.", lower_bound=0.0,
                               upper_bound=1.0)
_SHARPNESS = flags.DEFINE_float(
    "sharpness", _DEFAULT.sharpness,
    "Scale of the compiled one-hot logits (soft start).")
_ALPHA = flags.DEFINE_float("alpha", _DEFAULT.loss_weights.correctness,
                            "Weight of the correctness term.")
_BETA = flags.DEFINE_float("beta", _DEFAULT.loss_weights.confidence,
                           "Weight of the confidence term.")
_GAMMA = flags.DEFINE_float("gamma", _DEFAULT.loss_weights.efficiency,
                            "Weight of the efficiency term.")
_DELTA = flags.DEFINE_float("delta", _DEFAULT.loss_weights.halting,
                            "Weight of the halting term.")
_OPTIMIZER = flags.DEFINE_enum("optimizer", _DEFAULT.optimizer,
                               ["adam", "sgd"], "Optimizer.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", _DEFAULT.learning_rate,
                                    "Learning rate.", lower_bound=0.0)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", _DEFAULT.batch_size,
                                   "Examples per restart per step.",
                                   lower_bound=1)
_TRAIN_STEPS = flags.DEFINE_integer("train_steps", _DEFAULT.train_steps,
                                    "Training steps.", lower_bound=1)
_RESTARTS = flags.DEFINE_integer(
    "restarts", _DEFAULT.restarts,
    "Independent controllers trained side by side.", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", _DEFAULT.seed,
                             "Seed of data order and noise.")
_INIT_NOISE = flags.DEFINE_float(
    "init_noise", _DEFAULT.init_noise, "Std of Gaussian noise added to each "
    "restart's compiled logits.", lower_bound=0.0)
_CHECKPOINT_EVERY = flags.DEFINE_integer(
    "checkpoint_every", _DEFAULT.checkpoint_every,
    "Steps between checkpoints.", lower_bound=1)
_LOG_EVERY = flags.DEFINE_integer("log_every", _DEFAULT.log_every,
                                  "Steps between progress lines.",
                                  lower_bound=1)
_TEST_EXAMPLES = flags.DEFINE_integer(
    "test_examples", _DEFAULT.test_examples, "Test examples per evaluation.",
    lower_bound=1)
_DATA_DIR = flags.DEFINE_string("data_dir", None,
                                "tfds data directory (default: tfds').")
_MODEL_DIR = flags.DEFINE_string("model_dir", _DEFAULT.model_dir,
                                 "Checkpoints, logs, results, SavedModel.")
_EXPORT_ALL_RESTARTS = flags.DEFINE_bool(
    "export_all_restarts", False, "Export every restart, not just the best.")
_JIT_COMPILE = flags.DEFINE_bool(
    "jit_compile", _DEFAULT.jit_compile,
    "XLA-compile the training step (plain-TF machine step); without it the "
    "step runs in graph mode with the fused op when it is built.")


def _config():
  return TrainingConfig(
      task=_TASK.value, distribution=_DISTRIBUTION.value,
      program=_PROGRAM.value, memory_size=_MEMORY_SIZE.value,
      max_steps=_MAX_STEPS.value, eta_stop=_ETA_STOP.value,
      sharpness=_SHARPNESS.value,
      loss_weights=LossWeights(correctness=_ALPHA.value,
                               confidence=_BETA.value,
                               efficiency=_GAMMA.value, halting=_DELTA.value),
      optimizer=_OPTIMIZER.value, learning_rate=_LEARNING_RATE.value,
      batch_size=_BATCH_SIZE.value, train_steps=_TRAIN_STEPS.value,
      restarts=_RESTARTS.value, seed=_SEED.value,
      init_noise=_INIT_NOISE.value, checkpoint_every=_CHECKPOINT_EVERY.value,
      log_every=_LOG_EVERY.value, test_examples=_TEST_EXAMPLES.value,
      data_dir=_DATA_DIR.value, model_dir=_MODEL_DIR.value,
      export_all_restarts=_EXPORT_ALL_RESTARTS.value,
      jit_compile=_JIT_COMPILE.value)


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  # Imported here: TensorFlow takes seconds, and flag errors need none of it.
  cli.import_tensorflow()
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)  # tfds' preparation chatter
  tfds.disable_progress_bar()
  try:
    config = trainer.resolve(_config())
    run = trainer.Trainer(config)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  run.train()
  report = run.evaluate()
  run.export(report)
  best = report["restarts"][report["best_restart"]]
  print(f"\n{report['task']} ({report['distribution']}): "
        f"{sum(r['success'] for r in report['restarts'])} of "
        f"{len(report['restarts'])} restarts succeeded.")
  print(f"best restart {best['restart']}: accuracy {best['accuracy']:.3f}, "
        f"{best['mean_iterations']:.2f} iterations vs the generic program's "
        f"{report['generic_mean_iterations']:.2f} "
        f"({report['generic_mean_iterations'] / best['mean_iterations']:.2f}x "
        f"faster), interpretability level {best['interpretability']}")
  print(best["program"])
  print(f"results: {config.model_dir}/results.json, SavedModel: "
        f"{config.model_dir}/saved_model, TensorBoard: "
        f"tensorboard --logdir {config.model_dir}")


if __name__ == "__main__":
  cli.run(main)
