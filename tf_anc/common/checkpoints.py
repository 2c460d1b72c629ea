"""Resuming a killed run: what every trainer does with its checkpoints."""

import tensorflow as tf


def restore_latest(manager: tf.train.CheckpointManager,
                   checkpoint: tf.train.Checkpoint, step: tf.Variable,
                   log=print) -> int:
  """Restores the latest checkpoint, if any; returns the step reached."""
  latest = manager.latest_checkpoint
  if latest:
    checkpoint.restore(latest).assert_existing_objects_matched()
    log(f"resumed from {latest} at step {int(step.numpy())}")
  return int(step.numpy())
