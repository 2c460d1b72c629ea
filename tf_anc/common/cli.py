"""What every command-line tool shares: flag parsing and clean exits.

A bad flag, a missing file or a malformed program ends with one line on
stderr and exit status 2, never a traceback.
"""

import logging as std_logging
import math
import os
import sys

# TensorFlow's C++ logs (oneDNN and CUDA notices, "All log messages before
# absl::InitializeLog() ...") are hidden, so that the tools' own output
# stays readable, unless asked for: by a TF_CPP_MIN_LOG_LEVEL of the
# user's own, or by -v/--verbosity 1 or more (`_parse_flags`; no tool
# imports TensorFlow before its flags are parsed).
TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
_USER_SET_TF_LOG_LEVEL = TF_LOG_LEVEL in os.environ
os.environ.setdefault(TF_LOG_LEVEL, "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

from tf_anc.common.errors import SourceError

EXIT_USAGE = 2


class UsageError(Exception):
  """A problem with what the user asked for; its message is the whole story."""


def fail(message: str):
  program = os.path.basename(sys.argv[0]) if sys.argv else "tf_anc"
  print(f"{program}: error: {message}", file=sys.stderr)
  sys.exit(EXIT_USAGE)


def _parse_flags(argv):
  try:
    arguments = flags.FLAGS(argv)
  except flags.Error as error:
    fail(str(error))
  for name in flags.FLAGS:
    flag = flags.FLAGS[name]
    # absl's float flags take "nan" and "inf", bounds or not.
    if (isinstance(flag.parser, flags.FloatParser) and flag.value is not None
        and not math.isfinite(flag.value)):
      fail(f"--{name}={flag.value}: not a finite number")
  if flags.FLAGS.verbosity >= 1 and not _USER_SET_TF_LOG_LEVEL:
    os.environ[TF_LOG_LEVEL] = "0"  # every line TensorFlow logs
  return arguments


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

  TF 2.21 writes oneDNN and CUDA notices to stderr while loading, whatever
  TF_CPP_MIN_LOG_LEVEL says, and a CUDA error line when it first looks for
  devices; a tool that loads TensorFlow before it can report a usage error
  would otherwise print more than one line. Only the import and that first
  look are silenced (Python errors still reach stderr), and nothing is
  where TF_CPP_MIN_LOG_LEVEL is 0 (the user's, or `-v 1`'s).
  """
  if os.environ.get(TF_LOG_LEVEL) == "0":
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    return tf
  sys.stderr.flush()
  saved_stderr = os.dup(2)
  try:
    with open(os.devnull, "w") as devnull:
      os.dup2(devnull.fileno(), 2)
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      tf.config.list_physical_devices()
  finally:
    os.dup2(saved_stderr, 2)
    os.close(saved_stderr)
  return tf


def import_tensorflow_and_tfds():
  """TensorFlow and tfds for a trainer, once its flags are checked.

  TensorFlow takes seconds to import and flag errors need none of it. tfds
  logs every step of preparing a data set at INFO, and notices at WARNING;
  those lines are kept off the console unless the user asked for them with
  `-v`/`--verbosity`.
  """
  import_tensorflow()
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  tfds.disable_progress_bar()
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)
    logging.get_absl_handler().addFilter(hide_tfds_notices)


def hide_tfds_notices(record: std_logging.LogRecord) -> bool:
  """Whether a log record reaches the console: not tfds's warnings, such
  as the "Using custom data configuration" every load of a task's builder
  config logs; its errors do."""
  return (record.levelno >= std_logging.ERROR or
          f"{os.sep}tensorflow_datasets{os.sep}" not in record.pathname)
