"""What a MATH run is: variant, library, restarts, schedule, outputs.

A plain dataclass, so the command line reads the defaults without loading
TensorFlow.
"""

import dataclasses
from typing import Optional

from ntpt_keras.config import shipped_file
from tf_anc.common import finite
from tf_anc.common import optimizers

VARIANTS = ("perceptual", "symbols")
# Independent restarts, or a population across them (tf_anc.common.population).
SEARCHES = ("independent", "population")
MODEL_FILE = "ntpt_keras/models/math.py"
# Tapes of this many digits train the program (the paper's 2).
TRAIN_DIGITS = 2


@dataclasses.dataclass(frozen=True)
class MathConfig:
  """One MATH run (see `python -m tf_anc.train --math --helpfull`)."""
  model_dir: str = "runs/ntpt/math"
  # "perceptual": tapes of images read by the library's net_0 and net_1;
  # "symbols": tapes of symbols (the paper's non-perceptual variant).
  variant: str = "perceptual"
  # The neural library the networks start from (perceptual only): the one
  # the lifelong experiment writes.
  library_dir: Optional[str] = "runs/ntpt/lifelong_by_kind/library"
  restarts: int = 100
  train_steps: int = 2000
  batch_size: int = 10
  optimizer: str = "adam"
  learning_rate: float = 0.1  # the program params'
  # The networks learn this many times slower than the params (paper).
  perceptual_slowdown: float = 100.0
  param_init_stddev: float = 1.0
  # Each step trains on a Gumbel-softmax sample of every restart's params at
  # this temperature (NeuralProgram.param_probabilities) rather than on
  # their softmax: a restart cannot settle on a mixture of programs that
  # explains the tapes while its discretized program answers them wrong.
  # None: the softmax (the forward marginals).
  gumbel_temperature: Optional[float] = None
  # After every step the param logits are clipped to [-bound, bound]: a
  # choice never becomes so unlikely that its gradient underflows, so a
  # restart that settles on a near miss (one goto off) can still move.
  # None: unbounded.
  logit_bound: Optional[float] = None
  data_dir: Optional[str] = None
  train_examples: Optional[int] = None  # default: the split's 1,000
  test_examples: Optional[int] = None  # per length; default: 1,000
  max_digits: int = 16  # tested on 1 ... max_digits digits
  validation_examples: int = 200
  # A restart has converged once its discretized program answers this share
  # of the validation tapes: a jump from the few a wrong program gets right.
  convergence_accuracy: float = 0.75
  eval_every: int = 100  # steps between validation measurements
  # "population": every population_interval steps the weakest
  # population_fraction of the restarts (scored on the first
  # population_examples training tapes) copy a strongest one's params and
  # optimizer state, plus noise population_noise on the copied logits, and
  # each of the copy's choices is drawn afresh with probability
  # population_mutation.
  search: str = "independent"
  population_interval: int = 100
  population_fraction: float = 0.25
  population_noise: float = 0.5
  population_mutation: float = 0.1
  population_examples: int = 100
  seed: int = 0
  checkpoint_every: int = 200
  log_every: int = 100
  jit_compile: bool = True
  model_file: str = MODEL_FILE

  @property
  def perceptual(self) -> bool:
    return self.variant == "perceptual"

  @property
  def dataset(self) -> str:
    return f"math_tapes/{self.variant}"


def resolve(config: MathConfig) -> MathConfig:
  """Checks a config; raises ValueError with a one-line message."""
  finite.check_config(config)
  if config.variant not in VARIANTS:
    raise ValueError(f"unknown variant {config.variant!r}; choose from "
                     f"{', '.join(VARIANTS)}")
  optimizers.check_name(config.optimizer)
  if config.search not in SEARCHES:
    raise ValueError(f"unknown search {config.search!r}; choose from "
                     f"{', '.join(SEARCHES)}")
  if not 0 <= config.population_fraction <= 0.5:
    raise ValueError("population_fraction must be in [0, 0.5]")
  if not 0 <= config.population_mutation <= 1:
    raise ValueError("population_mutation must be in [0, 1]")
  for field in ("restarts", "train_steps", "batch_size", "max_digits",
                "validation_examples", "eval_every", "checkpoint_every",
                "log_every", "population_interval", "population_examples"):
    if getattr(config, field) < 1:
      raise ValueError(f"{field} must be positive")
  if not 0 < config.convergence_accuracy <= 1:
    raise ValueError("convergence_accuracy must be in (0, 1]")
  if config.gumbel_temperature is not None and config.gumbel_temperature <= 0:
    raise ValueError("gumbel_temperature must be positive")
  if config.logit_bound is not None and config.logit_bound <= 0:
    raise ValueError("logit_bound must be positive")
  if config.perceptual_slowdown <= 0:
    raise ValueError("perceptual_slowdown must be positive")
  return dataclasses.replace(config, model_file=shipped_file(
      config.model_file))
