"""Resuming a killed run: what every trainer does with its checkpoints."""

import json
import os

import tensorflow as tf

from tf_anc.common.cli import UsageError

# Beside a run's checkpoints: the settings they were trained under.
SETTINGS_FILE = "settings.json"
# Settings a resumed run may change: where it writes and reads, how often
# it logs, summarizes and checkpoints, what it draws, how it compiles, how long it trains and how much
# it evaluates.
RESUMABLE = ("model_dir", "data_dir", "log_every", "summary_every",
             "imaged_restarts", "checkpoint_every", "jit_compile",
             "train_steps", "test_examples")


class RestoreError(UsageError):
  """The latest checkpoint does not fit the run restoring it."""


def manager(checkpoint: tf.train.Checkpoint, directory: str,
            max_to_keep: int = 3) -> tf.train.CheckpointManager:
  """A `tf.train.CheckpointManager` of `directory`; RestoreError, before
  anything is written, if its state file (`checkpoint`) cannot be read:
  TensorFlow would ignore it with a warning and start the run afresh,
  overwriting the checkpoints it names."""
  state_file = os.path.join(directory, "checkpoint")
  if os.path.exists(state_file):
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # its own warning: the error below says it
    try:
      state = tf.train.get_checkpoint_state(directory)
    except (ValueError, tf.errors.OpError):
      state = None
    finally:
      logger.setLevel(level)
    if state is None or not state.model_checkpoint_path:
      raise RestoreError(
          f"{state_file}: not a checkpoint state file; the checkpoints "
          "beside it are left as they are: repair or remove it, or give a "
          "new --model_dir")
  return tf.train.CheckpointManager(checkpoint, directory,
                                    max_to_keep=max_to_keep)


def restore_latest(manager: tf.train.CheckpointManager,
                   checkpoint: tf.train.Checkpoint, step: tf.Variable,
                   log=print, settings=None, resumable=RESUMABLE) -> int:
  """Restores the latest checkpoint, if any; returns the step reached.

  `settings` (a JSON-able dict), when given, are the run's: recorded in
  `SETTINGS_FILE` beside the checkpoints when there are none yet (or none
  were recorded, by an earlier version), else compared with the recorded
  ones, which may differ only in `resumable`.

  Raises:
    RestoreError: the checkpoint is unreadable or holds other variables
      (another model, another number of restarts...), or was trained under
      other settings; says which in a line, and changes nothing.
  """
  latest = manager.latest_checkpoint
  if settings is not None:
    _check_settings(manager.directory, latest, settings, resumable)
  if latest:
    try:
      checkpoint.restore(latest).assert_existing_objects_matched()
    # IndexError: a truncated .data file ("Read less bytes than requested").
    except (AssertionError, ValueError, IndexError,
            tf.errors.OpError) as error:
      raise _unreadable(latest, error) from None
    log(f"resumed from {latest} at step {int(step.numpy())}")
  return int(step.numpy())


def holds(checkpoint_path, key: str) -> bool:
  """Does the checkpoint hold the tensor `key`? RestoreError if it cannot
  be read."""
  try:
    return tf.train.load_checkpoint(checkpoint_path).has_tensor(key)
  except (ValueError, IndexError, tf.errors.OpError) as error:
    raise _unreadable(checkpoint_path, error) from None


def _unreadable(latest, error) -> RestoreError:
  why = (str(error).strip().splitlines() or [type(error).__name__])[0]
  # A failed restore leaves values pending, which TF lists as warnings when
  # it deletes them at exit: the error's line says it all.
  tf.get_logger().setLevel("ERROR")
  return RestoreError(f"cannot resume from {latest}: {why} (damaged, or a "
                      "checkpoint of another run? give a new --model_dir)")


def _check_settings(directory, latest, settings, resumable):
  path = os.path.join(directory, SETTINGS_FILE)
  settings = json.loads(json.dumps(settings))
  if latest and os.path.exists(path):
    try:
      with open(path, encoding="utf-8") as f:
        recorded = json.load(f)
      if not isinstance(recorded, dict):
        raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as error:
      raise RestoreError(f"{path}: unreadable ({error}); the checkpoints "
                         "beside it cannot be checked: give a new "
                         "--model_dir") from None
    changed = sorted(name for name in set(recorded) | set(settings)
                     if name not in resumable and
                     recorded.get(name) != settings.get(name))
    if changed:
      raise RestoreError(
          f"cannot resume from {latest}: trained with other settings (" +
          ", ".join(f"{name} {recorded.get(name)!r} there, "
                    f"{settings.get(name)!r} now" for name in changed) +
          "); give a new --model_dir, or the same settings (only "
          f"{', '.join(resumable)} may change)")
    return
  os.makedirs(directory, exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    json.dump(settings, f, indent=1)
