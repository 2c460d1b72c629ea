"""Training the MATH model: restarts over one library, convergence, lengths.

`MathTrainer` (given a `MathConfig`) compiles `models/math.py` for tapes of
2 digits and trains `restarts` programs side by side on `math_tapes`'
train split. In the perceptual variant the restarts share one net_0 and one
net_1, loaded from the neural library the lifelong experiment wrote; each
restart's params learn from its own likelihood, the networks from the
mixture of the restarts (`NeuralProgram.shared_networks_loss`),
`perceptual_slowdown` times slower.

Every `eval_every` steps each restart's discretized program answers the
validation tapes; the first measurement at or above `convergence_accuracy`
marks the restart converged (the paper's jump in validation accuracy).
With `population=True` the restarts also exploit and explore every
`population_interval` steps (`tf_anc.common.population`); each restart's
lineage (whom it descends from) tells the programs found independently from
their copies. Checkpoints keep the step, params, networks, optimizers, those
marks and lineages, so a killed run resumes exactly.

`evaluate` runs every distinct learned program (`math_task.interpreter`,
which runs a discrete program on tapes of any length) on the symbols of the
test tapes of each length 1 ... `max_digits` (does the program generalize,
whatever its networks read?) and the best restart, reading with its
networks, on the test tapes themselves (`accuracy_by_length`), and writes
`results.json`.
"""

import dataclasses
import functools
import json
import os
import time
from typing import Dict, List

import numpy as np
import tensorflow as tf

from ntpt_keras import instances as instances_lib
from ntpt_keras import summaries
from ntpt_keras.instances import load_tfds
from ntpt_keras.lang import compiler
from ntpt_keras.library import NeuralLibrary
from ntpt_keras.math_task import interpreter
from ntpt_keras.math_task.config import MathConfig, TRAIN_DIGITS, resolve
from ntpt_keras.model import NeuralProgram, make_network
from tf_anc.common import checkpoints
from tf_anc.common import gumbel
from tf_anc.common import hparams
from tf_anc.common import optimizers
from tf_anc.common import pipeline
from tf_anc.common import population as population_lib
from tf_anc.common import progress

# Settings a resumed run may change (checkpoints.RESUMABLE): also how often
# it measures the validation accuracy and up to which length it tests.
RESUMABLE = checkpoints.RESUMABLE + ("eval_every", "max_digits")
# The run's results in TensorBoard's HParams dashboard (`evaluate`): the
# shares of restarts converged and generalizing, and the best restart's
# accuracy on the longest test tapes.
METRICS = ("converged_rate", "generalizing_rate", "longest_tape_accuracy")


def compile_math(digits: int, perceptual: bool, model_file: str):
  """models/math.py for tapes of `digits` digits."""
  return compiler.compile_model(model_file, {"digits": digits,
                                             "perceptual": int(perceptual)})


class MathTrainer:
  """Owns the model, its optimizers, the tapes and the checkpoints."""

  def __init__(self, config: MathConfig, log=progress.print_line):
    """`log`: where the run's lines go (`progress`: with the default, a
    progress bar on a terminal)."""
    from tf_anc_datasets import math_tapes  # pylint: disable=g-import-not-at-top
    self.config = config = resolve(config)
    self.log = log
    self.splits = math_tapes
    program = compile_math(TRAIN_DIGITS, config.perceptual,
                           config.model_file)
    # One network per function, shared by every restart.
    shared = {name: [make_network(program.learned_functions[name], name)]
                    * config.restarts
              for name in program.called_functions()}
    self.model = NeuralProgram(program, restarts=config.restarts,
                               param_init_stddev=config.param_init_stddev,
                               seed=config.seed, networks=shared)
    if config.perceptual and config.library_dir:
      library = NeuralLibrary(config.library_dir)
      if not library.functions():
        raise ValueError(
            f"no neural library in {config.library_dir}: run the lifelong "
            "experiment first (python -m tf_anc.train "
            "--flagfile=configs/ntpt/lifelong_by_kind.flags) or give "
            "--library_dir")
      log(f"bound {', '.join(library.bind(self.model))} from the library "
          f"{config.library_dir}")
    self.train_data = self.tapes(math_tapes.TRAIN, config.train_examples)
    self.validation = self.tapes(math_tapes.VALIDATION,
                                 config.validation_examples)
    self.groups = [
        (optimizers.make(config.optimizer, rate, variables), variables)
        for rate, variables in (
            (config.learning_rate, self.model.program_variables),
            (config.learning_rate / config.perceptual_slowdown,
             self.model.network_variables))
        if variables]
    self.population = None
    if config.population:
      self.population = population_lib.Population(
          config.restarts, config.population_fraction,
          config.population_noise, config.seed, hyperparameters=False,
          mutation=config.population_mutation)
    self.step = tf.Variable(0, dtype=tf.int64, name="step")
    # The step at which each restart converged; -1 while it has not.
    self.converged_at = tf.Variable(tf.fill([config.restarts], -1),
                                    dtype=tf.int32, name="converged_at")
    # The restart each one descends from: itself, until a population move
    # copies another into it (then that one's lineage).
    self.lineage = tf.Variable(tf.range(config.restarts), name="lineage")
    self.checkpoint = tf.train.Checkpoint(
        step=self.step, converged_at=self.converged_at, lineage=self.lineage,
        model=self.model.checkpointed(),
        **{f"optimizer_{i}": o for i, (o, _) in enumerate(self.groups)})
    self.checkpoints = checkpoints.manager(
        self.checkpoint, os.path.join(config.model_dir, "checkpoints"),
        max_to_keep=2)
    self._train_step = tf.function(self._train_step_eager,
                                   jit_compile=config.jit_compile,
                                   reduce_retracing=True)
    self._answers = tf.function(
        lambda inputs: self.model.discrete_outputs(inputs)["answer"],
        reduce_retracing=True)

  def tapes(self, split: str, num_examples=None) -> instances_lib.Instances:
    """A split of 2-digit tapes as instances of the trained model."""
    config = self.config
    return instances_lib.read_tfds(self.model.program, config.dataset, split,
                                   config.data_dir, num_examples)

  @functools.cached_property
  def writer(self):
    """The TensorBoard writer, made on first use: a run refused on resuming
    writes nothing in `model_dir`."""
    return tf.summary.create_file_writer(self.config.model_dir)

  # --- Training ----------------------------------------------------------

  def _indices(self, step: int) -> np.ndarray:
    return np.random.default_rng([self.config.seed, step]).choice(
        len(self.train_data), self.config.batch_size)

  def _train_step_eager(self, inputs, observed):
    relaxation = gumbel.training_relaxation(
        self.config.gumbel_temperature, self.config.seed, self.step)
    with tf.GradientTape() as tape:
      if self.model.networks:
        loss = self.model.shared_networks_loss(inputs, observed, **relaxation)
      else:
        loss = tf.reduce_sum(self.model.negative_log_likelihood(
            inputs, observed, **relaxation))
    optimizers.apply_gradients(tape, loss, self.groups)
    if self.config.logit_bound is not None:
      bound = self.config.logit_bound
      for logits in self.model.program_variables:
        logits.assign(tf.clip_by_value(logits, -bound, bound))
    self.step.assign_add(1)
    return loss

  def validation_accuracy(self) -> np.ndarray:
    """`[K]`: each restart's discretized program on the validation tapes."""
    answers = self._answers(self.validation.inputs).numpy()
    return np.mean(answers == self.validation.outputs["answer"][None], axis=1)

  def _measure(self, step: int):
    accuracy = self.validation_accuracy()
    converged = self.converged_at.numpy()
    newly = (converged < 0) & (accuracy >= self.config.convergence_accuracy)
    converged[newly] = step
    self.converged_at.assign(converged)
    for restart in np.flatnonzero(newly):
      self.log(f"restart {restart} converged at step {step} (validation "
               f"accuracy {accuracy[restart]:.3f})")
    tf.summary.scalar("validation/best", float(np.max(accuracy)), step=step)
    tf.summary.scalar("validation/converged_restarts",
                      int(np.sum(converged >= 0)), step=step)
    for restart, value in enumerate(accuracy):
      tf.summary.scalar(f"validation/restart_{restart}", float(value),
                        step=step)
    self._write_params(step)
    return accuracy

  def _write_params(self, step: int):
    summaries.write_params(
        self.model, range(min(self.config.restarts,
                              self.config.imaged_restarts)), step, self.log)

  def _evolve(self, step: int):
    """The population's exploit and explore after `step`; logs who moved."""
    scored = self.train_data.take(np.arange(min(
        self.config.population_examples, len(self.train_data))))
    accuracy = np.mean(self._answers(scored.inputs).numpy()
                       == scored.outputs["answer"][None], axis=1)
    losses = -tf.reduce_mean(self.model.log_likelihood(
        scored.inputs, scored.outputs), axis=1).numpy()
    replacements = self.population.evolve(
        accuracy, np.zeros_like(accuracy), losses,
        self.model.program_variables, self.groups[0][0], step, self.log)
    lineage = self.lineage.numpy()
    for loser, source in replacements:
      lineage[loser] = lineage[source]
    self.lineage.assign(lineage)

  def restore(self) -> int:
    """Restores the latest checkpoint, if any; returns the step reached.
    The settings are recorded beside the checkpoints, and a resume may
    change only `RESUMABLE`'s."""
    return checkpoints.restore_latest(
        self.checkpoints, self.checkpoint, self.step, self.log,
        settings=dataclasses.asdict(self.config), resumable=RESUMABLE)

  def train(self):
    config = self.config
    step = self.restore()
    steps = progress.Progress(config.train_steps, step, self.log)
    data = (self.train_data.inputs, self.train_data.outputs)
    with self.writer.as_default():
      if step == 0:
        hparams.write_settings(config, METRICS)
      started, start_step = time.perf_counter(), step
      for inputs, outputs in pipeline.drawn_batches(data, self._indices, step,
                                                    config.train_steps):
        loss = float(self._train_step(inputs, outputs))
        step += 1
        if (self.population and step % config.population_interval == 0
            and step < config.train_steps):
          self._evolve(step)
        if step % config.eval_every == 0 or step == config.train_steps:
          accuracy = self._measure(step)
        if step % config.log_every == 0 or step == config.train_steps:
          tf.summary.scalar("loss", loss, step=step)
          rate = (step - start_step) / (time.perf_counter() - started)
          converged = int(np.sum(self.converged_at.numpy() >= 0))
          steps.update(step, f"step {step}/{config.train_steps} loss "
                       f"{loss:.3f} validation best {np.max(accuracy):.3f}, "
                       f"converged {converged} of {config.restarts} "
                       f"({rate:.1f} steps/s)",
                       {"loss": loss, "validation best": np.max(accuracy)})
        else:
          steps.update(step)
        if step % config.checkpoint_every == 0 or step == config.train_steps:
          self.checkpoints.save(checkpoint_number=step)
    self.writer.flush()

  # --- Evaluation --------------------------------------------------------

  def networks(self) -> Dict[str, object]:
    """The run's networks by name, shared by every restart (none for
    symbols)."""
    return {name: networks[0] for name, networks in
            self.model.networks.items()}

  def test_tapes(self, digits: int) -> Dict[str, np.ndarray]:
    """The test tapes of `digits` digits: `tape` (intensities or symbols),
    `symbols` and `answer`."""
    arrays = load_tfds(self.config.dataset, self.splits.test_split(digits),
                       self.config.data_dir, self.config.test_examples)
    tape = arrays["tape"]
    if self.config.perceptual:
      tape = tf.image.convert_image_dtype(tape, tf.float32).numpy()
    return {"tape": tape, "symbols": arrays["symbols"],
            "answer": arrays["answer"]}

  def generalization(self, programs: List[Dict[str, object]]) -> List[int]:
    """Per program: the longest length n such that it answers every symbols
    test tape of every length 1 ... n (`max_digits` if all)."""
    reach = [0] * len(programs)
    alive = list(range(len(programs)))
    for digits in range(1, self.config.max_digits + 1):
      tapes = self.test_tapes(digits)
      symbol_reads = interpreter.reads(tf.constant(tapes["symbols"]))
      for program in list(alive):
        answers = interpreter.interpret(programs[program], *symbol_reads)
        if np.all(answers.numpy() == tapes["answer"]):
          reach[program] = digits
        else:
          alive.remove(program)
    return reach

  def accuracy_by_length(self, params: Dict[str, object]) -> Dict[str, float]:
    """`params`' program, reading with this run's networks, on the test
    tapes of each length: `{"1": ..., "16": ...}`."""
    accuracy = {}
    for digits in range(1, self.config.max_digits + 1):
      tapes = self.test_tapes(digits)
      answers = interpreter.interpret(params, *interpreter.reads(
          tf.constant(tapes["tape"]), self.networks() or None))
      accuracy[str(digits)] = float(np.mean(answers.numpy()
                                            == tapes["answer"]))
      self.log(f"{digits} digits: {accuracy[str(digits)]:.3f}")
    return accuracy

  def network_accuracy(self) -> Dict[str, float]:
    """net_0 on the digits and net_1 on the operators of the longest test
    tapes (their labels: the tapes' symbols)."""
    networks = self.networks()
    if not networks:
      return {}
    tapes = self.test_tapes(self.config.max_digits)
    digits, operators = interpreter.reads(tf.constant(tapes["tape"]),
                                          networks)
    symbols = tapes["symbols"]
    return {"net_0": float(np.mean(digits.numpy()[:, 0::2]
                                   == symbols[:, 0::2])),
            "net_1": float(np.mean(operators.numpy()[:, 1::2] ==
                                   symbols[:, 1::2]
                                   - self.splits.OPERATOR_OFFSET))}

  def evaluate(self) -> dict:
    """Scores every restart and the best one by length; writes results."""
    config = self.config
    evaluating = progress.Stage(
        self.log, "evaluation", f"{config.restarts} restarts on validation "
        f"tapes and test tapes of 1 to {config.max_digits} digits")
    validation = self.validation_accuracy()
    losses = -tf.reduce_mean(self.model.log_likelihood(
        self.validation.inputs, self.validation.outputs), axis=1).numpy()
    converged_at = self.converged_at.numpy()
    lineage = self.lineage.numpy()
    params = [self.model.discrete_params(k) for k in range(config.restarts)]
    distinct = {}
    for k, program in enumerate(params):
      distinct.setdefault(json.dumps(program, sort_keys=True), []).append(k)
    reach = dict(zip(distinct, self.generalization(
        [json.loads(key) for key in distinct])))
    restart_reach = [reach[json.dumps(p, sort_keys=True)] for p in params]
    best = min(range(config.restarts), key=lambda k: (
        converged_at[k] < 0, -restart_reach[k], -validation[k], losses[k]))
    accuracy_by_length = self.accuracy_by_length(params[best])
    networks = self.network_accuracy()
    report = {
        "variant": config.variant,
        "library_dir": config.library_dir if config.perceptual else None,
        "train_examples": len(self.train_data),
        "validation_examples": len(self.validation),
        "train_steps_done": int(self.step.numpy()),
        "restarts": config.restarts,
        "converged_restarts": int(np.sum(converged_at >= 0)),
        "generalizing_restarts": int(sum(
            r == config.max_digits for r in restart_reach)),
        # With a population, restarts copy each other: the lineages of the
        # generalizing restarts are the programs found independently.
        "generalizing_lineages": len({
            int(lineage[k]) for k in range(config.restarts)
            if restart_reach[k] == config.max_digits}),
        "distinct_programs": len(distinct),
        "best_restart": int(best),
        "program": self.model.discretize(best),
        "params": params[best],
        "accuracy_by_length": accuracy_by_length,
        "network_accuracy": networks,
        "per_restart": [{
            "restart": k, "validation_accuracy": float(validation[k]),
            "validation_loss": float(losses[k]),
            "converged_at_step": int(converged_at[k]),
            "lineage": int(lineage[k]),
            "generalizes_to_digits": int(restart_reach[k])}
                        for k in range(config.restarts)],
        "config": dataclasses.asdict(config),
    }
    if "net_0" in networks:
      # The paper's bound: a right program errs only where net_0 does.
      report["digit_accuracy_bound"] = {
          str(n): networks["net_0"] ** n
          for n in range(1, config.max_digits + 1)}
    with self.writer.as_default():
      step = int(self.step.numpy())
      for digits, value in accuracy_by_length.items():
        tf.summary.scalar(f"test/accuracy_{digits}_digits", value, step=step)
      tf.summary.text("test/program", "```\n" + report["program"] + "```",
                      step=step)
      hparams.write_metrics({
          "converged_rate": report["converged_restarts"] / config.restarts,
          "generalizing_rate":
              report["generalizing_restarts"] / config.restarts,
          "longest_tape_accuracy":
              accuracy_by_length[str(config.max_digits)]}, step)
    self.writer.flush()
    report["evaluation_seconds"] = evaluating.seconds()
    os.makedirs(config.model_dir, exist_ok=True)
    with open(os.path.join(config.model_dir, "results.json"), "w") as f:
      json.dump(report, f, indent=1)
    evaluating.done(f"{report['converged_restarts']} of {config.restarts} "
                    f"restarts converged, {report['generalizing_restarts']} "
                    "generalize")
    return report
