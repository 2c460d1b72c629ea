"""What a program is adapted on: its examples, its memory size, T_max.

A `Task` is a program and the examples it is adapted on: initial memories
(`input`), the memories the program must leave (`target`) and the cells
that count (`mask`), split into `train` and `test`, with T_max, the steps
the machine may take. Three ways to make one:

- `Task.from_inputs(program, inputs)`: a user's program and the memories
  it really sees. The program, run on the discrete machine, defines the
  targets; the cells that count are those it writes on some input; T_max
  is its longest run plus a margin (`step_budget`).
- `Task.from_sampler(program, sample, ...)`: the same, with the memories
  drawn by a Python function.
- `Task.shipped(name, distribution)`: one of the paper's tasks, whose data
  (memory layout, input distributions, sampler) is
  `tf_anc_datasets.anc_distributions`, stored by the `anc_tasks` tfds
  builder; its generic program is the shipped `programs/<name>.anc` (found
  through `tf_anc.shipped`), which solves every input of every distribution
  within T_max steps. `TASKS` lists them.
"""

import dataclasses
import functools
import math
import numbers
import os
import pathlib
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from tf_anc import shipped
from tf_anc import memories as memories_module
from tf_anc import reference
from tf_anc.lang import ir
from tf_anc.lang.compiler import compile_program
from tf_anc.lang.decompiler import decompile
from tf_anc.lang.parser import is_source_text, parse
from tf_anc_datasets import anc_distributions

TRAIN, TEST = "train", "test"
SPLITS = (TRAIN, TEST)
# Without test inputs, this fraction of the recorded inputs (at least one)
# is held out as the test split, chosen by a fixed permutation.
TEST_FRACTION = 0.2
SPLIT_SEED = 0
# A user's program must halt within this many steps on each of its inputs
# (unless `max_steps` says otherwise).
HALTING_LIMIT = 10_000


@dataclasses.dataclass(frozen=True)
class ShippedTask:
  """One of the paper's tasks as the machine sees it."""
  name: str  # "access", "listk", ...
  memory_size: int  # M
  max_steps: int  # T_max
  program: str  # the generic program's file name under programs/
  distributions: Tuple[str, ...]


_MAX_STEPS = {
    # The paper's Table 1, with docs/anc-tasks.md's T_max.
    "access": 10, "increment": 50, "swap": 15, "listk": 75, "addition": 65,
    "sort": 75,
    # The supplementary tasks: the generic program's worst case. Copy
    # 6L+5 <= 41 steps, Reverse 10L+6 <= 66, ListSearch 6i+9 <= 45 (the i-th
    # node, 0-based), ShortestPath at most N = 5 passes of at most
    # 6 + 18E <= 132 steps.
    "copy": 50, "reverse": 75, "listsearch": 50, "shortest_path": 660,
}

TASKS: Dict[str, ShippedTask] = {
    name: ShippedTask(name, task_data.memory_size, _MAX_STEPS[name],
                      f"{name}.anc", task_data.distributions)
    for name, task_data in anc_distributions.TASKS.items()}


def get(task_name: str) -> ShippedTask:
  """The shipped task called `task_name`; a ValueError lists the names."""
  return TASKS[anc_distributions.get(task_name).name]


def program_path(task_or_name: Union[ShippedTask, str]) -> pathlib.Path:
  """The path of a task's generic program, a shipped `programs/<file>`."""
  task = get(task_or_name) if isinstance(task_or_name, str) else task_or_name
  return shipped.programs_dir() / task.program


def check_max_steps(max_steps) -> int:
  """`max_steps` if it is a whole number of steps, at least 1; else
  ValueError."""
  if (isinstance(max_steps, bool) or not isinstance(max_steps, numbers.Integral)
      or max_steps < 1):
    raise ValueError(f"max_steps must be a whole number of steps, at least 1, "
                     f"got {max_steps!r}")
  return int(max_steps)


def step_budget(longest_run: int) -> int:
  """T_max for a program whose longest run on its inputs is `longest_run`
  steps: a quarter more, and at least 2 more, so that the soft start (the
  program compiled at a finite sharpness, whose halting probability
  reaches eta_stop a step or two late) still finishes."""
  return longest_run + max(2, math.ceil(longest_run / 4))


Examples = Dict[str, np.ndarray]  # "input", "target", "mask": [N, M] each


class Task:
  """A program and the examples it is adapted on (module docstring).

  Attributes:
    name: what results and logs call the task.
    program: the program to adapt, an `ir.Program` of `memory_size` cells.
    program_text: its source (exported beside the compiled generic program).
    memory_size: M.
    max_steps: T_max.
    distribution: the shipped task's input distribution; None for a
      user's task.
    output_cells: the cells that count on every example; None for a
      shipped task, whose masks vary by example.
  """

  def __init__(self, name: str, program: ir.Program, program_text: str,
               max_steps: int,
               load: Callable[[str, Optional[int]], Examples],
               distribution: Optional[str] = None,
               output_cells: Optional[Tuple[int, ...]] = None):
    self.name = name
    self.program = program
    self.program_text = program_text
    self.memory_size = program.memory_size
    self.max_steps = check_max_steps(max_steps)
    self.distribution = distribution
    self.output_cells = output_cells
    self._load = load
    self._loaded = {}  # (split, num_examples) -> Examples

  def __repr__(self):
    return (f"Task({self.name!r}, memory_size={self.memory_size}, "
            f"max_steps={self.max_steps})")

  def examples(self, split: str, num_examples: Optional[int] = None
               ) -> Examples:
    """The split's examples as numpy arrays: `{"input", "target", "mask"}`,
    each `[N, M]` (at most the first `num_examples`)."""
    if split not in SPLITS:
      raise ValueError(f"unknown split {split!r}; the splits are "
                       f"{', '.join(SPLITS)}")
    key = (split, num_examples)
    if key not in self._loaded:
      self._loaded[key] = self._load(split, num_examples)
    return self._loaded[key]

  def dataset(self, split: str, num_examples: Optional[int] = None):
    """The split as a `tf.data.Dataset` of `{"input", "target", "mask"}`
    dicts of `[M]` tensors (int32, int32, bool)."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf.data.Dataset.from_tensor_slices(
        self.examples(split, num_examples))

  @classmethod
  def from_inputs(cls, program, inputs, test_inputs=None,
                  output_cells: Optional[Sequence[int]] = None,
                  max_steps: Optional[int] = None,
                  name: Optional[str] = None) -> "Task":
    """A user's program and the memories it sees.

    Args:
      program: an `ir.Program`, an `.anc` file's path, a shipped program's
        name or `.anc` source text; parsed with M = the inputs' width.
      inputs: the recorded memories, `[N, M]` (lists or an integer array)
        or a memories file (`tf_anc.memories`: `.json`, `.npy`, `.npz`).
      test_inputs: memories to test on, likewise; default: `TEST_FRACTION`
        of `inputs` (at least one), held out by a fixed permutation.
      output_cells: the cells that count; default: every cell the program
        writes on some input.
      max_steps: T_max; default `step_budget` of the program's longest run.
        The program must halt within it (or within `HALTING_LIMIT` steps)
        on every input.
      name: default: the inputs file's name, else "inputs".

    Raises:
      ValueError (`memories.MemoriesError`, `lang.AncSyntaxError`) naming
      the file, memory and cell at fault.
    """
    train_source, train = _memories(inputs, "inputs")
    width = train.shape[1]
    if test_inputs is None:
      if len(train) < 2:
        raise memories_module.MemoriesError(
            f"{train_source}: 1 memory; give at least 2 (one is held out "
            "for testing) or test inputs")
      order = np.random.default_rng(SPLIT_SEED).permutation(len(train))
      held_out = max(1, int(round(TEST_FRACTION * len(train))))
      train, test = train[np.sort(order[held_out:])], train[np.sort(
          order[:held_out])]
      test_source = train_source
    else:
      test_source, test = _memories(test_inputs, "test inputs")
      if test.shape[1] != width:
        raise memories_module.MemoriesError(
            f"{test_source}: memories of {test.shape[1]} cells, the inputs' "
            f"have {width}")
    program, text = _program(program, width)
    limit = HALTING_LIMIT if max_steps is None else check_max_steps(max_steps)
    runs = {TRAIN: _runs(program, train, limit, train_source),
            TEST: _runs(program, test, limit, test_source)}
    if output_cells is None:
      written = set()
      for execution in runs[TRAIN] + runs[TEST]:
        written |= execution.written
      if not written:
        raise ValueError(f"the program writes no cell on any of "
                         f"{train_source}'s memories: give the output "
                         "cells")
      output_cells = sorted(written)
    output_cells = _check_cells(output_cells, width)
    mask = np.zeros(width, bool)
    mask[list(output_cells)] = True
    splits = {}
    for split, split_inputs in ((TRAIN, train), (TEST, test)):
      targets = np.array([execution.memory for execution in runs[split]],
                         np.int32)
      splits[split] = {"input": split_inputs, "target": targets,
                       "mask": np.broadcast_to(mask, split_inputs.shape).copy()}
    if max_steps is None:
      longest = max(execution.steps for split in SPLITS
                    for execution in runs[split])
      max_steps = step_budget(longest)
    if name is None:
      name = (pathlib.Path(train_source).stem if train_source != "inputs"
              else "inputs")

    def load(split, num_examples):
      return {key: values[:num_examples] for key, values in
              splits[split].items()}

    return cls(name, program, text, max_steps, load,
               output_cells=output_cells)

  @classmethod
  def from_sampler(cls, program, sample: Callable[[np.random.Generator],
                                                  Sequence[int]],
                   num_train: int = 10_000, num_test: int = 1_000,
                   seed: int = 0, **kwargs) -> "Task":
    """`from_inputs` on memories drawn by `sample(rng)`, a function of a
    numpy Generator returning one memory; `num_train` and `num_test` of
    them, from a generator seeded by `seed`. `kwargs`: `from_inputs`'s."""
    rng = np.random.default_rng(seed)
    drawn = [list(sample(rng)) for _ in range(num_train + num_test)]
    return cls.from_inputs(program, drawn[:num_train],
                           test_inputs=drawn[num_train:], **kwargs)

  @classmethod
  def shipped(cls, name: str, distribution: Optional[str] = None,
              program=None, max_steps: Optional[int] = None,
              data_dir: Optional[str] = None) -> "Task":
    """One of the paper's tasks (`TASKS`), its data from the `anc_tasks`
    tfds builder, prepared offline under `data_dir`.

    Args:
      name: the task ("listk", ...).
      distribution: one of its distributions (default: its first).
      program: the program to adapt (as `from_inputs` takes it); default
        the task's generic program. Another program must compute the
        task's targets (`check_targets`).
      max_steps: T_max; default the task's.
      data_dir: where tfds keeps the prepared data.
    """
    task = get(name)
    distribution = distribution or task.distributions[0]
    if distribution not in task.distributions:
      raise ValueError(f"task {task.name} has no distribution "
                       f"{distribution!r}; choose from "
                       f"{', '.join(task.distributions)}")
    program, text = _program(program or program_path(task), task.memory_size)

    def load(split, num_examples):
      return dict(_shipped_examples(task.name, distribution, split, data_dir,
                                    num_examples))

    return cls(task.name, program, text,
               task.max_steps if max_steps is None else max_steps, load,
               distribution=distribution)


@functools.lru_cache(maxsize=16)
def _shipped_examples(name: str, distribution: str, split: str,
                      data_dir: Optional[str],
                      num_examples: Optional[int]) -> Examples:
  """A shipped task's split, read once a process: the runs of a table
  share it (tfds parses ListK's 50,000 training examples in 2 s). The
  arrays are read-only, as they are shared."""
  # Imported here: reading the task table needs no TensorFlow.
  from tf_anc.common import pipeline  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import anc_tasks  # pylint: disable=g-import-not-at-top
  loaded = pipeline.in_memory(anc_tasks.load(
      name, distribution, split, data_dir, num_examples=num_examples))
  examples = {key: value.numpy() for key, value in loaded.items()}
  for values in examples.values():
    values.flags.writeable = False
  return examples


def check_targets(task: Task, split: str = TRAIN,
                  num_examples: Optional[int] = None):
  """Does the task's program leave its targets on `split`? ValueError
  naming the first example and cell where it does not."""
  examples = task.examples(split, num_examples)
  where = f"task {task.name}" + (f" ({task.distribution})"
                                 if task.distribution else "")
  for row, (memory, target, mask) in enumerate(zip(
      examples["input"], examples["target"], examples["mask"])):
    execution = reference.run(task.program, memory, task.max_steps)
    if not execution.halted:
      raise ValueError(
          f"{task.program.filename}: does not halt within T_max = "
          f"{task.max_steps} steps on {where}'s {split} example {row}")
    for cell in np.flatnonzero(mask):
      if execution.memory[cell] != target[cell]:
        raise ValueError(
            f"{task.program.filename}: does not compute {where}'s targets: "
            f"on {split} example {row} it leaves cell {cell} = "
            f"{execution.memory[cell]}, the task's target is {target[cell]}")


def _memories(memories, what: str):
  """(where they came from, `[N, M]` int32) of a file or an array."""
  if isinstance(memories, (str, os.PathLike)):
    return os.fspath(memories), memories_module.read(memories)
  return what, memories_module.check(memories, what)


def _program(program, memory_size: int):
  """(the `ir.Program` of M = `memory_size`, its source text)."""
  if isinstance(program, ir.Program):
    if program.memory_size != memory_size:
      raise ValueError(f"the program is compiled for M = "
                       f"{program.memory_size}, the memories have "
                       f"{memory_size} cells")
    return program, decompile(compile_program(program)).text
  return parse(program, memory_size), _source_text(program)


def _source_text(program) -> str:
  if is_source_text(program):
    return program
  with open(shipped.program_path(program), encoding="utf-8") as f:
    return f.read()


def _runs(program, inputs, limit, source):
  runs = []
  for row, memory in enumerate(inputs):
    execution = reference.run(program, memory, limit)
    if not execution.halted:
      raise memories_module.MemoriesError(
          f"{source}: memory {row}: the program does not halt within "
          f"{limit} steps")
    runs.append(execution)
  return runs


def _check_cells(cells, width) -> Tuple[int, ...]:
  cells = tuple(int(cell) for cell in cells)
  if not cells:
    raise ValueError("output cells: none given")
  for cell in cells:
    if not 0 <= cell < width:
      raise ValueError(f"output cell {cell} is outside the memory's cells "
                       f"[0, {width})")
  if len(set(cells)) != len(cells):
    raise ValueError(f"output cells {list(cells)}: a cell is named twice")
  return tuple(sorted(cells))
