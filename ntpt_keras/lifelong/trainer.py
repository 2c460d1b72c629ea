"""The lifelong experiment: NTPT and the baselines on the 8 tasks of 2x2 grids.

`LifelongTrainer` (given a `LifelongConfig`) loads every task's train and
test split (`grids2x2`, offline), then walks the schedule
(`lifelong.schedule`): each step draws one task's batch (a `tf.data`
pipeline over the training splits, `batches`) and trains every learner on
it, each shared or task-specific group with its own optimizer.
Every `eval_every` examples it measures every learner's accuracy on every
task (the first `eval_examples` test grids) and logs it to TensorBoard,
one run per learner (`model_dir/<learner>`: `accuracy/<task>`, `loss`, and
for NTPT the networks' accuracy on the grids' cells). Checkpoints keep the
step, every variable of every learner (`checkpointed()`) and of their
optimizers, and the curves so far, so a killed run resumes exactly.

At the end, `evaluate` measures the final accuracy on the whole test splits
and writes `results.json` (`digit_source`, `final_accuracy: {learner:
{task: accuracy}}`, the curves, reverse transfer, NTPT's learned programs),
the table beside the paper's Figure 7 (`figure7.md`) and the curves like
its Figure 6 (`figure6.png`, `lifelong.report`); `export` writes NTPT's
model of each task as a SavedModel, the next numeric version under
`saved_model/<task>` (`saved_model/<task>/1` the first time), the layout
TF Serving's `--model_base_path` expects, and NTPT's networks as a neural
library, `library/` (net_0 and net_1, for the MATH model).
"""

import dataclasses
import functools
import json
import os
import time
from typing import Dict

import numpy as np
import tensorflow as tf

from ntpt_keras import export as export_lib
from ntpt_keras.lifelong import baselines
from ntpt_keras.lifelong import learners as learners_lib
from ntpt_keras.lifelong import report as report_lib
from ntpt_keras.lifelong.config import LifelongConfig, resolve
from ntpt_keras.lifelong.schedule import Schedule
from ntpt_keras.library import NeuralLibrary
from tf_anc.common import checkpoints
from tf_anc.common import hparams
from tf_anc.common import optimizers
from tf_anc.common import pipeline
from tf_anc.common import progress

_CHUNK = 1000  # test grids per prediction call
_CURVES = "curves.json"
LIBRARY = "library"  # NTPT's networks at the end, under model_dir
# Settings a resumed run may change (checkpoints.RESUMABLE): also how often
# and on how many examples it measures the curves, whether it exports, and
# the command line that started it. Not the lifetime (`total_examples`):
# the schedule of every step depends on it.
RESUMABLE = checkpoints.RESUMABLE + ("eval_every", "eval_examples", "export",
                                     "command")
# Each learner's result in TensorBoard's HParams dashboard, a row per
# learner (`evaluate`): its final accuracy, the mean over the tasks.
METRICS = ("final_accuracy",)


def load_task(task: str, split: str, digit_source: str, data_dir=None,
              num_train=None, num_test=None) -> Dict[str, np.ndarray]:
  """A `grids2x2` task's split as numpy arrays, generated offline.

  The registered config for the default source and sizes (1,000 train and
  10,000 test grids), else one made for `digit_source`, `num_train` and
  `num_test`.
  """
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import grids2x2  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import offline  # pylint: disable=g-import-not-at-top
  default = grids2x2.Grids2x2Config
  sizes = (num_train or default.num_train, num_test or default.num_test)
  if (digit_source, *sizes) == (default.digit_source, default.num_train,
                                default.num_test):
    builder = tfds.builder(f"grids2x2/{task}", data_dir=data_dir)
  else:
    builder = grids2x2.Grids2x2(
        config=grids2x2.Grids2x2Config(
            name=f"{task}_{digit_source}_{sizes[0]}_{sizes[1]}", task=task,
            digit_source=digit_source, num_train=sizes[0],
            num_test=sizes[1]),
        data_dir=data_dir)
  offline.prepare(builder)
  return tfds.as_numpy(pipeline.in_memory(
      builder.as_dataset(split=split, shuffle_files=False)))


def make_learner(name: str, tasks, config: LifelongConfig):
  slow = config.perceptual_slowdown
  if name == "ntpt":
    return learners_lib.Ntpt(tasks, config.learning_rate,
                             config.learning_rate / slow,
                             config.param_init_stddev, config.seed,
                             config.restarts, config.net_choice,
                             config.protect_library, config.library_warmup)
  rate = config.baseline_learning_rate
  if name == "indep":
    return baselines.Indep(tasks, rate)
  if name == "pnn":
    return baselines.Pnn(tasks, rate)
  return baselines.Mtnn(int(name[-1]), tasks, rate, slow)


class LifelongTrainer:
  """Owns the learners, their optimizers, the data and the checkpoints."""

  def __init__(self, config: LifelongConfig, log=progress.print_line):
    """`log`: where the run's lines go (`progress`: with the default, a
    progress bar on a terminal)."""
    from tf_anc_datasets import digits  # pylint: disable=g-import-not-at-top
    from tf_anc_datasets import grids2x2  # pylint: disable=g-import-not-at-top
    self.config = config = resolve(config)
    self.log = log
    self.tasks = tuple(config.tasks or grids2x2.TASKS)
    unknown = [t for t in self.tasks if t not in grids2x2.TASKS]
    if unknown:
      raise ValueError(f"unknown tasks {', '.join(unknown)}; the tasks are "
                       f"{', '.join(grids2x2.TASKS)}")
    self.digit_source = digits.available_source(config.digit_source)
    log(f"digits: {self.digit_source}")
    self.train_data, self.test_data = (
        [load_task(task, split, self.digit_source, config.data_dir,
                   config.train_examples, config.test_examples)
         for task in self.tasks] for split in ("train", "test"))
    self.schedule = Schedule(self.tasks, config.total_examples,
                             config.batch_size, config.seed)
    self.learners = [make_learner(name, self.tasks, config)
                     for name in config.learners]
    self.optimizers = {}
    self.step = tf.Variable(0, dtype=tf.int64, name="step")
    # Examples of each task trained on so far (learners' task_groups);
    # `_seen` is its working copy, written back before each checkpoint.
    self.examples_seen = tf.Variable(tf.zeros([len(self.tasks)], tf.int64),
                                     name="examples_seen")
    self._seen = np.zeros(len(self.tasks), np.int64)
    trackables = {}
    for learner in self.learners:
      trackables[learner.name] = learner.checkpointed()
      for group_name, group in learner.groups.items():
        optimizer = optimizers.make("adam", group.learning_rate,
                                    group.variables)
        self.optimizers[(learner.name, group_name)] = optimizer
        trackables[f"optimizer_{learner.name}_{group_name}"] = optimizer
    self.checkpoint = tf.train.Checkpoint(
        step=self.step, examples_seen=self.examples_seen, **trackables)
    self.checkpoints = checkpoints.manager(
        self.checkpoint, os.path.join(config.model_dir, "checkpoints"),
        max_to_keep=2)
    self._train_steps = {}
    self._predictions = {}
    # {learner: {task: [[examples, accuracy], ...]}}, and NTPT's networks'.
    self.curves = {learner.name: {task: [] for task in self.tasks}
                   for learner in self.learners}
    self.network_curves = {}

  # TensorBoard's writers, made on first use: a run refused on resuming
  # writes nothing in `model_dir`.

  @functools.cached_property
  def writers(self) -> Dict[str, tf.summary.SummaryWriter]:
    """One per learner, `model_dir/<learner>`."""
    return {learner.name: tf.summary.create_file_writer(
        os.path.join(self.config.model_dir, learner.name))
            for learner in self.learners}

  @functools.cached_property
  def schedule_writer(self) -> tf.summary.SummaryWriter:
    return tf.summary.create_file_writer(
        os.path.join(self.config.model_dir, "schedule"))

  # --- Steps ----------------------------------------------------------------

  def _train_step(self, learner, task: int):
    names = tuple(learner.task_groups(task, int(self._seen[task])))
    key = (learner.name, task, names)
    if key not in self._train_steps:
      groups = [(self.optimizers[(learner.name, name)],
                 learner.groups[name].variables) for name in names]
      # Partials, not closures, here and in _predict: TensorFlow counts
      # traces per code object and would warn of retracing, where each of
      # these functions is one (learner, task)'s, traced once.
      self._train_steps[key] = tf.function(
          functools.partial(_train_step, learner, task, groups),
          jit_compile=self.config.jit_compile,
          input_signature=[_batch_signature(self.tasks[task])])
    return self._train_steps[key]

  def _predict(self, learner, task: int):
    key = (learner.name, task)
    if key not in self._predictions:
      self._predictions[key] = tf.function(
          functools.partial(learner.predict, task),
          input_signature=[_batch_signature(self.tasks[task])])
    return self._predictions[key]

  def choose(self):
    """Lets learners that select among candidates do it, on training data."""
    for learner in self.learners:
      if hasattr(learner, "choose"):
        for task, arrays in enumerate(self.train_data):
          learner.choose(task, _batch(arrays, self.tasks[task], np.arange(
              _first(arrays, self.config.eval_examples))))

  def accuracy(self, learner, task: int, num_examples=None) -> float:
    """`learner`'s share of right answers on `task`'s test grids."""
    arrays = self.test_data[task]
    number = _first(arrays, num_examples)
    right = 0
    for start in range(0, number, _CHUNK):
      indices = np.arange(start, min(start + _CHUNK, number))
      predicted = self._predict(learner, task)(
          _batch(arrays, self.tasks[task], indices))
      right += int(np.sum(predicted.numpy() == arrays["answer"][indices]))
    return right / number

  def network_accuracy(self, num_examples=None) -> Dict[str, float]:
    """NTPT's library networks on the test grids' cells: net_0 on the
    first ADD2x2 task's digits, net_1 on the first APPLY2x2 task's
    operators (as classes; the tasks never label them)."""
    ntpt = self._learner("ntpt")
    if ntpt is None:
      return {}
    result = {}
    for name, label, kind in (("net_0", "digits", "add2x2"),
                              ("net_1", "operators", "apply2x2")):
      task = next((i for i, t in enumerate(self.tasks)
                   if t.startswith(kind)), None)
      if task is None or name not in ntpt.networks:
        continue
      arrays = self.test_data[task]
      number = _first(arrays, num_examples)
      images = _intensities(arrays["grid"][:number].reshape(number * 4, -1))
      predicted = np.argmax(ntpt.network(name).predict(images, verbose=0,
                                                       batch_size=4096), -1)
      result[f"{name}/{label}"] = float(np.mean(
          predicted == arrays[label][:number].reshape(-1)))
    return result

  def _learner(self, name):
    return next((l for l in self.learners if l.name == name), None)

  # --- Training ---------------------------------------------------------------

  def batches(self, start_step: int) -> tf.data.Dataset:
    """The schedule's batches from `start_step` on (`pipeline.drawn_batches`
    over every task's training split): each a dict of one task's examples,
    `task` (its number), `grid` (uint8), `answer` and, zero for ADD2x2,
    `d1`, `d2`, `d3`."""
    sizes = [len(arrays["answer"]) for arrays in self.train_data]
    offsets = np.cumsum([0] + sizes[:-1])
    examples = {"task": np.concatenate([np.full(size, number, np.int32)
                                        for number, size in enumerate(sizes)])}
    for name in ("grid", "answer", "d1", "d2", "d3"):
      examples[name] = np.concatenate([
          arrays.get(name, np.zeros(size, np.int32))
          for arrays, size in zip(self.train_data, sizes)])

    def draw(step):
      task, indices = self.schedule.step(step, sizes[0])
      return offsets[task] + indices

    return pipeline.drawn_batches(
        examples, draw, start_step, self.schedule.num_steps,
        indices_shape=(self.config.batch_size,))

  def restore(self) -> int:
    """Restores the latest checkpoint and the curves so far, if any;
    returns the step reached. The settings are recorded beside the
    checkpoints, and a resume may change only `RESUMABLE`'s."""
    step = checkpoints.restore_latest(
        self.checkpoints, self.checkpoint, self.step, self.log,
        settings=dataclasses.asdict(self.config), resumable=RESUMABLE)
    self._seen = self.examples_seen.numpy().copy()
    path = os.path.join(self.config.model_dir, _CURVES)
    if step and os.path.exists(path):
      with open(path) as f:
        saved = json.load(f)
      reached = step * self.config.batch_size
      for learner, tasks in saved["curves"].items():
        for task, points in tasks.items():
          self.curves[learner][task] = [p for p in points if p[0] <= reached]
      self.network_curves = {name: [p for p in points if p[0] <= reached]
                             for name, points in
                             saved["network_curves"].items()}
    return step

  def _measure(self, step: int):
    examples = step * self.config.batch_size
    self.choose()
    for learner in self.learners:
      with self.writers[learner.name].as_default():
        for number, task in enumerate(self.tasks):
          accuracy = self.accuracy(learner, number,
                                   self.config.eval_examples)
          self.curves[learner.name][task].append([examples, accuracy])
          tf.summary.scalar(f"accuracy/{task}", accuracy, step=examples)
        if learner.name == "ntpt":
          for name, accuracy in self.network_accuracy(
              self.config.eval_examples).items():
            self.network_curves.setdefault(name, []).append(
                [examples, accuracy])
            tf.summary.scalar(f"network/{name}", accuracy, step=examples)
    with self.schedule_writer.as_default():
      for task, weight in zip(self.tasks, self.schedule.weights(examples)):
        tf.summary.scalar(f"schedule/{task}", weight, step=examples)

  def _save(self, step: int):
    self.examples_seen.assign(self._seen)
    self.checkpoints.save(checkpoint_number=step)
    with open(os.path.join(self.config.model_dir, _CURVES), "w") as f:
      json.dump({"curves": self.curves,
                 "network_curves": self.network_curves}, f)

  def train(self):
    config = self.config
    os.makedirs(config.model_dir, exist_ok=True)
    step = self.restore()
    total = self.schedule.num_steps
    eval_steps = max(1, config.eval_every // config.batch_size)
    steps = progress.Progress(total, step, self.log)
    losses = {learner.name: [] for learner in self.learners}
    if step == 0:
      for learner in self.learners:
        with self.writers[learner.name].as_default():
          hparams.write_settings({**dataclasses.asdict(config),
                                  "learner": learner.name}, METRICS)
      self._measure(0)
    started, start_step = time.perf_counter(), step
    for features in self.batches(step):
      task = int(features["task"][0])
      batch = _learner_batch(features, self.tasks[task])
      for learner in self.learners:
        losses[learner.name].append(self._train_step(learner, task)(batch))
      self._seen[task] += len(features["task"])
      step += 1
      self.step.assign(step)
      if step % eval_steps == 0 or step == total:
        self._measure(step)
      if step % config.log_every == 0 or step == total:
        examples = step * config.batch_size
        means = {name: float(tf.reduce_mean(values))
                 for name, values in losses.items()}
        for name, mean in means.items():
          with self.writers[name].as_default():
            tf.summary.scalar("loss", mean, step=examples)
        rate = (step - start_step) * config.batch_size / (
            time.perf_counter() - started)
        mean_losses = ", ".join(f"{name} {mean:.3f}"
                                for name, mean in means.items())
        steps.update(step, f"step {step}/{total} ({examples} examples, "
                     f"{rate:.0f} examples/s); loss {mean_losses}",
                     {f"loss {name}": mean for name, mean in means.items()})
        losses = {name: [] for name in losses}
      else:
        steps.update(step)
      if step % config.checkpoint_every == 0 or step == total:
        self._save(step)
    for writer in [*self.writers.values(), self.schedule_writer]:
      writer.flush()

  # --- Results ----------------------------------------------------------------

  def evaluate(self) -> dict:
    """Final accuracies on the whole test splits; writes the results."""
    config = self.config
    evaluating = progress.Stage(
        self.log, "evaluation", f"{len(self.learners)} learners on "
        f"{len(self.tasks)} tasks' test grids")
    self.choose()
    final = {learner.name: {task: self.accuracy(learner, number)
                            for number, task in enumerate(self.tasks)}
             for learner in self.learners}
    examples = int(self.step.numpy()) * config.batch_size
    for name, accuracies in final.items():
      with self.writers[name].as_default():
        hparams.write_metrics(
            {"final_accuracy": float(np.mean(list(accuracies.values())))},
            examples)
      self.writers[name].flush()
    report = {
        "digit_source": self.digit_source,
        "tasks": list(self.tasks),
        "learners": [learner.name for learner in self.learners],
        "train_examples": {task: len(arrays["answer"]) for task, arrays in
                           zip(self.tasks, self.train_data)},
        "test_examples": {task: len(arrays["answer"]) for task, arrays in
                          zip(self.tasks, self.test_data)},
        "examples_trained": examples,
        "final_accuracy": final,
        "schedule": {task: list(self.schedule.presented(number))
                     for number, task in enumerate(self.tasks)},
        "curves": self.curves,
        "config": dataclasses.asdict(config),
    }
    report["reverse_transfer"] = report_lib.reverse_transfer(report)
    ntpt = self._learner("ntpt")
    if ntpt is not None:
      report["network_accuracy"] = self.network_accuracy()
      report["network_curves"] = self.network_curves
      report["programs"] = {
          task: model.discretize(int(chosen.numpy())) for task, model, chosen
          in zip(self.tasks, ntpt.models, ntpt.chosen)}
    report_lib.write(report, config.model_dir)
    evaluating.done("final accuracy " + ", ".join(
        f"{name} {np.mean(list(accuracies.values())):.3f}"
        for name, accuracies in final.items()) + " (mean over the tasks)")
    return report

  def export(self) -> Dict[str, str]:
    """NTPT's model of every task as a SavedModel, versioned for TF Serving,
    and its networks as a neural library.

    Each task's model is the candidate `evaluate` (or `choose`) picked,
    written as the next version under `model_dir/saved_model/<task>`; the
    library (`model_dir/library`, `ntpt_keras.library`) is where later
    models, e.g. MATH's, start from.

    Returns:
      {task: its version folder}; empty without the NTPT learner.
    """
    ntpt = self._learner("ntpt")
    if ntpt is None:
      return {}
    NeuralLibrary(os.path.join(self.config.model_dir, LIBRARY)).save_networks(
        ntpt.networks)
    return {task: export_lib.export_saved_model(
        model, int(chosen.numpy()),
        os.path.join(self.config.model_dir, "saved_model", task))
            for task, model, chosen in zip(self.tasks, ntpt.models,
                                           ntpt.chosen)}


def _first(arrays, num_examples=None) -> int:
  """How many examples "the first `num_examples`" (None: all) is."""
  size = len(arrays["answer"])
  return size if num_examples is None else min(num_examples, size)


def _train_step(learner, task: int, groups, batch):
  """One update of `learner` on `task`'s `batch`: each (optimizer,
  variables) of `groups` applies its share of the gradient."""
  with tf.GradientTape() as tape:
    loss = learner.loss(task, batch)
  optimizers.apply_gradients(tape, loss, groups)
  return loss


def _batch_signature(task: str) -> Dict[str, tf.TensorSpec]:
  """A learner's batch of `task` (see `lifelong.learners`)."""
  signature = {"grid": tf.TensorSpec([None, 2, 2, 28, 28], tf.float32),
               "answer": tf.TensorSpec([None], tf.int32)}
  if learners_lib.is_apply(task):
    signature.update({name: tf.TensorSpec([None], tf.int32)
                      for name in ("d1", "d2", "d3")})
  return signature


def _learner_batch(features, task: str) -> Dict[str, tf.Tensor]:
  """A learner's batch of `task` from stored features: the features of its
  signature, the grid's uint8 images as intensities in [0, 1]."""
  batch = {name: tf.convert_to_tensor(features[name], spec.dtype)
           for name, spec in _batch_signature(task).items() if name != "grid"}
  batch["grid"] = _intensities(features["grid"])
  return batch


def _intensities(images) -> tf.Tensor:
  """Images stored as uint8 as float32 in [0, 1]."""
  return tf.image.convert_image_dtype(images, tf.float32)


def _batch(arrays, task: str, indices) -> Dict[str, tf.Tensor]:
  """The examples `indices` of a split's arrays, as a learner's batch."""
  return _learner_batch({name: arrays[name][indices]
                         for name in _batch_signature(task)}, task)


def train_and_evaluate(config: LifelongConfig,
                       log=progress.print_line) -> dict:
  """The whole experiment: train (resuming), evaluate, export."""
  trainer = LifelongTrainer(config, log=log)
  trainer.train()
  report = trainer.evaluate()
  if config.export:
    trainer.export()
  return report
