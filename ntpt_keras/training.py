"""Training NTPT models: restarts side by side, checkpoints, results.json.

`Trainer` (given an `ntpt_keras.config.NtptConfig`) compiles the model,
trains every restart on minibatches of the training instances (program
params and neural networks each with their own optimizer and learning
rate), checkpoints so that a killed run resumes,
logs to TensorBoard and writes `results.json`:

- `restarts`, `solved_restarts` (restarts whose discretized program
  reproduces every training instance), `best_restart`;
- `test_accuracy` (the best restart's share of test instances reproduced
  exactly), `program` (its source, `ntpt_keras.lang.listing`) and `params`
  (its discretized params);
- per restart: loss, train and test accuracy, solved;

and exports the best restart as a SavedModel (`ntpt_keras.export`).
"""

import dataclasses
import functools
import json
import os
import time

import numpy as np
import tensorflow as tf

from ntpt_keras import instances as instances_lib
from ntpt_keras import evaluation
from ntpt_keras import export
from ntpt_keras import summaries
from ntpt_keras.config import NtptConfig, resolve
from ntpt_keras.lang import compiler
from ntpt_keras.lang import source
from ntpt_keras.library import NeuralLibrary, check_untrained
from ntpt_keras.model import NeuralProgram
# math_task.lstm reads its tapes with it from here.
from ntpt_keras.instances import tfds_split  # pylint: disable=unused-import
from tf_anc.common import checkpoints
from tf_anc.common import hparams
from tf_anc.common import optimizers
from tf_anc.common import pipeline
from tf_anc.common import progress

# The run's results in TensorBoard's HParams dashboard (`evaluate`).
METRICS = ("solved_rate", "test_accuracy")


class Trainer:
  """Owns the model, its optimizers, the instances and the checkpoints."""

  def __init__(self, config: NtptConfig, log=progress.print_line):
    """`log`: where the run's lines go (`progress`: with the default, a
    progress bar on a terminal)."""
    self.config = config = resolve(config)
    self.log = log
    hypers = {"name": None, "values": {}}
    if config.hypers_file:
      hypers = source.read_hypers(config.hypers_file, config.hypers)
    self.hypers_name = hypers["name"]
    self.program = compiler.compile_model(config.model_file, hypers["values"])
    self.library = (NeuralLibrary(config.library_dir) if config.library_dir
                    else None)
    check_untrained([config.model_file], [self.program.called_functions()],
                    self.library.functions() if self.library else ())
    self.train_data, self.test_data = self._instances()
    self._stage_pools = self._curriculum_pools()
    self.model = NeuralProgram(self.program, restarts=config.restarts,
                               param_init_stddev=config.param_init_stddev,
                               seed=config.seed)
    if self.library:
      bound = self.library.bind(self.model)
      if bound:
        log(f"bound {', '.join(bound)} from the library {config.library_dir}")
    self.groups = [
        (optimizers.make(config.optimizer, rate, variables), variables)
        for rate, variables in (
            (config.learning_rate, self.model.program_variables),
            (config.neural_learning_rate, self.model.network_variables))
        if variables]
    self.step = tf.Variable(0, dtype=tf.int64, name="step")
    self.checkpoint = tf.train.Checkpoint(
        step=self.step, model=self.model.checkpointed(),
        **{f"optimizer_{i}": o for i, (o, _) in enumerate(self.groups)})
    self.checkpoints = checkpoints.manager(
        self.checkpoint, os.path.join(config.model_dir, "checkpoints"),
        max_to_keep=2)
    self._train_step = tf.function(self._train_step_eager,
                                   jit_compile=config.jit_compile,
                                   reduce_retracing=True)

  def _instances(self):
    config = self.config
    if config.data_file:
      train = instances_lib.read_terpret(self.program, config.data_file,
                                    config.train_batch, self.hypers_name)
      test = (instances_lib.read_terpret(self.program, config.data_file,
                                    config.test_batch, self.hypers_name)
              if config.test_batch else train)
    else:
      train, test = (instances_lib.read_tfds(
          self.program, config.dataset, split, config.data_dir, examples)
                     for split, examples in (
                         ("train", config.train_examples),
                         ("test", config.test_examples)))
    if not len(train):
      raise ValueError("there are no training instances")
    return train, test

  def _curriculum_pools(self):
    """The training instances of each curriculum stage (see `curriculum`)."""
    if self.config.curriculum is None:
      return []
    output, bounds = self.config.curriculum
    values = self.train_data.outputs.get(output)
    if values is None or values.ndim != 1:
      raise ValueError(f"--curriculum needs a scalar Output; the model's "
                       f"are {', '.join(self.train_data.outputs)}")
    pools = [np.flatnonzero(values <= most) for most in bounds]
    return [pool if len(pool) else np.arange(len(values)) for pool in pools]

  def _indices(self, step: int) -> np.ndarray:
    """The instances of `step`, drawn with replacement from its curriculum
    stage's pool by a generator seeded by (seed, step); every restart
    trains on the same batch. A pool no larger than a batch is the batch."""
    stage = step // self.config.curriculum_steps
    pool = (self._stage_pools[stage] if stage < len(self._stage_pools)
            else np.arange(len(self.train_data)))
    if self.config.batch_size >= len(pool):
      return pool
    return np.random.default_rng([self.config.seed, step]).choice(
        pool, self.config.batch_size)

  def batches(self, start_step: int) -> tf.data.Dataset:
    """The training batches from `start_step` on (`pipeline.drawn_batches`):
    `(inputs, outputs)` dicts of the drawn instances' values."""
    return pipeline.drawn_batches(
        (self.train_data.inputs, self.train_data.outputs), self._indices,
        start_step, self.config.train_steps)

  def _train_step_eager(self, inputs, observed):
    # The model's own step (its `fit`'s too), with this run's groups.
    per_restart = self.model.train_restarts(inputs, observed, self.groups)
    self.step.assign_add(1)
    return per_restart

  @functools.cached_property
  def writer(self):
    """The TensorBoard writer, made on first use: a run refused on resuming
    writes nothing in `model_dir`."""
    return tf.summary.create_file_writer(self.config.model_dir)

  def restore(self) -> int:
    """Restores the latest checkpoint, if any; returns the step reached.
    The settings are recorded beside the checkpoints, and a resume may
    change only `checkpoints.RESUMABLE`'s."""
    return checkpoints.restore_latest(
        self.checkpoints, self.checkpoint, self.step, self.log,
        settings=dataclasses.asdict(self.config))

  def _write_params(self, step: int):
    summaries.write_params(
        self.model, range(min(self.config.restarts,
                              self.config.imaged_restarts)), step, self.log)

  def train(self):
    config = self.config
    step = self.restore()
    steps = progress.Progress(config.train_steps, step, self.log)
    with self.writer.as_default():
      if step == 0:
        hparams.write_settings(config, METRICS)
      started, start_step = time.perf_counter(), step
      for inputs, outputs in self.batches(step):
        per_restart = self._train_step(inputs, outputs)
        step += 1
        if step % config.log_every == 0 or step == config.train_steps:
          losses = per_restart.numpy()
          mean, best = float(np.mean(losses)), float(np.min(losses))
          tf.summary.scalar("loss/mean", mean, step=step)
          tf.summary.scalar("loss/best", best, step=step)
          for restart, value in enumerate(losses):
            tf.summary.scalar(f"restart_{restart}/loss", float(value),
                              step=step)
          rate = (step - start_step) / (time.perf_counter() - started)
          steps.update(step, f"step {step}/{config.train_steps} loss mean "
                       f"{mean:.4f} best {best:.4f} ({rate:.1f} steps/s)",
                       {"loss mean": mean, "loss best": best})
        else:
          steps.update(step)
        # The last step's heatmaps are evaluate's.
        if step % config.summary_every == 0 and step < config.train_steps:
          self._write_params(step)
        if step % config.checkpoint_every == 0 or step == config.train_steps:
          self.checkpoints.save(checkpoint_number=step)
    self.writer.flush()

  def evaluate(self) -> dict:
    """Scores every restart's discretized program; writes results.json."""
    config = self.config
    evaluating = progress.Stage(
        self.log, "evaluation", f"{config.restarts} restarts on "
        f"{len(self.train_data)} training and {len(self.test_data)} test "
        "instances")
    results = self.model.restart_results(self.train_data)
    for result in results:
      result["test_accuracy"] = float(np.mean(evaluation.reproduced(
          self.model, result["restart"], self.test_data)))
    best = evaluation.best_restart(results)
    params = self.model.discrete_params(best)
    report = {
        "model_file": config.model_file,
        "hypers": self.hypers_name,
        "data": config.data_file or config.dataset,
        "train_examples": len(self.train_data),
        "test_examples": len(self.test_data),
        "train_steps_done": int(self.step.numpy()),
        "restarts": config.restarts,
        "solved_restarts": sum(r["solved"] for r in results),
        "best_restart": best,
        "test_accuracy": results[best]["test_accuracy"],
        "program": self.model.discretize(best),
        "params": params,
        "per_restart": results,
        "config": dataclasses.asdict(config),
    }
    if config.tensor_labels:
      labels = dict(config.tensor_labels)
      report["network_test_accuracy"] = evaluation.learned_accuracy(
          self.model, best, self.test_data, labels)
    if self.library:
      self.library.save(self.model, best)
      report["library_dir"] = config.library_dir
    with self.writer.as_default():
      step = int(self.step.numpy())
      tf.summary.scalar("eval/solved_restarts", report["solved_restarts"],
                        step=step)
      tf.summary.scalar("eval/test_accuracy", report["test_accuracy"],
                        step=step)
      tf.summary.text("eval/program", "```\n" + report["program"] + "```",
                      step=step)
      self._write_params(step)
      hparams.write_metrics({
          "solved_rate": report["solved_restarts"] / config.restarts,
          "test_accuracy": report["test_accuracy"]}, step)
    self.writer.flush()
    report["evaluation_seconds"] = evaluating.seconds()
    os.makedirs(config.model_dir, exist_ok=True)
    with open(os.path.join(config.model_dir, "results.json"), "w") as f:
      json.dump(report, f, indent=1)
    evaluating.done(f"{report['solved_restarts']} of {config.restarts} "
                    "restarts solved the training instances")
    return report


  def export(self, report: dict) -> str:
    """The best restart as the next SavedModel version under
    `model_dir/saved_model` (`ntpt_keras.export`); returns its folder."""
    return export.export_saved_model(
        self.model, report["best_restart"],
        os.path.join(self.config.model_dir, "saved_model"))


def train_and_evaluate(config: NtptConfig, log=progress.print_line) -> dict:
  """The whole run: train (resuming), evaluate, export; returns the report."""
  trainer = Trainer(config, log=log)
  trainer.train()
  report = trainer.evaluate()
  trainer.export(report)
  return report
