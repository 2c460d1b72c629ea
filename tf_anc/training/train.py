"""ANC training from the command line: its flags, its run, its report.

`python -m tf_anc.train` runs this when given neither `--model_file` nor
`--lifelong`: it adapts a compiled program to a task's input distribution,

  python -m tf_anc.train --flagfile=configs/anc/listk.flags [--restarts=20]

With no flags at all it trains biased ListK with our tuned hyper-parameters
(`configs/anc/tuned/listk.flags`) and 8 restarts, in minutes on a CPU.
Writes checkpoints, TensorBoard logs, `results.json` and the best restart's
SavedModel to `--model_dir`.
"""

from absl import flags
from absl import logging

from tf_anc.common import cli
from tf_anc.common.trainer_flags import TrainerFlags
from tf_anc.training import config as config_module
from tf_anc.training.config import LossWeights, TrainingConfig


class Flags:
  """The ANC trainer's flags in `flag_values`, read back as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    defaults = TrainingConfig()
    self._shared = TrainerFlags(defaults, flag_values, helps={
        "restarts": "Independent controllers trained side by side.",
        "test_examples": "Test examples per evaluation.",
        "train_examples": ("Size of the train split each restart draws its "
                           "batches from (default 10,000); the authors "
                           "draw a fresh example every time."),
        "jit_compile": (
            "XLA-compile the training step. The fused machine op "
            "(tf_anc/kernels) has no XLA kernel, so an XLA step runs the "
            "plain-TF machine. Default: off when the fused op loads (the "
            "fastest path: one op runs the machine), on when the plain-TF "
            "machine runs anyway (TF_ANC_STEP=tf or no op library)."),
    })
    define = self._shared.define
    self._task = define(flags.DEFINE_string, "task", defaults.task,
                        "A shipped task's name (docs/anc-tasks.md).")
    self._inputs_file = define(
        flags.DEFINE_string, "inputs_file", defaults.inputs_file,
        "Adapt --program to your own inputs instead of a shipped task: the "
        "memories it sees, a .json list of lists or an .npy/.npz integer "
        "array [N, M]; M is their width, the targets are the program's own "
        "results (docs/training.md).")
    self._test_inputs_file = define(
        flags.DEFINE_string, "test_inputs_file", defaults.test_inputs_file,
        "With --inputs_file: the memories to test on (default: a fifth of "
        "the inputs, held out).")
    self._output_cells = define(
        flags.DEFINE_list, "output_cells", defaults.output_cells,
        "With --inputs_file: the cells that must be right, e.g. 0,3 "
        "(default: every cell the program writes on some input).")
    self._distribution = define(flags.DEFINE_string, "distribution",
                                defaults.distribution,
                                "The task's input distribution.")
    self._program = define(
        flags.DEFINE_string, "program", defaults.program, "The program to "
        "adapt: a .anc file or a shipped program's name (default: the "
        "task's generic program). With a shipped task it must compute the "
        "task's targets.")
    self._memory_size = define(
        flags.DEFINE_integer, "memory_size", defaults.memory_size,
        "M; must match the task's (default: the task's).")
    self._max_steps = define(
        flags.DEFINE_integer, "max_steps", defaults.max_steps,
        "T_max (default: the task's; with --inputs_file the program's "
        "longest run on the inputs plus a quarter, at least 2).",
        lower_bound=1)
    self._eta_stop = define(flags.DEFINE_float, "eta_stop", defaults.eta_stop,
                            "Halting threshold.", lower_bound=0.0,
                            upper_bound=1.0)
    self._sharpness = define(
        flags.DEFINE_float, "sharpness", defaults.sharpness,
        "Scale of the compiled one-hot logits (soft start). With "
        "--inputs_file the default is the softest of "
        "5/6/7/8/10/12/15/20 at which the compiled program is right on "
        "the train inputs.")
    weights = defaults.loss_weights
    self._alpha = define(flags.DEFINE_float, "alpha", weights.correctness,
                         "Weight of the correctness term.")
    self._beta = define(flags.DEFINE_float, "beta", weights.confidence,
                        "Weight of the confidence term.")
    self._gamma = define(flags.DEFINE_float, "gamma", weights.efficiency,
                         "Weight of the efficiency term.")
    self._delta = define(flags.DEFINE_float, "delta", weights.halting,
                         "Weight of the halting term.")
    self._init_noise = define(
        flags.DEFINE_float, "init_noise", defaults.init_noise,
        "Std of Gaussian noise added to each restart's compiled logits.",
        lower_bound=0.0)
    # The audit's switches (docs/reproduction.md): the authors' choices.
    self._padding = define(
        flags.DEFINE_enum, "padding", defaults.padding,
        "Rows past the program's end: stop (halt there) or random (the "
        "authors': U(-1/sqrt(M), 1/sqrt(M)) logits, near flat).",
        enum_values=list(config_module.PADDINGS))
    self._prior = define(
        flags.DEFINE_enum, "prior", defaults.prior,
        "Pull towards the compiled program (the authors' priors): infinity "
        "(push chosen logits up, others down) or softmax (squared distance "
        "to the compiled one-hots).",
        enum_values=list(config_module.PRIORS))
    self._prior_weight = define(
        flags.DEFINE_float, "prior_weight", defaults.prior_weight,
        "The prior's initial weight.", lower_bound=0.0)
    self._prior_annealing = define(
        flags.DEFINE_float, "prior_annealing", defaults.prior_annealing,
        "The prior's weight at update t is prior_weight / (1 + "
        "prior_annealing * t).", lower_bound=0.0)
    self._batch_loss = define(
        flags.DEFINE_enum, "batch_loss", defaults.batch_loss,
        "A restart's loss over its batch: mean, or sum (the authors "
        "accumulate the examples' gradients).", enum_values=list(config_module.BATCH_LOSSES))
    self._adam_epsilon = define(
        flags.DEFINE_float, "adam_epsilon", defaults.adam_epsilon,
        "Adam's epsilon (Keras' default 1e-7; the authors' 1e-8).",
        lower_bound=0.0)
    self._halting_gradient = define(
        flags.DEFINE_string, "halting_gradient", defaults.halting_gradient,
        "Backward through the halting update: exact, or authors (their "
        "machine passes the halting probability's gradient on unscaled).")
    # Global + local search over the restarts (docs/training.md).
    self._search = define(
        flags.DEFINE_enum, "search", defaults.search,
        "independent restarts, or a population: the weakest restarts "
        "periodically take perturbed copies of the strongest.",
        enum_values=list(config_module.SEARCHES))
    self._gumbel_temperature = define(
        flags.DEFINE_float, "gumbel_temperature", defaults.gumbel_temperature,
        "Train each step on a Gumbel-softmax sample of every restart's "
        "program at this temperature, drawn from (seed, step); default: "
        "on the program's softmax.", lower_bound=0.0)
    self._population_interval = define(
        flags.DEFINE_integer, "population_interval",
        defaults.population_interval,
        "Steps between the population's exploit/explore.", lower_bound=1)
    self._population_fraction = define(
        flags.DEFINE_float, "population_fraction",
        defaults.population_fraction,
        "Fraction of the restarts replaced each time (and of the best "
        "copied).", lower_bound=0.0, upper_bound=0.5)
    self._population_noise = define(
        flags.DEFINE_float, "population_noise", defaults.population_noise,
        "Std of the noise added to a copied restart's logits.",
        lower_bound=0.0)
    self._population_examples = define(
        flags.DEFINE_integer, "population_examples",
        defaults.population_examples,
        "Train examples the restarts are scored on.", lower_bound=1)
    self._program_search_steps = define(
        flags.DEFINE_integer, "program_search_steps",
        defaults.program_search_steps,
        "After training, improve each restart's argmax program by this "
        "many steps of simulated annealing on the discrete machine; a "
        "faster program right on the search's examples replaces the "
        "restart, compiled exactly. 0: no program search. With "
        "--inputs_file the default is 3000.", lower_bound=0)
    self._program_search_examples = define(
        flags.DEFINE_integer, "program_search_examples",
        defaults.program_search_examples,
        "Distinct train inputs the program search runs on.", lower_bound=1)
    self._export_all_restarts = define(
        flags.DEFINE_bool, "export_all_restarts",
        defaults.export_all_restarts,
        "Export every restart, not just the best.")

  def config(self) -> TrainingConfig:
    inputs_file = self._inputs_file.value
    if inputs_file is not None:
      given = [f"--{holder.name}" for holder in (self._task,
                                                  self._distribution,
                                                  self._memory_size)
               if holder.present]
      if given:
        raise cli.UsageError(
            f"--inputs_file and {', '.join(given)}: the inputs file is the "
            "task (its width is M); drop " + ", ".join(given))
      if self._program.value is None:
        raise cli.UsageError("--inputs_file needs --program, the program "
                             "to adapt to the inputs")
    elif self._test_inputs_file.value or self._output_cells.value:
      raise cli.UsageError("--test_inputs_file and --output_cells go with "
                           "--inputs_file")
    return TrainingConfig(
        task=None if inputs_file else self._task.value,
        inputs_file=inputs_file,
        test_inputs_file=self._test_inputs_file.value,
        output_cells=_cells(self._output_cells.value),
        distribution=self._distribution.value,
        program=self._program.value, memory_size=self._memory_size.value,
        max_steps=self._max_steps.value, eta_stop=self._eta_stop.value,
        sharpness=self._value(self._sharpness, inputs_file),
        loss_weights=LossWeights(
            correctness=self._alpha.value, confidence=self._beta.value,
            efficiency=self._gamma.value, halting=self._delta.value),
        init_noise=self._init_noise.value,
        padding=self._padding.value, prior=self._prior.value,
        prior_weight=self._prior_weight.value,
        prior_annealing=self._prior_annealing.value,
        batch_loss=self._batch_loss.value,
        adam_epsilon=self._adam_epsilon.value,
        halting_gradient=self._halting_gradient.value,
        search=self._search.value,
        gumbel_temperature=self._gumbel_temperature.value,
        population_interval=self._population_interval.value,
        population_fraction=self._population_fraction.value,
        population_noise=self._population_noise.value,
        population_examples=self._population_examples.value,
        program_search_steps=self._value(self._program_search_steps,
                                         inputs_file),
        program_search_examples=self._program_search_examples.value,
        export_all_restarts=self._export_all_restarts.value,
        **self._shared.values())


  @staticmethod
  def _value(holder, inputs_file):
    """A flag's value: with an inputs file, the user task's default
    (config.USER_TASK_DEFAULTS) unless the flag is given."""
    if inputs_file and not holder.present:
      return config_module.USER_TASK_DEFAULTS.get(holder.name, holder.value)
    return holder.value


def _cells(values):
  """`--output_cells` as a tuple of ints (None when not given)."""
  if values is None:
    return None
  try:
    return tuple(int(value) for value in values)
  except ValueError:
    raise cli.UsageError(f"--output_cells must be comma-separated cell "
                         f"numbers, got {','.join(values)!r}") from None


def main(anc_flags: Flags):
  """Trains (resuming), evaluates and exports; prints the best program."""
  cli.import_tensorflow_and_tfds()
  from tf_anc.training import trainer  # pylint: disable=g-import-not-at-top
  try:
    run = trainer.Trainer(anc_flags.config())
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  config = run.config
  logging.info("ANC training: %s", config)
  run.train()
  run.search_programs()
  report = run.evaluate()
  saved_model = run.export(report)
  best = report["restarts"][report["best_restart"]]
  generic = report["generic_mean_iterations"]
  where = (f" ({report['distribution']})" if report["distribution"]
           else "")
  print(f"\n{report['task']}{where}: "
        f"{sum(r['success'] for r in report['restarts'])} of "
        f"{len(report['restarts'])} restarts succeeded.")
  if report["diverged_restarts"]:
    print(f"{len(report['diverged_restarts'])} diverged (a non-finite loss "
          f"or weight): restarts "
          f"{', '.join(map(str, report['diverged_restarts']))}.")
  if not best["diverged"]:
    print(f"best restart {best['restart']}: accuracy "
          f"{best['accuracy']:.3f}, {best['mean_iterations']:.2f} iterations "
          f"vs the generic program's {generic:.2f} "
          f"({generic / best['mean_iterations']:.2f}x faster), "
          f"interpretability level {best['interpretability']}")
    print(best["program"])
  if report["exported_generic_program"]:
    print("No restart is right on the whole test split and faster than the "
          "generic program: the SavedModel is the compiled generic program.")
  elif report["exported_argmax_program"]:
    print(f"The SavedModel is restart {report['exported_restart']}'s argmax "
          "program, compiled exactly (interpretability level 1).")
  else:
    print(f"The SavedModel is restart {report['exported_restart']}.")
  print(f"results: {config.model_dir}/results.json, SavedModel: "
        f"{saved_model}, TensorBoard: tensorboard --logdir {config.model_dir}")
