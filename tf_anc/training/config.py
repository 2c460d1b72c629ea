"""What a training run is: the task, the program, the loss and the schedule.

The defaults are the main job's (`python -m tf_anc.train` with no flags):
biased ListK with our tuned hyper-parameters (`configs/anc/tuned/listk.flags`)
and 8 restarts. Plain dataclasses, so that the command line can read the
defaults without loading TensorFlow. Each field is also a flag of
`python -m tf_anc.train` (tf_anc.common.config_flags): its help is here.
"""

import dataclasses
from typing import Optional, Tuple

from tf_anc.common.config_flags import setting


# The choices of TrainingConfig's named switches.
PADDINGS = ("stop", "random")
PRIORS = ("none", "infinity", "softmax")
BATCH_LOSSES = ("mean", "sum")
# How a run adapts its program (docs/training.md, "Methods").
METHODS = ("gradient", "search", "both", "guided")


# Where a user's task (an inputs file) has other defaults than the shipped
# ListK's, measured on programs and inputs of a user's kind
# (docs/examples.md, configs/anc/experiments/user_defaults.flags): the
# softest sharpness at which the compiled program is right, and training
# followed by the guided program search.
USER_TASK_DEFAULTS = {"sharpness": None, "method": "guided",
                      "program_search_steps": 100000}


@dataclasses.dataclass(frozen=True)
class LossWeights:
  """The weights of the four loss terms (docs/anc-machine.md, "The loss")."""
  correctness: float = setting(1.0, "Weight of the correctness term.",
                               flag="alpha")
  confidence: float = setting(0.0, "Weight of the confidence term.",
                              flag="beta")
  efficiency: float = setting(0.0, "Weight of the efficiency term.",
                              flag="gamma")
  halting: float = setting(0.0, "Weight of the halting term.", flag="delta")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
  """One ANC training run (`python -m tf_anc.train --helpfull`)."""
  task: Optional[str] = setting(
      "listk", "A shipped task's name (docs/anc-tasks.md).")
  model_dir: str = setting("runs/anc")
  # A user's task (tf_anc.tasks.Task.from_inputs).
  inputs_file: Optional[str] = setting(
      None, "Adapt --program to your own inputs instead of a shipped task: "
      "the memories it sees, a .json list of lists or an .npy/.npz integer "
      "array [N, M]; M is their width, the targets are the program's own "
      "results (docs/training.md).")
  test_inputs_file: Optional[str] = setting(
      None, "With --inputs_file: the memories to test on (default: a fifth "
      "of the inputs, held out).")
  output_cells: Optional[Tuple[int, ...]] = setting(
      None, "With --inputs_file: the cells that must be right, e.g. 0,3 "
      "(default: every cell the program writes on some input).")
  # One of the task's distributions (tf_anc_datasets.anc_distributions),
  # named here so that reading the defaults loads no TensorFlow.
  distribution: str = setting("biased", "The task's input distribution.")
  program: Optional[str] = setting(
      None, "The program to adapt: a .anc file or a shipped program's name "
      "(default: the task's generic program). With a shipped task it must "
      "compute the task's targets.")
  memory_size: Optional[int] = setting(
      None, "M; must match the task's (default: the task's).", lower=1)
  max_steps: Optional[int] = setting(
      None, "T_max (default: the task's; with --inputs_file the program's "
      "longest run on the inputs plus a quarter, at least 2).", lower=1)
  eta_stop: float = setting(0.9, "Halting threshold.", lower=0.0, upper=1.0)
  # None: initialization.soft_start_sharpness.
  sharpness: Optional[float] = setting(
      5.0, "Scale of the compiled one-hot logits (soft start). With "
      "--inputs_file the default is the softest of 5/6/7/8/10/12/15/20 at "
      "which the compiled program is right on the train inputs.",
      above=0.0)
  loss_weights: LossWeights = LossWeights(
      correctness=10.0, confidence=10.0, efficiency=0.5, halting=20.0)
  optimizer: str = setting("adam")
  learning_rate: float = setting(0.1)
  batch_size: int = setting(5)
  train_steps: int = setting(
      2000, "Gradient steps (--method=search: none).", lower=0)
  method: str = setting(
      "both", "How the run adapts the program: gradient (training alone, no "
      "program search), search (the program search alone, from the "
      "compiled program: no training), both (training, then the program "
      "search from each restart's argmax program when "
      "--program_search_steps > 0) or guided (training, then the program "
      "search proposing from each restart's trained controller, with a "
      "second chain per restart from its argmax program). With "
      "--inputs_file the default is guided.", choices=METHODS)
  restarts: int = setting(
      8, "Independent controllers trained side by side.")
  seed: int = setting(0)
  init_noise: float = setting(
      0.1, "Std of Gaussian noise added to each restart's compiled logits.",
      lower=0.0)
  # The audit's switches (docs/reproduction.md): the authors' choices.
  padding: str = setting(
      "stop", "Rows past the program's end: stop (the compiled program's: "
      "halt there) or random (the authors': Torch's nn.Linear "
      "initialisation, U(-1/sqrt(M), 1/sqrt(M)) logits, near flat).",
      choices=PADDINGS)
  # The authors' optim/ priors.
  prior: str = setting(
      "none", "Pull towards the compiled program (the authors' priors): "
      "infinity (push chosen logits up, others down) or softmax (squared "
      "distance to the compiled one-hots).", choices=PRIORS)
  prior_weight: float = setting(0.0, "The prior's initial weight.",
                                lower=0.0)
  prior_annealing: float = setting(
      1.0, "The prior's weight at update t is prior_weight / (1 + "
      "prior_annealing * t).", lower=0.0)
  batch_loss: str = setting(
      "mean", "A restart's loss over its batch: mean, or sum (the authors "
      "accumulate the examples' gradients).", choices=BATCH_LOSSES)
  adam_epsilon: float = setting(
      1e-7, "Adam's epsilon (Keras' default 1e-7; the authors' 1e-8).",
      lower=0.0)
  halting_gradient: str = setting(
      "exact", "Backward through the halting update: exact, or authors "
      "(their machine passes the halting probability's gradient on "
      "unscaled).")
  train_examples: Optional[int] = setting(
      None, "Size of the train split each restart draws its batches from "
      "(default 10,000); the authors draw a fresh example every time.")
  # Global + local search over the restarts (docs/training.md); ranked on
  # population_examples fixed train examples: accuracy, then mean steps,
  # then loss.
  population: bool = setting(
      False, "Train the restarts as a population: every "
      "--population_interval steps the weakest --population_fraction take "
      "copies of the strongest ones' logits, optimizer state and "
      "hyper-parameters, then perturb them (--population_noise on the "
      "logits, the learning rate and efficiency weight times 0.8 or 1.25).")
  gumbel_temperature: Optional[float] = setting(
      None, "Train each step on a Gumbel-softmax sample of every restart's "
      "program at this temperature, drawn from (seed, step); default: on "
      "the program's softmax.", above=0.0)
  population_interval: int = setting(
      100, "Steps between the population's exploit/explore.", lower=1)
  population_fraction: float = setting(
      0.25, "Fraction of the restarts replaced each time (and of the best "
      "copied).", lower=0.0, upper=0.5)
  population_noise: float = setting(
      0.5, "Std of the noise added to a copied restart's logits.",
      lower=0.0)
  population_examples: int = setting(
      50, "Train examples the restarts are scored on.", lower=1)
  # tf_anc.training.program_search.
  program_search_steps: int = setting(
      0, "Steps of simulated annealing on the discrete machine per restart "
      "(--method search, both and guided): a program faster than the "
      "restart and right on the search's examples replaces it, compiled "
      "exactly. 0: no program search. With --inputs_file the default is "
      "100000.", lower=0)
  program_search_examples: int = setting(
      100, "Distinct train inputs the program search runs on.", lower=1)
  program_search_proposal_temperature: float = setting(
      4.0, "--method=guided: temperature of the proposals drawn from the "
      "trained controller (higher: nearer uniform).", above=0.0)
  checkpoint_every: int = setting(100)
  log_every: int = setting(100)
  summary_every: int = setting(
      500, "Steps between TensorBoard summaries of the restarts (also at the "
      "end): each restart's accuracy and mean steps on "
      "the first 100 test examples, and the controller heatmaps of the first "
      "--imaged_restarts restarts (Figure 2c: a row per program line, "
      "labelled with its most likely statement, a column per instruction or "
      "register).", lower=1)
  imaged_restarts: int = setting(
      4, "Restarts whose controllers are drawn at each summary: the first "
      "this many that did not diverge (0: none). Each takes a fraction of a "
      "second to draw.", lower=0)
  test_examples: int = setting(1000, "Test examples per evaluation.")
  data_dir: Optional[str] = setting(None)
  export_all_restarts: bool = setting(
      False, "Export every restart, not just the best.")
  # None: trainer.resolve decides.
  jit_compile: Optional[bool] = setting(
      None, "XLA-compile the training step. The fused machine op "
      "(tf_anc/kernels) has no XLA kernel, so an XLA step runs the "
      "plain-TF machine. Default: off when the fused op loads (the fastest "
      "path: one op runs the machine), on when the plain-TF machine runs "
      "anyway (TF_ANC_STEP=tf or no op library).")
