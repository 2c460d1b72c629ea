"""What every `python -m tf_anc.<tool>` shares: flag parsing and clean exits.

A bad flag, a missing file or a malformed program ends with one line on
stderr and exit status 2, never a traceback. The tools that run machines
also share their input flags and their JSON output (`MemoryFlags`,
`result`).
"""

import json
import os
import sys

# Before TensorFlow is imported by the tool: keep its C++ logs off stdout's
# neighbour so the tools' own output stays readable.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from tf_anc.lang.errors import SourceError

# The flags defined here (`MemoryFlags`) belong to the calling tool,
# so its `--helpshort` lists them.
flags.disclaim_key_flags()

EXIT_USAGE = 2


class UsageError(Exception):
  """A problem with what the user asked for; its message is the whole story."""


def fail(message: str):
  program = os.path.basename(sys.argv[0]) if sys.argv else "tf_anc"
  print(f"{program}: error: {message}", file=sys.stderr)
  sys.exit(EXIT_USAGE)


def _parse_flags(argv):
  try:
    return flags.FLAGS(argv)
  except flags.Error as error:
    fail(str(error))


def run(main):
  """`app.run(main)`, with user errors turned into one-line messages."""

  def guarded_main(argv):
    try:
      main(argv)
    except (UsageError, SourceError) as error:
      fail(str(error))
    except OSError as error:  # a missing or unreadable file
      fail(f"{error.strerror}: {error.filename}" if error.filename
           else str(error))

  app.run(guarded_main, flags_parser=_parse_flags)


def import_tensorflow():
  """`import tensorflow`, without the notices its C++ libraries print.

  TF 2.21 writes oneDNN notices to stderr while loading, whatever
  TF_CPP_MIN_LOG_LEVEL says; a tool that loads TensorFlow before it can
  report a usage error would otherwise print more than one line. Only the
  import is silenced: Python errors still reach stderr.
  """
  sys.stderr.flush()
  saved_stderr = os.dup(2)
  try:
    with open(os.devnull, "w") as devnull:
      os.dup2(devnull.fileno(), 2)
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
  finally:
    os.dup2(saved_stderr, 2)
    os.close(saved_stderr)
  return tf


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
    with open(path) as f:
      try:
        memories = json.load(f)
      except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not JSON: {error}") from None
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
