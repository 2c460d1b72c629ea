"""The ANC tasks as the machine sees them: memory size, step budget, program.

A task's data (memory layout, input distributions, sampler) is
`tf_anc_datasets.anc_distributions`, stored by the `anc_tasks` builder; this
adds what running the machine on it takes: T_max, the steps the machine
may take, and the generic program, the shipped `programs/<task.program>`
(found through `tf_anc.data`), which solves every input of every
distribution within T_max steps.
"""

import dataclasses
import pathlib
from typing import Dict, Tuple, Union

from tf_anc import data
from tf_anc_datasets import anc_distributions


@dataclasses.dataclass(frozen=True)
class Task:
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

TASKS: Dict[str, Task] = {
    name: Task(name, task_data.memory_size, _MAX_STEPS[name], f"{name}.anc",
               task_data.distributions)
    for name, task_data in anc_distributions.TASKS.items()}


def get(task_name: str) -> Task:
  """The task called `task_name`; a ValueError lists the valid names."""
  return TASKS[anc_distributions.get(task_name).name]


def program_path(task_or_name: Union[Task, str]) -> pathlib.Path:
  """The path of a task's generic program, a shipped `programs/<file>`."""
  task = get(task_or_name) if isinstance(task_or_name, str) else task_or_name
  return data.programs_dir() / task.program
