"""`AncModel`: K restarts of a compiled program as one `keras.Model`.

    model = tf_anc.AncModel(task.program, max_steps=task.max_steps,
                            restarts=8)
    model.compile(optimizer=keras.optimizers.Adam(0.1))
    model.fit(task.dataset("train").repeat().batch(5), epochs=20,
              steps_per_epoch=100, callbacks=[...])
    model.restart_results(task)  # each restart: accuracy, steps, success...

The restarts are the machine's leading axis (`SoftMachine(num_restarts=K)`):
each starts from the program compiled at `sharpness` with noise of its own
(`initialization`), and a training step sums the restarts' losses, so each
gets the gradient of its own. A batch `[B, M]` is seen by every restart; a
batch `[K, B, M]` gives each its own examples (what `python -m
tf_anc.train` feeds). `train_step` is `train_restarts`, the one step the
command-line trainer runs too.

The settings are `TrainingConfig`'s fields of the same names (the loss
weights, `eta_stop`, `batch_loss`, `gumbel_temperature`, ...): one spelling
for the command line, the config and the model.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from tf_anc import tasks as tasks_module
from tf_anc.common import config_flags
from tf_anc.common import gumbel
from tf_anc.export import export_saved_model
from tf_anc.lang import ir
from tf_anc.lang.compiler import compile_program
from tf_anc.lang.decompiler import decompile
from tf_anc.lang.parser import parse_program
from tf_anc.machine import SoftMachine
from tf_anc.training import evaluation
from tf_anc.training import initialization
from tf_anc.training.config import LossWeights, TrainingConfig
from tf_anc.training.loss import loss_terms, total_loss

# How a restart's examples make its loss (TrainingConfig.batch_loss).
_BATCH_REDUCTIONS = {"mean": tf.reduce_mean, "sum": tf.reduce_sum}
# The TrainingConfig fields the model takes; the others are the trainer's
# (data, schedule, search, files).
MODEL_SETTINGS = ("restarts", "sharpness", "eta_stop", "loss_weights",
                  "init_noise", "padding", "seed", "batch_loss",
                  "gumbel_temperature", "halting_gradient")


@keras.saving.register_keras_serializable(package="tf_anc")
class AncModel(keras.Model):
  """K restarts of `program` adapting to the examples they are fit on.

  Args:
    program: the program to adapt (`tf_anc.parse`'s IR), or a
      `tf_anc.Task`, whose program and `max_steps` are taken.
    max_steps: T_max (default: the task's).
    **settings: `MODEL_SETTINGS`, as `TrainingConfig` names them and with
      its defaults (`restarts=8`, `sharpness=5.0`, ...); `sharpness=None`
      picks the softest at which the program is right on the task's train
      examples (a task needed).
  """

  def __init__(self, program, max_steps=None, step_impl=None, **settings):
    task = program if isinstance(program, tasks_module.Task) else None
    if task is not None:
      program = task.program
      max_steps = task.max_steps if max_steps is None else max_steps
    if not isinstance(program, ir.Program):
      raise TypeError(f"program: expected a parsed program (tf_anc.parse) "
                      f"or a tf_anc.Task, got {type(program).__name__}")
    if max_steps is None:
      raise ValueError("max_steps: give T_max (or a tf_anc.Task)")
    max_steps = tasks_module.check_max_steps(max_steps)
    name = settings.pop("name", "anc_model")
    unknown = sorted(set(settings) - set(MODEL_SETTINGS))
    if unknown:
      raise TypeError(f"unknown settings {', '.join(unknown)}; an AncModel "
                      f"takes {', '.join(MODEL_SETTINGS)}")
    super().__init__(name=name)
    if isinstance(settings.get("loss_weights"), dict):
      settings["loss_weights"] = LossWeights(**settings["loss_weights"])
    config = TrainingConfig(**settings)
    config_flags.check(config)
    if config.sharpness is None:
      if task is None:
        raise ValueError("sharpness=None picks the sharpness on a task's "
                         "train examples: give a tf_anc.Task")
      train = task.examples(tasks_module.TRAIN)
      config = dataclasses.replace(
          config, sharpness=initialization.soft_start_sharpness(
              program, (train["input"], train["target"], train["mask"]),
              max_steps, config.eta_stop))
    self.settings = config
    self.program = program
    self.max_steps = max_steps
    compiled = compile_program(program, config.sharpness)
    self.machine = SoftMachine(
        program.memory_size, compiled.register_names, max_steps,
        eta_stop=config.eta_stop, num_restarts=config.restarts,
        halting_gradient=config.halting_gradient, step_impl=step_impl)
    for restart in range(config.restarts):
      self.machine.controller.set_controller_weights(
          initialization.initial_weights(
              compiled, len(program.operations), restart, config.seed,
              config.padding, config.init_noise), restart)
    self.built = True
    self._trackers = {name: keras.metrics.Mean(name=name)
                      for name in ("loss", "accuracy", "steps")}

  @property
  def restarts(self) -> int:
    return self.settings.restarts

  @property
  def metrics(self):
    return list(self._trackers.values())

  def call(self, memory, trace_memory=None):
    """The machine's outputs for `memory`: `[B, M]` (every restart runs it)
    or `[K, B, M]`; `memory` etc. are `[K, B, ...]`."""
    return self.machine(self._per_restart(memory), trace_memory=trace_memory)

  def _per_restart(self, values):
    values = tf.convert_to_tensor(values)
    if values.shape.rank == 2:
      values = tf.broadcast_to(values[None],
                               tf.concat([[self.restarts], tf.shape(values)],
                                         0))
    return values

  def restart_losses(self, inputs, targets, masks, efficiency_scale=None,
                     relaxation=None, trace_memory=None,
                     halting_mixture=False):
    """`[K]` losses (each restart's examples reduced as `batch_loss` says),
    the terms per example and the machine's outputs, on `[K, B, M]`
    examples. `efficiency_scale`: `[K]` factors of the efficiency term (a
    population's); `relaxation`: the machine's `gumbel_temperature` and
    `seed`, to run a sample of the programs."""
    settings = self.settings
    # The confidence term's per-step errors, measured in the machine's
    # loop rather than from a [K, B, T, M, M] memory trace.
    errors = ({"error_target": targets, "error_mask": masks}
              if settings.loss_weights.confidence else {})
    outputs = self.machine(inputs, **errors, **(relaxation or {}),
                           trace_memory=trace_memory,
                           halting_mixture=halting_mixture)
    terms = loss_terms(outputs, targets, masks, settings.eta_stop)
    weighted = terms
    if efficiency_scale is not None:
      weighted = dict(terms, efficiency=(terms["efficiency"] *
                                         efficiency_scale[:, None]))
    per_restart = _BATCH_REDUCTIONS[settings.batch_loss](
        total_loss(weighted, settings.loss_weights), axis=-1)
    return per_restart, terms, outputs

  def train_restarts(self, inputs, targets, masks, optimizer, step,
                     prior=None, population=None):
    """One update of every restart on `[K, B, M]` examples: the sum of
    their losses (plus `prior`'s pull) differentiated and applied by
    `optimizer`; with a `population`, each restart's update is scaled by
    its own learning rate. `step` (int64): the update's index, which fixes
    a Gumbel sample. Returns the `[K]` losses, the mean terms and the
    outputs."""
    variables = self.machine.trainable_variables
    relaxation = gumbel.training_relaxation(
        self.settings.gumbel_temperature, self.settings.seed, step)
    with tf.GradientTape() as tape:
      per_restart, terms, outputs = self.restart_losses(
          inputs, targets, masks,
          population.efficiency_scale if population else None, relaxation)
      if prior:
        per_restart += prior(self.machine.controller, step + 1)
      # Summed over restarts: every restart gets the gradient of its own loss.
      loss = tf.reduce_sum(per_restart)
    before = ([tf.identity(variable) for variable in variables]
              if population else [])
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    if population:
      # Each restart's own learning rate: its update scaled (SGD's and
      # Adam's updates are both linear in the learning rate).
      for variable, old in zip(variables, before):
        scale = tf.reshape(population.learning_rate_scale,
                           [-1] + [1] * (variable.shape.rank - 1))
        variable.assign(old + scale * (variable - old))
    return (per_restart,
            {name: tf.reduce_mean(value) for name, value in terms.items()},
            outputs)

  def finite_restarts(self):
    """`[K]` bool: is every weight of the restart finite?"""
    finite = tf.ones([self.restarts], tf.bool)
    for variable in self.machine.trainable_variables:
      values = tf.reshape(variable, [self.restarts, -1])
      finite &= tf.reduce_all(tf.math.is_finite(values), axis=1)
    return finite

  def _examples(self, data):
    if isinstance(data, dict):
      return data["input"], data["target"], data["mask"]
    return data

  def train_step(self, data):
    inputs, targets, masks = (self._per_restart(values)
                              for values in self._examples(data))
    losses, _, outputs = self.train_restarts(
        inputs, targets, masks, self.optimizer,
        tf.cast(self.optimizer.iterations, tf.int64))
    return self._update_metrics(tf.reduce_mean(losses), outputs["memory"],
                                targets, masks, outputs["steps"])

  def test_step(self, data):
    inputs, targets, masks = (self._per_restart(values)
                              for values in self._examples(data))
    loss, _, outputs = self.restart_losses(inputs, targets, masks)
    return self._update_metrics(tf.reduce_mean(loss), outputs["memory"],
                                targets, masks, outputs["steps"])

  def _update_metrics(self, loss, memory, targets, masks, steps):
    """loss; accuracy: the share of examples whose cells that count are
    right in the final memory, over every restart (`restart_results`
    judges each restart at halting too); steps: the mean steps taken."""
    cells = tf.argmax(memory, axis=-1, output_type=targets.dtype)
    right = tf.reduce_all((cells == targets) | ~tf.cast(masks, tf.bool),
                          axis=-1)
    self._trackers["loss"].update_state(loss)
    self._trackers["accuracy"].update_state(tf.cast(right, tf.float32))
    self._trackers["steps"].update_state(tf.cast(steps, tf.float32))
    return {name: tracker.result()
            for name, tracker in self._trackers.items()}

  def restart_weights(self, restart: int):
    """Restart `restart`'s `ControllerWeights`."""
    return self.machine.controller.controller_weights(restart)

  def programs(self):
    """Each restart's decompiled program (`lang.decompiler.Decompiled`:
    `text`, `program`, `interpretability`)."""
    return [decompile(self.restart_weights(restart))
            for restart in range(self.restarts)]

  def restart_results(self, task, split: str = tasks_module.TEST):
    """Each restart on the task's `split`, as `results.json` has them:
    accuracy and halted_accuracy, mean_steps/iterations, success (right on
    every example at the end and at halting, and faster than the task's
    program), interpretability, the decompiled program and its discrete
    accuracy and steps."""
    examples = task.examples(split)
    inputs = examples["input"]
    generic = evaluation.generic_steps(task.program, inputs, self.max_steps)
    return evaluation.evaluate_restarts(
        self.machine, inputs, examples["target"], examples["mask"],
        float(np.mean(generic)))

  def export(self, base, restart: int) -> str:
    """Restart `restart` as the next SavedModel version under `base`
    (`tf_anc.export`); returns its folder."""
    return export_saved_model(
        self.restart_weights(restart), base, self.max_steps,
        self.settings.eta_stop, program_text=self.programs()[restart].text)

  def get_config(self):
    settings = {name: getattr(self.settings, name)
                for name in MODEL_SETTINGS}
    settings["loss_weights"] = dataclasses.asdict(settings["loss_weights"])
    return {"program": decompile(compile_program(self.program)).text,
            "memory_size": self.program.memory_size,
            "max_steps": self.max_steps, "name": self.name, **settings}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    program = parse_program(config.pop("program"), config.pop("memory_size"))
    return cls(program, **config)
