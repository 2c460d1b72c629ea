"""What the tools that run machines share: their input flags and JSON output.

`MemoryFlags` defines `--input` xor `--inputs_file` for the calling tool;
`result` is one run's JSON object.
"""

import json

from absl import flags

from tf_anc import memories as memories_module
from tf_anc.common.cli import UsageError

# The flags defined here belong to the calling tool, so its `--helpshort`
# lists them.
flags.disclaim_key_flags()


def parse_memory(values, memory_size: int, what: str):
  """A list of cell values -> a memory of `memory_size` cells, zero-padded."""
  if not isinstance(values, list):
    raise UsageError(f"{what} must be a list of integers")
  if len(values) > memory_size:
    raise UsageError(f"{what} has {len(values)} cells, more than M = "
                     f"{memory_size}")
  for cell, value in enumerate(values):
    if isinstance(value, bool) or not isinstance(value, int):
      raise UsageError(f"{what}: cell {cell} is {value!r}, not an integer")
    if not 0 <= value < memory_size:
      raise UsageError(f"{what}: cell {cell} holds {value}, outside "
                       f"[0, {memory_size})")
  return values + [0] * (memory_size - len(values))


class MemoryFlags:
  """`--input` xor `--inputs_file`: the initial memories a tool runs.

  Constructing it defines both flags (one required) for the calling tool.
  """

  def __init__(self):
    self._input = flags.DEFINE_list(
        "input", None, "Initial memory, comma-separated (zero-padded).")
    self._inputs_file = flags.DEFINE_string(
        "inputs_file", None, "A JSON list of initial memories, run as a batch.")
    flags.mark_flags_as_mutual_exclusive(["input", "inputs_file"],
                                         required=True)

  def read(self, memory_size: int):
    """The memories asked for, each a list of `memory_size` cell values."""
    if self._input.value is not None:
      try:
        values = [int(value) for value in self._input.value]
      except ValueError:
        raise UsageError(f"--input must be comma-separated integers, got "
                         f"{','.join(self._input.value)!r}") from None
      return [parse_memory(values, memory_size, "--input")]
    path = self._inputs_file.value
    try:
      memories = memories_module.read_json(path)
    except memories_module.MemoriesError as error:
      raise UsageError(str(error)) from None
    if not isinstance(memories, list) or not memories:
      raise UsageError(f"{path}: expected a non-empty JSON list of memories")
    return [parse_memory(memory, memory_size, f"{path}: memory {index}")
            for index, memory in enumerate(memories)]

  def print_results(self, results):
    """Prints the one result for `--input`, the list for `--inputs_file`."""
    print(json.dumps(results[0] if self._input.value is not None
                     else results))


def result(memory, steps, halted):
  """One run's JSON object: `{"memory": [...], "steps": n, "halted": b}`."""
  return {"memory": [int(cell) for cell in memory], "steps": int(steps),
          "halted": bool(halted)}
