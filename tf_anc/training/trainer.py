"""Trains K restarts of a compiled program side by side, in one graph.

The program is compiled at a low `sharpness` (a soft start), every restart
gets its own data order (and optional initial noise) from its own seed, and
all of them are one `SoftMachine` with a leading restarts axis. Checkpoints
hold the step, the controllers and the optimizer: a run started again in the
same `model_dir` resumes where the last checkpoint left it. At the end every
restart is evaluated on the test split, `results.json` is written and the
best restart is exported as a SavedModel.
"""

import dataclasses
import functools
import json
import os
import time
from typing import Optional

import numpy as np
import tensorflow as tf

from tf_anc import shipped
from tf_anc import tasks
from tf_anc.common import checkpoints
from tf_anc.common import config_flags
from tf_anc.common import hparams
from tf_anc.common import optimizers
from tf_anc.common import pipeline
from tf_anc.common import progress
from tf_anc.export import export_saved_model
from tf_anc.lang.compiler import compile_program
from tf_anc.lang.decompiler import decompile
from tf_anc.lang.side_by_side import side_by_side
from tf_anc.machine import fused
from tf_anc.machine.step import HALTING_GRADIENTS
from tf_anc.training import evaluation
from tf_anc.training import initialization
from tf_anc.common import population
from tf_anc.training import priors
from tf_anc.training import program_search
from tf_anc.training import restart_draws
from tf_anc.training import summaries
from tf_anc.training.config import TrainingConfig
from tf_anc.training.model import MODEL_SETTINGS, AncModel

# Settings a resumed run may change (checkpoints.RESUMABLE): also whether
# and how it searches programs after training, and what it exports.
RESUMABLE = checkpoints.RESUMABLE + (
    "method", "program_search_steps", "program_search_examples",
    "program_search_proposal_temperature", "export_all_restarts")
# Test examples the per-restart scalars are measured on during training.
SUMMARY_EXAMPLES = 100
# The run's results in TensorBoard's HParams dashboard (`evaluate`).
METRICS = ("success_rate", "best_accuracy", "best_mean_iterations")


def resolve(config: TrainingConfig, task: Optional[tasks.Task] = None
            ) -> TrainingConfig:
  """Checks the config and fills a shipped task's defaults (M, T_max and
  the generic program); ValueError if bad. A user's task (`inputs_file`)
  gets M and T_max from its inputs (`make_task`). A `task` given as an
  object replaces the config's task, distribution, program, inputs, M and
  T_max by its own."""
  if task is not None:
    config = dataclasses.replace(
        config, task=None, distribution=task.distribution,
        program=task.program.filename, inputs_file=None,
        test_inputs_file=None, output_cells=task.output_cells,
        memory_size=task.memory_size, max_steps=task.max_steps)
  elif config.inputs_file is None:
    config = _resolve_shipped_task(config)
  elif config.task is not None:
    raise ValueError("a task and an inputs file: give one (the inputs "
                     "file's task is the program's on its inputs)")
  elif config.program is None:
    raise ValueError("an inputs file needs the program to adapt to it")
  elif not shipped.program_path(config.program).is_file():
    raise ValueError(f"program file not found: {config.program}")
  elif config.memory_size is not None:
    raise ValueError("with an inputs file, M is the memories' width: drop "
                     "the memory size")
  config_flags.check(config)
  if config.halting_gradient not in HALTING_GRADIENTS:
    raise ValueError(f"unknown halting_gradient {config.halting_gradient!r}; "
                     f"choose from {', '.join(HALTING_GRADIENTS)}")
  if config.method in ("search", "guided") and not config.program_search_steps:
    raise ValueError(f"method {config.method} searches programs: give it "
                     "program search steps (--program_search_steps)")
  jit_compile = config.jit_compile
  if jit_compile is None:
    jit_compile = fused.resolve_step_impl() == "tf"
  # What the method leaves out is recorded as not done (results.json).
  return dataclasses.replace(
      config, jit_compile=jit_compile,
      train_steps=0 if config.method == "search" else config.train_steps,
      program_search_steps=(0 if config.method == "gradient"
                            else config.program_search_steps))


def _resolve_shipped_task(config: TrainingConfig) -> TrainingConfig:
  if config.task not in tasks.TASKS:
    raise ValueError(f"unknown task {config.task!r}; the tasks are "
                     f"{', '.join(sorted(tasks.TASKS))}")
  task = tasks.TASKS[config.task]
  if config.distribution not in task.distributions:
    raise ValueError(f"task {task.name} has no distribution "
                     f"{config.distribution!r}; choose from "
                     f"{', '.join(task.distributions)}")
  if config.memory_size not in (None, task.memory_size):
    raise ValueError(f"memory size {config.memory_size} does not match task "
                     f"{task.name}, whose memories have M = "
                     f"{task.memory_size} cells")
  if config.test_inputs_file or config.output_cells:
    raise ValueError("test inputs and output cells go with an inputs file, "
                     f"not with task {task.name}")
  program = config.program or str(tasks.program_path(task))
  if not shipped.program_path(program).is_file():
    raise ValueError(f"program file not found: {program}")
  return dataclasses.replace(
      config, program=program, memory_size=task.memory_size,
      max_steps=config.max_steps or task.max_steps)


def make_task(config: TrainingConfig) -> tasks.Task:
  """The task a resolved config trains on: the program on the inputs file,
  or the shipped task, whose targets a program other than its generic one
  must compute on the train split (else a ValueError naming an example)."""
  if config.inputs_file is not None:
    return tasks.Task.from_inputs(
        config.program, config.inputs_file,
        test_inputs=config.test_inputs_file, output_cells=config.output_cells,
        max_steps=config.max_steps)
  task = tasks.Task.shipped(config.task, config.distribution,
                            program=config.program,
                            max_steps=config.max_steps,
                            data_dir=config.data_dir)
  if (shipped.program_path(config.program).resolve() !=
      tasks.program_path(config.task).resolve()):
    tasks.check_targets(task, tasks.TRAIN, config.train_examples)
  return task


class Trainer:
  """Owns the machine, the optimizer, the data and the checkpoints."""

  def __init__(self, config: TrainingConfig, log=progress.print_line,
               task=None):
    """`log`: where the run's lines go (`progress`: with the default, a
    progress bar on a terminal). `task`: the `tasks.Task` to train on;
    default `make_task(config)`."""
    config = resolve(config, task)
    self.task = task or make_task(config)
    self.log = log
    self.program = self.task.program
    sharpness = config.sharpness
    if sharpness is None:
      train = self.task.examples(tasks.TRAIN, config.train_examples)
      sharpness = initialization.soft_start_sharpness(
          self.program, (train["input"], train["target"], train["mask"]),
          self.task.max_steps, config.eta_stop)
      log(f"soft start: sharpness {sharpness:g}, the softest at which the "
          "compiled program is right on the train inputs")
    self.config = config = dataclasses.replace(
        config, memory_size=self.task.memory_size,
        max_steps=self.task.max_steps, sharpness=sharpness)
    # The restarts and their training step: the same model and step as
    # a Keras user's `fit` (training.model).
    self.model = AncModel(self.program, config.max_steps, **{
        name: getattr(config, name) for name in MODEL_SETTINGS})
    self.machine = self.model.machine
    self.optimizer = optimizers.make(
        config.optimizer, config.learning_rate,
        self.machine.trainable_variables,
        **({"epsilon": config.adam_epsilon} if config.optimizer == "adam"
           else {}))
    self.prior = (priors.Prior(config.prior, self.program, config.prior_weight,
                               config.prior_annealing)
                  if config.prior != "none" and config.prior_weight else None)
    self.step = tf.Variable(0, dtype=tf.int64, name="step")
    # Set once the program search has replaced what it found, so that a
    # finished run started again does not search from its results.
    self.programs_searched = tf.Variable(False, name="programs_searched")
    # Wall seconds each stage took in this process (results.json's
    # "seconds"); None for a stage an earlier process did.
    self.seconds = {"train": None, "program_search": None}
    # [K]: the restarts whose loss or weights became non-finite. They are
    # left out of success, decompiling, the program search and export.
    self.diverged = tf.Variable(tf.zeros([config.restarts], tf.bool),
                                name="diverged")
    self._logged_diverged = set()
    tracked = {}
    self.population = None
    if config.population:
      self.population = population.Population(
          config.restarts, config.population_fraction,
          config.population_noise, config.seed)
      tracked.update(
          learning_rate_scale=self.population.learning_rate_scale,
          efficiency_scale=self.population.efficiency_scale)
    self._checkpointed = dict(step=self.step,
                              controller=self.machine.controller,
                              optimizer=self.optimizer, **tracked)
    self.checkpoint = tf.train.Checkpoint(
        programs_searched=self.programs_searched, diverged=self.diverged,
        **self._checkpointed)
    self.checkpoints = checkpoints.manager(
        self.checkpoint, os.path.join(config.model_dir, "checkpoints"))
    self.train_data = {
        name: tf.convert_to_tensor(values) for name, values in
        self.task.examples(tasks.TRAIN, config.train_examples).items()}
    test = self.task.examples(tasks.TEST)
    # The whole split decides what is exported; the first `test_examples`
    # are evaluated restart by restart.
    self.test_split = tuple(test[name] for name in ("input", "target", "mask"))
    self.test_data = tuple(array[:config.test_examples]
                           for array in self.test_split)
    self._train_step = tf.function(self._train_step_eager,
                                   jit_compile=config.jit_compile)
    self._train_steps = tf.function(self._train_steps_eager)
    self._scores = tf.function(self._scores_eager)

  @functools.cached_property
  def writer(self):
    """The TensorBoard writer, made on first use: a run refused on resuming
    writes nothing in `model_dir`."""
    return tf.summary.create_file_writer(self.config.model_dir)

  def _indices(self, step):
    """`[K, B]`: each restart's examples of `step` (`restart_draws`)."""
    return restart_draws.step_indices(
        self.config.seed, self.config.restarts, step,
        len(self.train_data["input"]), self.config.batch_size)

  def batches(self, start_step):
    """The training batches from `start_step` on (`pipeline.drawn_batches`):
    dicts of `[K, B, M]` inputs, targets and masks."""
    config = self.config
    return pipeline.drawn_batches(
        self.train_data, self._indices, start_step, config.train_steps,
        indices_shape=(config.restarts, config.batch_size),
        graph_draw=restart_draws.in_graph(
            config.seed, config.restarts, len(self.train_data["input"]),
            config.batch_size))

  def _train_step_eager(self, inputs, targets, masks):
    losses, terms, _ = self.model.train_restarts(
        inputs, targets, masks, self.optimizer, self.step, self.prior,
        self.population)
    self.step.assign_add(1)
    return tf.reduce_mean(losses), terms, losses

  def _train_steps_eager(self, batches, num_steps):
    """`num_steps` (>= 1) training steps on the next batches of the
    iterator `batches`, in one call: the last step's results. One call a
    step spent about 1 ms of a ListK step (6-7 ms) in Python and the
    iterator."""
    batch = next(batches)
    results = self._train_step(batch["input"], batch["target"], batch["mask"])
    for _ in tf.range(num_steps - 1):
      batch = next(batches)
      results = self._train_step(batch["input"], batch["target"],
                                 batch["mask"])
    return results

  def _steps_to_next_event(self, step):
    """The steps from `step` to the next at which `train` logs, writes
    summaries or a checkpoint, evolves the population, or stops."""
    config = self.config
    intervals = [config.log_every, config.summary_every,
                 config.checkpoint_every]
    if self.population:
      intervals.append(config.population_interval)
    return min([config.train_steps - step] +
               [interval - step % interval for interval in intervals])

  def _scores_eager(self, inputs, targets, masks):
    """Each restart's accuracy, mean steps and loss on the same examples
    `[B, M]`. An example is right when its memory is, at the end and at
    halting (`evaluation`: what a success asks)."""
    per_restart = [tf.broadcast_to(values, (self.config.restarts,) +
                                   tuple(values.shape))
                   for values in (inputs, targets, masks)]
    loss, _, outputs = self.model.restart_losses(*per_restart,
                                                 halting_mixture=True)
    right = tf.ones_like(per_restart[2][..., 0])
    for memory in (outputs["memory"], outputs["memory_at_halting"]):
      memory = tf.argmax(memory, axis=-1, output_type=tf.int32)
      right &= tf.reduce_all((memory == per_restart[1]) | ~per_restart[2],
                             axis=-1)
    return (tf.reduce_mean(tf.cast(right, tf.float32), axis=-1),
            tf.reduce_mean(tf.cast(outputs["steps"], tf.float32), axis=-1),
            loss)

  def _evolve(self, step):
    """The population's exploit and explore after `step`; logs who moved."""
    examples = self.config.population_examples
    accuracies, mean_steps, losses = self._scores(
        *(self.train_data[name][:examples]
          for name in ("input", "target", "mask")))
    self.population.evolve(accuracies.numpy(), mean_steps.numpy(),
                           losses.numpy(), self.machine.trainable_variables,
                           self.optimizer, step, self.log)
    # A diverged restart (ranked last: its loss is NaN) that took a copy of
    # a finite one trains on as that copy.
    self.diverged.assign(self.diverged & ~self.model.finite_restarts())

  def restore(self) -> int:
    """Restores the latest checkpoint, if any; returns the step reached."""
    checkpoint = self.checkpoint
    latest = self.checkpoints.latest_checkpoint
    if latest and not checkpoints.holds(
        latest, "programs_searched/.ATTRIBUTES/VARIABLE_VALUE"):
      # A run from before the program search: everything else is there.
      checkpoint = tf.train.Checkpoint(**self._checkpointed)
    return checkpoints.restore_latest(
        self.checkpoints, checkpoint, self.step, self.log,
        settings=config_json(self.config), resumable=RESUMABLE)

  def train(self):
    config = self.config
    started = time.perf_counter()
    step = restored = self.restore()
    self._mark_diverged(step, None)
    steps = progress.Progress(config.train_steps, step, self.log)
    with self.writer.as_default():
      if step == 0:
        hparams.write_settings(config_json(config), METRICS)
      last_log, logged_step = time.perf_counter(), step
      batches = iter(self.batches(step))
      while step < config.train_steps:
        num_steps = self._steps_to_next_event(step)
        loss, terms, losses = self._train_steps(batches,
                                                tf.constant(num_steps))
        step += num_steps
        if (self.population and step % config.population_interval == 0 and
            step < config.train_steps):
          self._evolve(step)
        if step % config.log_every == 0 or step == config.train_steps:
          self._mark_diverged(step, losses)
          now = time.perf_counter()
          speed = ((step - logged_step) * config.batch_size *
                   config.restarts / (now - last_log))
          last_log, logged_step = now, step
          summaries.write_training(step, loss, terms, speed)
          line = (f"step {step}/{config.train_steps} loss {float(loss):.4f} "
                  + " ".join(f"{name} {float(value):.4f}"
                             for name, value in terms.items())
                  + f" ({speed:.0f} examples/s)")
          steps.update(step, line, {"loss": float(loss)})
        else:
          steps.update(step)
        # The last step's summaries are evaluate's, after the program search.
        if step % config.summary_every == 0 and step < config.train_steps:
          summarizing = time.perf_counter()
          self.write_summaries(step)
          last_log += time.perf_counter() - summarizing  # not training's time
        if step % config.checkpoint_every == 0 or step == config.train_steps:
          self.checkpoints.save(checkpoint_number=step)
    self.writer.flush()
    if step > restored:
      self.seconds["train"] = time.perf_counter() - started

  def write_summaries(self, step: int):
    """Every restart's accuracy and mean steps on the first
    `SUMMARY_EXAMPLES` test examples (a glance, not the evaluation: cheap
    beside training), and the first `imaged_restarts` controllers as
    heatmaps, at `step` (`summaries`; diverged restarts left out)."""
    diverged = self.diverged.numpy()
    live = [k for k in range(self.config.restarts) if not diverged[k]]
    scores = evaluation.soft_scores(
        self.machine, *(values[:SUMMARY_EXAMPLES] for values in self.test_data))
    summaries.write_scores(step, scores.accuracy, scores.mean_steps, live)
    summaries.write_controllers(step, {
        restart: self.machine.controller.controller_weights(restart)
        for restart in live[:self.config.imaged_restarts]}, self.log)

  def diverged_restarts(self):
    """The restarts whose loss or weights became non-finite, in order."""
    return [int(k) for k in np.flatnonzero(self.diverged.numpy())]

  def _mark_diverged(self, step, losses):
    """Marks the restarts whose `losses` (`[K]`, the last step's) or weights
    are not finite and logs those not logged before.

    Checked when the progress is logged, not in the step, which it would
    slow: a restart that went non-finite stays so (its gradients and so its
    weights are NaN from then on), so none is missed.
    """
    finite = self.model.finite_restarts().numpy()
    if losses is not None:
      finite &= np.isfinite(losses.numpy())
    self.diverged.assign(self.diverged.numpy() | ~finite)
    new = [restart for restart in self.diverged_restarts()
           if restart not in self._logged_diverged]
    self._logged_diverged.update(new)
    if new:
      self.log(f"restart{'s' if len(new) > 1 else ''} "
               f"{', '.join(map(str, new))} diverged (a non-finite loss or "
               f"weight) by step {step}: left out of success, decompiling "
               "and export")

  def search_programs(self):
    """After training, each restart's argmax program improved by discrete
    local search (`program_search`, `--program_search_steps`).

    Each restart searches, from its own seed, from its argmax program when
    that is right on every one of the search's examples (distinct train
    inputs), else (and with `--method=search`) from the program the run
    compiled. With `--method=guided`, a second chain per restart starts
    from its argmax program, right or not, proposing from the restart's
    controller, and the two chains share the steps. A program right on
    every example and faster there than both the generic program and the
    restart's own soft machine (when that is right there, at the end and
    at halting) replaces the restart, compiled exactly. Done once: the
    checkpoint remembers it.
    """
    config = self.config
    if not config.program_search_steps or self.programs_searched.numpy():
      return
    examples = program_search.distinct_examples(
        *(self.train_data[name].numpy() for name in ("input", "target",
                                                     "mask")),
        config.program_search_examples)
    generic = np.mean(evaluation.generic_steps(self.program, examples[0],
                                               config.max_steps))
    soft = evaluation.soft_scores(self.machine, *examples)
    self._mark_diverged(int(self.step.numpy()), None)
    diverged = self.diverged.numpy()
    restarts = [restart for restart in range(config.restarts)
                if not diverged[restart]]
    guided = config.method == "guided"
    # One chain per restart, two when guided: each chain's restart, start,
    # seed, proposals (None: uniform) and the mean steps it must beat.
    restart_of, starts, seeds, proposals, bounds = [], [], [], [], []
    for restart in restarts:
      bound = (min(generic, soft.mean_steps[restart]) if soft.right()[restart]
               else generic)
      weights = self.machine.controller.controller_weights(restart)
      argmax = decompile(weights).program
      wrong, _ = program_search.score(argmax, examples, config.max_steps)
      chains = [(self.program if wrong or config.method == "search"
                 else argmax, f"{config.seed}/{restart}", None)]
      if guided:
        # The second chain repairs and speeds up what the gradient found,
        # right or not, proposing what its controller prefers.
        chains.append((argmax, f"{config.seed}/{restart}/controller",
                       program_search.proposal_distributions(
                           weights,
                           config.program_search_proposal_temperature)))
      for start, seed, table in chains:
        restart_of.append(restart)
        starts.append(start)
        seeds.append(seed)
        proposals.append(table)
        bounds.append(bound)
    chain_steps = config.program_search_steps // (2 if guided else 1)
    search = progress.Stage(
        self.log, "program search", f"{len(starts)} chains of {chain_steps} "
        f"annealing steps on {len(examples[0])} distinct train inputs")
    found_by_chain = program_search.anneal_many(
        starts, examples, config.max_steps,
        # Guided, each restart's two chains share its budget.
        chain_steps, seeds, bounds,
        proposals=proposals if guided else None)
    self.seconds["program_search"] = search.seconds()
    results = {}
    for restart, result in zip(restart_of, found_by_chain):
      if result is not None and (restart not in results or
                                 result.mean_steps <
                                 results[restart].mean_steps):
        results[restart] = result
    for restart, result in results.items():
      self.machine.controller.set_controller_weights(
          compile_program(result.program), restart)
    found = len(results)
    search.done(f"{found} of {config.restarts} restarts replaced by a "
                f"faster program right on {len(examples[0])} distinct train "
                "inputs")
    self.programs_searched.assign(True)
    self.checkpoints.save(checkpoint_number=int(self.step.numpy()))

  def evaluate(self):
    """Evaluates every restart; writes summaries and results.json."""
    config = self.config
    inputs, targets, masks = self.test_data
    evaluating = progress.Stage(
        self.log, "evaluation", f"{config.restarts} restarts on "
        f"{len(inputs)} test examples")
    split_generic = evaluation.generic_steps(
        self.program, self.test_split[0], config.max_steps)
    generic = split_generic[:len(inputs)]  # test_data is the split's head
    self._mark_diverged(int(self.step.numpy()), None)
    diverged = self.diverged.numpy()
    split_scores = evaluation.soft_scores(self.machine, *self.test_split)
    # test_data is the split's head: when it is the whole split, the same.
    whole_split = len(inputs) == len(self.test_split[0])
    results = evaluation.evaluate_restarts(
        self.machine, inputs, targets, masks, float(np.mean(generic)),
        diverged, scores=split_scores if whole_split else None)
    best = evaluation.best_restart(results)
    exported = evaluation.exported_restart(
        split_scores,
        evaluation.discrete_scores(self.machine, *self.test_split),
        np.mean(split_generic), diverged)
    weights = [self.machine.controller.controller_weights(restart)
               for restart in range(config.restarts)]
    step = int(self.step.numpy())
    success_rate = float(np.mean([r["success"] for r in results]))
    seconds = evaluating.seconds()  # the evaluation's, not its drawings'
    with self.writer.as_default():
      summaries.write_evaluation(step, results, weights,
                                 config.imaged_restarts, self.log)
      hparams.write_metrics({
          "success_rate": success_rate,
          "best_accuracy": results[best]["accuracy"],
          "best_mean_iterations": results[best]["mean_iterations"]}, step)
      if not results[best]["diverged"]:
        tf.summary.text("program/learned_beside_given", "```\n" +
                        self.program_beside_given(best) + "\n```", step=step)
    self.writer.flush()
    report = {
        "task": self.task.name,
        "distribution": self.task.distribution,
        "program": config.program,
        # The cells that count on every example (a user's task); None: the
        # shipped task's own masks.
        "output_cells": (None if self.task.output_cells is None
                         else list(self.task.output_cells)),
        "config": config_json(config),
        "train_steps_done": step,
        "test_examples": len(inputs),
        "generic_mean_steps": float(np.mean(generic)),
        "generic_mean_iterations": float(np.mean(generic)) + 1,
        "restarts": results,
        # Restarts whose loss or weights became non-finite in training.
        "diverged_restarts": self.diverged_restarts(),
        "success_rate": success_rate,
        "best_restart": best,
        # None: no restart (soft machine or argmax program) is right on the
        # whole test split and faster than the generic program there, so
        # the compiled generic program is exported instead.
        "exported_restart": None if exported is None else exported.restart,
        # True: that restart's argmax program, compiled exactly, is served.
        "exported_argmax_program": bool(exported and exported.argmax_program),
        "exported_generic_program": exported is None,
        # Wall seconds of this process's training, program search and
        # evaluation; None for a stage an earlier process did.
        "seconds": {**self.seconds, "evaluation": seconds},
    }
    with open(os.path.join(config.model_dir, "results.json"), "w") as f:
      json.dump(report, f, indent=1)
    evaluating.done(f"{sum(r['success'] for r in results)} of "
                    f"{config.restarts} restarts succeeded")
    return report

  def program_beside_given(self, restart: int) -> str:
    """The program the run compiled and `restart`'s argmax program, line by
    line, marking what changed (`side_by_side`)."""
    given = decompile(compile_program(self.program)).code
    learned = decompile(
        self.machine.controller.controller_weights(restart)).code
    return side_by_side(given, learned, (
        f"given ({os.path.basename(self.config.program)})",
        f"learned (restart {restart})"))

  def export(self, report) -> str:
    """The model to serve (and, if asked, every restart) as SavedModels.

    The report's `exported_restart` goes to the next version under
    `model_dir/saved_model` (its argmax program compiled at full sharpness
    when `exported_argmax_program`) or, when it is None, the generic
    program compiled at full sharpness (exactly the discrete program); with
    `export_all_restarts` every other restart that did not diverge goes to
    the next version under `model_dir/saved_models/restart_<k>`
    (`tf_anc.export`).

    Returns:
      The served model's version folder, `model_dir/saved_model/<n>`.
    """
    config = self.config
    chosen = report["exported_restart"]
    base = os.path.join(config.model_dir, "saved_model")
    if chosen is None:
      served = export_saved_model(
          compile_program(self.program), base, config.max_steps,
          config.eta_stop, program_text=self.task.program_text)
    elif report["exported_argmax_program"]:
      exact = compile_program(decompile(
          self.machine.controller.controller_weights(chosen)).program)
      served = export_saved_model(exact, base, config.max_steps,
                                  config.eta_stop,
                                  program_text=decompile(exact).text)
    else:
      served = self._export_restart(report, chosen, base)
    if config.export_all_restarts:
      for restart in range(config.restarts):
        if restart != chosen and not report["restarts"][restart]["diverged"]:
          self._export_restart(report, restart, os.path.join(
              config.model_dir, "saved_models", f"restart_{restart}"))
    return served

  def _export_restart(self, report, restart, base) -> str:
    return export_saved_model(
        self.machine.controller.controller_weights(restart), base,
        self.config.max_steps, self.config.eta_stop,
        program_text=report["restarts"][restart]["program"])


def config_json(config: TrainingConfig) -> dict:
  """`config` as results.json records it."""
  fields = dataclasses.asdict(config)
  fields["loss_weights"] = dataclasses.asdict(config.loss_weights)
  return fields


def train_and_evaluate(config: TrainingConfig = TrainingConfig(),
                       log=progress.print_line,
                       task: Optional[tasks.Task] = None) -> dict:
  """The whole run: train (resuming), search programs, evaluate, export;
  returns the report (results.json). `task`: what to train on, else the
  config's (`make_task`)."""
  trainer = Trainer(config, log=log, task=task)
  trainer.train()
  trainer.search_programs()
  report = trainer.evaluate()
  trainer.export(report)
  return report
