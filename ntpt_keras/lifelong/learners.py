"""Lifelong learners over the 2x2 tasks, and NTPT's.

A learner is trained on one task's batch at a time. Its interface:

- `name`; `tasks`, the task names in schedule order;
- `groups`: `{group: Group(variables, learning_rate)}`, each group with its
  own optimizer (e.g. a task's program, a shared network);
- `task_groups(task, seen)`: the groups a batch of task number `task`
  trains once the learner has trained on `seen` examples of that task;
- `loss(task, batch)`: the scalar training loss on a batch;
- `predict(task, batch)`: the answer of every example, int32 `[B]`;
- `checkpointed()`: every variable of the learner, trainable or not, in
  dicts and lists named for what they hold (what checkpoints save);
- optionally `choose(task, batch)`: model selection on a batch of training
  examples, called before each measurement of `task`.

Every trainable variable is in exactly one group.

A batch is a dict of tensors: `grid` `[B, 2, 2, 28, 28]`, `answer` `[B]`,
and `d1`, `d2`, `d3` `[B]` for APPLY2x2 tasks (`tf_anc_datasets.grids2x2`).

`Ntpt` is the differentiable program with the neural library: one
`NeuralProgram` per task (2x2 models `ntpt_keras/models/{add,apply}2x2.py`),
all sharing one `net_0` and one `net_1`. The first task reads with net_0
only; later tasks choose per read (hypers `net_0` and `choice` of
`models/instances/2x2_hypers.json`), so no task brings more than one untrained
network (`library.check_untrained`). With `net_choice="by_kind"`, ADD2x2
tasks read with net_0 and APPLY2x2 tasks with net_1 instead.

With `protect_library`, a network an earlier task's answering program
reads with (as `choose` records it, `NeuralProgram.networks_read`) is
trained by a later task only once that task's own answering program reads
with it, and not in its first `library_warmup` examples, while its choices
form. Without it the paper's model forgets: a trained net_0 maps operators
to one wrong digit, yet its features separate them, so from the soft
choices' small share of the gradient, which Adam scales up to full steps,
it learns to read operators faster than an untrained net_1 learns from
scratch; the APPLY2x2 choices follow it and net_0 loses its digits.
Protected, net_0 stays confidently wrong on operators while net_1 learns
them, the choices settle on net_1, and no APPLY2x2 task moves net_0 after.

Each task has `restarts` program candidates (param restarts) over the one
library. Each candidate's params learn from its own likelihood, as
independent restarts do; the networks learn from the uniform mixture of
the candidates and of chance, so an
example's gradient reaches them through each candidate in proportion to
how much better than chance it explains the example: candidates stuck in
a wrong program, and a new task's still random ones, do not pull the
library their way. The candidate that reproduces most training examples
answers (`choose`); its answers are those of the discretized program
(`NeuralProgram.discrete_outputs`), as test accuracy is defined.
`ntpt_keras.lifelong.baselines` holds the neural baselines.
"""

import functools
import importlib.resources
import os
from typing import List, NamedTuple, Sequence

import tensorflow as tf

from ntpt_keras import library
from ntpt_keras.lang import compiler
from ntpt_keras.lang import source
from ntpt_keras.model import NeuralProgram
from ntpt_keras.model import make_network

# The 2x2 model files and their hypers, shipped in ntpt_keras/models.
_MODELS = str(importlib.resources.files("ntpt_keras") / "models")
HYPERS_FILE = os.path.join(_MODELS, "instances", "2x2_hypers.json")


# Examples `choose` finds the networks an answering program reads with on.
_READS_SAMPLE = 64


class Group(NamedTuple):
  """Variables trained together by one optimizer."""
  variables: list
  learning_rate: float


def is_apply(task: str) -> bool:
  return task.startswith("apply2x2")


def model_file(task: str) -> str:
  return os.path.join(_MODELS, "apply2x2.py" if is_apply(task)
                      else "add2x2.py")


def answer_loss(logits, answers):
  return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
      tf.cast(answers, tf.int32), logits))


def _reads(task: str, number: int, net_choice: str) -> str:
  """The hypers config of a task's reads (see `LifelongConfig.net_choice`)."""
  if net_choice == "by_kind":
    return "net_1" if is_apply(task) else "net_0"
  return "net_0" if number == 0 else "choice"


class Ntpt:
  """NTPT: a program per task over a shared library of networks."""

  name = "ntpt"

  def __init__(self, tasks: Sequence[str], learning_rate: float,
               neural_learning_rate: float, param_init_stddev: float = 1.0,
               seed: int = 0, restarts: int = 1, net_choice: str = "learned",
               protect_library: bool = False, library_warmup: int = 0):
    self.tasks = tuple(tasks)
    self.protect_library = protect_library
    self.library_warmup = library_warmup
    hypers = [source.read_hypers(HYPERS_FILE, _reads(
        task, number, net_choice))["values"]
              for number, task in enumerate(self.tasks)]
    programs = [compiler.compile_model(model_file(task), values)
                for task, values in zip(self.tasks, hypers)]
    library.check_untrained(self.tasks,
                            [p.called_functions() for p in programs])
    tf.keras.utils.set_random_seed(seed)
    self.networks = {}
    for program in programs:
      for name in program.called_functions():
        function = program.learned_functions[name]
        if name not in self.networks:
          self.networks[name] = (function, make_network(function, name))
        elif self.networks[name][0] != function:
          raise ValueError(f"{program.path} declares {name} as "
                           f"{function.to_json()}, other tasks as "
                           f"{self.networks[name][0].to_json()}")
    shared = {name: [network] * restarts
              for name, (_, network) in self.networks.items()}
    self.models = [
        NeuralProgram(program, restarts=restarts,
                      param_init_stddev=param_init_stddev,
                      seed=seed + number, networks=shared,
                      name=f"ntpt_{task}")
        for number, (task, program) in enumerate(zip(self.tasks, programs))]
    # The answering candidate of each task.
    self.chosen = [tf.Variable(0, trainable=False, name=f"chosen_{task}")
                   for task in self.tasks]
    self._choosers = {}  # choose, compiled per task
    # Whether its answer reads with each network it may call, per task.
    self.reads = [{name: tf.Variable(False, trainable=False,
                                     name=f"{task}_reads_with_{name}")
                   for name in model.networks}
                  for task, model in zip(self.tasks, self.models)]
    self.groups = {task: Group(model.program_variables, learning_rate)
                   for task, model in zip(self.tasks, self.models)}
    self.groups.update({
        name: Group(network.trainable_variables, neural_learning_rate)
        for name, (_, network) in self.networks.items()})

  def network(self, name: str):
    return self.networks[name][1]

  def checkpointed(self) -> dict:
    return {"programs": {task: model.checkpointed()["params"]
                         for task, model in zip(self.tasks, self.models)},
            "networks": {name: list(network.variables)
                         for name, (_, network) in self.networks.items()},
            "chosen": dict(zip(self.tasks, self.chosen)),
            "reads": dict(zip(self.tasks, self.reads))}

  def task_groups(self, task: int, seen: int = 0) -> List[str]:
    groups = [self.tasks[task], *self.models[task].networks]
    if not self.protect_library:
      return groups
    protected = set().union(*map(self._read_by, range(task)))
    own = self._read_by(task) if seen >= self.library_warmup else set()
    return [group for group in groups
            if group not in protected or group in own]

  def _read_by(self, task: int) -> set:
    """The networks task `task`'s answering program reads with."""
    return {name for name, reads in self.reads[task].items() if reads}

  def _inputs(self, task: int, batch):
    return {name: batch[name] for name in self.models[task].input_names()}

  def loss(self, task: int, batch):
    model = self.models[task]
    return model.shared_networks_loss(self._inputs(task, batch),
                                      {"answer": batch["answer"]})

  def _answers(self, task: int, batch):
    """`[K, B]`: every candidate's discretized program's answers."""
    return self.models[task].discrete_outputs(
        self._inputs(task, batch))["answer"]

  def choose(self, task: int, batch):
    """Picks the answering candidate of `task` and records the networks
    its discretized program's answers depend on."""
    if task not in self._choosers:
      # A partial, not a closure: one function per task, which TensorFlow
      # would count as one function retracing (per code object).
      self._choosers[task] = tf.function(
          functools.partial(self._choose, task), reduce_retracing=True)
    self._choosers[task](batch)

  def _choose(self, task: int, batch):
    right = tf.cast(self._answers(task, batch) == batch["answer"][None],
                    tf.float32)
    best = tf.argmax(tf.reduce_mean(right, axis=1), output_type=tf.int32)
    self.chosen[task].assign(best)
    # What a program reads with is a matter of its structure, not of the
    # images: a few examples show it at a fraction of the cost.
    sample = {name: value[:_READS_SAMPLE]
              for name, value in self._inputs(task, batch).items()}
    for name, reads in self.models[task].networks_read(sample).items():
      self.reads[task][name].assign(reads[best])

  def predict(self, task: int, batch):
    return tf.gather(self._answers(task, batch), self.chosen[task])

