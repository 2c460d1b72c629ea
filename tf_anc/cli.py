"""What every `python -m tf_anc.<tool>` shares: flag parsing and clean exits.

A bad flag, a missing file or a malformed program ends with one line on
stderr and exit status 2, never a traceback.
"""

import os
import sys

# Before TensorFlow is imported by the tool: keep its C++ logs off stdout's
# neighbour so the tools' own output stays readable.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from tf_anc.lang.errors import AncSyntaxError

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
    except (UsageError, AncSyntaxError) as error:
      fail(str(error))
    except OSError as error:  # a missing or unreadable file
      fail(f"{error.strerror}: {error.filename}" if error.filename
           else str(error))

  app.run(guarded_main, flags_parser=_parse_flags)


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
