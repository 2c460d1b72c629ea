"""What a training run is: the task, the program, the loss and the schedule.

The defaults are the main job's (`python -m tf_anc.train` with no flags):
biased ListK with our tuned hyper-parameters (`configs/anc/tuned/listk.flags`)
and 8 restarts. Plain dataclasses, so that the command line can read the
defaults without loading TensorFlow.
"""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class LossWeights:
  """The weights of the four loss terms (docs/anc-machine.md, "The loss")."""
  correctness: float = 1.0  # alpha
  confidence: float = 0.0  # beta
  efficiency: float = 0.0  # gamma
  halting: float = 0.0  # delta


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
  task: str = "listk"
  model_dir: str = "runs/anc"
  # One of the task's distributions (tf_anc_datasets.anc_distributions);
  # named here so that reading the defaults loads no TensorFlow.
  distribution: str = "biased"
  program: Optional[str] = None  # default: the task's generic program
  memory_size: Optional[int] = None  # default: the task's M
  max_steps: Optional[int] = None  # default: the task's T_max
  eta_stop: float = 0.9
  sharpness: float = 5.0
  loss_weights: LossWeights = LossWeights(
      correctness=10.0, confidence=10.0, efficiency=0.5, halting=20.0)
  optimizer: str = "adam"
  learning_rate: float = 0.1
  batch_size: int = 5
  train_steps: int = 2000
  restarts: int = 8
  seed: int = 0
  init_noise: float = 0.1  # std of Gaussian noise added to compiled logits
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
