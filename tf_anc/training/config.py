"""What a training run is: the task, the program, the loss and the schedule.

The defaults are the main job's (`python -m tf_anc.train` with no flags):
biased ListK with our tuned hyper-parameters (`configs/anc/tuned/listk.flags`)
and 8 restarts. Plain dataclasses, so that the command line can read the
defaults without loading TensorFlow.
"""

import dataclasses
from typing import Optional, Tuple


# The choices of TrainingConfig's named switches.
PADDINGS = ("stop", "random")
PRIORS = ("none", "infinity", "softmax")
BATCH_LOSSES = ("mean", "sum")
SEARCHES = ("independent", "population")


# Where a user's task (an inputs file) has other defaults than the shipped
# ListK's, measured on programs and inputs of a user's kind
# (docs/examples.md, configs/anc/experiments/user_defaults.flags): the
# softest sharpness at which the compiled program is right, and the program
# search after training.
USER_TASK_DEFAULTS = {"sharpness": None, "program_search_steps": 3000}


@dataclasses.dataclass(frozen=True)
class LossWeights:
  """The weights of the four loss terms (docs/anc-machine.md, "The loss")."""
  correctness: float = 1.0  # alpha
  confidence: float = 0.0  # beta
  efficiency: float = 0.0  # gamma
  halting: float = 0.0  # delta


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
  # A shipped task (tf_anc.tasks.TASKS); None with an inputs file.
  task: Optional[str] = "listk"
  model_dir: str = "runs/anc"
  # A user's task (tf_anc.tasks.Task.from_inputs): `program` on the
  # memories in this file (.json, .npy, .npz), its targets the program's
  # own; test_inputs_file, or else a fifth of them held out, to test on;
  # the cells that count (default: those the program writes).
  inputs_file: Optional[str] = None
  test_inputs_file: Optional[str] = None
  output_cells: Optional[Tuple[int, ...]] = None
  # One of the task's distributions (tf_anc_datasets.anc_distributions);
  # named here so that reading the defaults loads no TensorFlow.
  distribution: str = "biased"
  program: Optional[str] = None  # default: the task's generic program
  memory_size: Optional[int] = None  # default: the task's M
  max_steps: Optional[int] = None  # default: the task's T_max
  eta_stop: float = 0.9
  # The compiled logits' scale (a soft start); None: the softest at which
  # the compiled program is right on the train inputs
  # (initialization.soft_start_sharpness), the default with an inputs file.
  sharpness: Optional[float] = 5.0
  loss_weights: LossWeights = LossWeights(
      correctness=10.0, confidence=10.0, efficiency=0.5, halting=20.0)
  optimizer: str = "adam"
  learning_rate: float = 0.1
  batch_size: int = 5
  train_steps: int = 2000
  restarts: int = 8
  seed: int = 0
  init_noise: float = 0.1  # std of Gaussian noise added to compiled logits
  # The rows past the program's end: "stop" (the compiled program's, so a
  # program that runs off its end halts) or "random" (the authors' code:
  # Torch's nn.Linear initialisation, U(-1/sqrt(M), 1/sqrt(M)), near flat).
  padding: str = "stop"
  # A pull towards the compiled program (the authors' optim/ priors):
  # "infinity" pushes each compiled choice's logit up and the others down,
  # "softmax" is the squared distance of each row's softmax to the compiled
  # one-hot; weighted prior_weight / (1 + prior_annealing * step).
  prior: str = "none"
  prior_weight: float = 0.0
  prior_annealing: float = 1.0
  # How a restart's examples make its loss: "mean" or "sum" (the authors
  # accumulate every example's gradient).
  batch_loss: str = "mean"
  adam_epsilon: float = 1e-7  # Keras' default; the authors' Adam uses 1e-8
  # "exact", or "authors": their backward through the halting update
  # (tf_anc.machine.step.HALTING_GRADIENTS).
  halting_gradient: str = "exact"
  train_examples: Optional[int] = None  # the train split's size (10,000)
  # "independent" restarts, or a "population": every population_interval
  # steps the weakest population_fraction of the restarts (on
  # population_examples fixed train examples: accuracy, then mean steps,
  # then loss) take copies of the strongest ones' logits, optimizer state
  # and hyper-parameters, then perturb them (population_noise on the logits,
  # the learning rate and efficiency weight times 0.8 or 1.25).
  search: str = "independent"
  # Train each step on a Gumbel-softmax sample of every restart's program
  # at this temperature (tf_anc.common.gumbel), drawn from (seed, step),
  # rather than on the program's softmax: None, the softmax.
  gumbel_temperature: Optional[float] = None
  population_interval: int = 100
  population_fraction: float = 0.25
  population_noise: float = 0.5
  population_examples: int = 50
  # After training, each restart's argmax program is improved by this many
  # steps of simulated annealing on the discrete machine
  # (tf_anc.training.program_search), over up to program_search_examples
  # distinct train inputs; 0: no program search.
  program_search_steps: int = 0
  program_search_examples: int = 100
  checkpoint_every: int = 100
  log_every: int = 100
  test_examples: int = 1000
  data_dir: Optional[str] = None
  export_all_restarts: bool = False
  # XLA-compile the training step. The fused machine op has no XLA kernel,
  # so an XLA-compiled step runs the plain-TF machine; None: XLA only when
  # that runs anyway (TF_ANC_STEP=tf or no op library), else the fused op in
  # graph mode, the fastest path measured on CPU (trainer.resolve decides).
  jit_compile: Optional[bool] = None
