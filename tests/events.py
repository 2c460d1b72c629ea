"""What a run wrote for TensorBoard, read back from its event files."""

import os

import tensorflow as tf


def summaries_of(log_dir):
  """{tag: [(step, its Summary.Value), ...]} of the event files in
  `log_dir` (one run's), in the order they were written."""
  found = {}
  for name in sorted(os.listdir(log_dir)):
    if name.startswith("events.out.tfevents"):
      for event in tf.compat.v1.train.summary_iterator(
          os.path.join(log_dir, name)):
        for value in event.summary.value:
          found.setdefault(value.tag, []).append((event.step, value))
  return found
