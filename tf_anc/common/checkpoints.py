"""Resuming a killed run: what every trainer does with its checkpoints."""

import tensorflow as tf

from tf_anc.common.cli import UsageError


class RestoreError(UsageError):
  """The latest checkpoint does not fit the run restoring it."""


def restore_latest(manager: tf.train.CheckpointManager,
                   checkpoint: tf.train.Checkpoint, step: tf.Variable,
                   log=print) -> int:
  """Restores the latest checkpoint, if any; returns the step reached.

  Raises:
    RestoreError: the checkpoint is unreadable or holds other variables
      (another model, another number of restarts...); says which in a line.
  """
  latest = manager.latest_checkpoint
  if latest:
    try:
      checkpoint.restore(latest).assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
      why = (str(error).strip().splitlines() or [type(error).__name__])[0]
      # The failed restore leaves values pending, which TF lists as
      # warnings when it deletes them at exit: the line below says it all.
      tf.get_logger().setLevel("ERROR")
      raise RestoreError(
          f"cannot resume from {latest}: {why} (a checkpoint of another "
          "run? give a new --model_dir)") from None
    log(f"resumed from {latest} at step {int(step.numpy())}")
  return int(step.numpy())
