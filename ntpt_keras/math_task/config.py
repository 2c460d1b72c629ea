"""What a MATH run is: variant, library, restarts, schedule, outputs.

A plain dataclass, so the command line reads the defaults without loading
TensorFlow; each field but the model file is also a flag
(tf_anc.common.config_flags).
"""

import dataclasses
from typing import Optional

from ntpt_keras.config import shipped_file
from tf_anc.common import config_flags
from tf_anc.common.config_flags import setting

VARIANTS = ("perceptual", "symbols")
MODEL_FILE = "ntpt_keras/models/math.py"
# Tapes of this many digits train the program (the paper's 2).
TRAIN_DIGITS = 2


@dataclasses.dataclass(frozen=True)
class MathConfig:
  """One MATH run (see `python -m tf_anc.train --math --helpfull`)."""
  model_dir: str = setting("runs/ntpt/math")
  variant: str = setting(
      "perceptual", "perceptual: tapes of images read by the library's "
      "net_0 and net_1; symbols: tapes of symbols (the paper's "
      "non-perceptual variant).", choices=VARIANTS, flag="math_variant")
  # The one the lifelong experiment writes; "" or None: fresh networks.
  library_dir: Optional[str] = setting(
      "runs/ntpt/lifelong_by_kind/library", "The neural library net_0 and "
      "net_1 start from (perceptual; written by the lifelong experiment).")
  restarts: int = setting(100)
  train_steps: int = setting(2000)
  batch_size: int = setting(10)
  optimizer: str = setting("adam")
  learning_rate: float = setting(
      0.1, "Learning rate of the program params.")
  # Paper: the networks learn slower than the params.
  perceptual_slowdown: float = setting(
      100.0, "The networks learn this many times slower than the params.",
      above=0.0)
  param_init_stddev: float = setting(1.0)
  # NeuralProgram.param_probabilities: a restart cannot settle on a mixture
  # of programs that explains the tapes while its discretized program
  # answers them wrong.
  gumbel_temperature: Optional[float] = setting(
      None, "Train each step on a Gumbel-softmax sample of every restart's "
      "params at this temperature rather than on their softmax (default: "
      "the softmax).", above=0.0)
  # A restart that settles on a near miss (one goto off) can still move.
  logit_bound: Optional[float] = setting(
      None, "Clip the param logits to [-bound, bound] after every step, so "
      "that no choice's gradient underflows (default: unbounded).",
      above=0.0)
  data_dir: Optional[str] = setting(None)
  train_examples: Optional[int] = setting(
      None, "2-digit training tapes (default: all 1,000).")
  test_examples: Optional[int] = setting(
      None, "Test tapes per length (default: all 1,000).")
  max_digits: int = setting(
      16, "Test on tapes of 1 ... this many digits.", lower=1)
  validation_examples: int = setting(
      200, "Validation tapes for detecting convergence.", lower=1)
  # A jump from the few a wrong program gets right.
  convergence_accuracy: float = setting(
      0.75, "A restart has converged once its program answers this share "
      "of the validation tapes.", above=0.0, upper=1.0)
  eval_every: int = setting(
      100, "Training steps between validation measurements (and "
      "TensorBoard heatmaps of the first --imaged_restarts restarts' "
      "params).", lower=1)
  imaged_restarts: int = setting(
      4, "Restarts whose params are drawn at each validation measurement: "
      "the first this many (0: none).", lower=0)
  # tf_anc.common.population.
  population: bool = setting(
      False, "Train the restarts as a population: every "
      "--population_interval steps the weakest --population_fraction of the "
      "restarts copy a strongest one's params and optimizer state (scored "
      "on --population_examples training tapes), plus noise "
      "--population_noise on the logits, and each of the copy's choices is "
      "drawn afresh with probability --population_mutation.")
  population_interval: int = setting(
      100, "Steps between population moves.", lower=1)
  population_fraction: float = setting(
      0.25, "Share of the restarts replaced at each move.", lower=0.0,
      upper=0.5)
  population_noise: float = setting(
      0.5, "Std of the noise on copied logits.", lower=0.0)
  population_mutation: float = setting(
      0.1, "Probability that each choice of a copy is drawn afresh.",
      lower=0.0, upper=1.0)
  population_examples: int = setting(
      100, "Training tapes that score the restarts.", lower=1)
  seed: int = setting(0)
  checkpoint_every: int = setting(200)
  log_every: int = setting(100)
  jit_compile: bool = setting(True)
  model_file: str = MODEL_FILE

  @property
  def perceptual(self) -> bool:
    return self.variant == "perceptual"

  @property
  def dataset(self) -> str:
    return f"math_tapes/{self.variant}"


def resolve(config: MathConfig) -> MathConfig:
  """Checks a config; raises ValueError with a one-line message."""
  config_flags.check(config)
  return dataclasses.replace(config, library_dir=config.library_dir or None,
                             model_file=shipped_file(config.model_file))
