"""The MATH experiment from the command line: flags, run, report.

`python -m tf_anc.train --math` runs this: the NTPT paper's MATH model
(section 4.3) trained on 2-digit expression tapes, restarts side by side
over the neural library of the lifelong experiment, tested on tapes of 1 to
16 digits,

  python -m tf_anc.train --flagfile=configs/ntpt/math.flags
  python -m tf_anc.train --flagfile=configs/ntpt/math_symbols.flags

and writes TensorBoard curves, `results.json` (restarts,
converged_restarts, generalizing_restarts, program, accuracy_by_length,
network_accuracy, ...) and the best restart as a SavedModel over tapes of
any length.
"""

from absl import flags
from absl import logging

from ntpt_keras.math_task.config import MathConfig, SEARCHES, VARIANTS
from tf_anc.common import cli
from tf_anc.common.trainer_flags import TrainerFlags


class Flags:
  """The MATH run's flags in `flag_values`, read back as a config."""

  def __init__(self, flag_values=flags.FLAGS):
    defaults = MathConfig()
    self._shared = TrainerFlags(defaults, flag_values, helps={
        "learning_rate": "Learning rate of the program params.",
        "train_examples": "2-digit training tapes (default: all 1,000).",
        "test_examples": "Test tapes per length (default: all 1,000).",
    })
    define = self._shared.define
    self._variant = define(
        flags.DEFINE_enum, "math_variant", defaults.variant,
        "perceptual: tapes of images read by the library's net_0 and net_1; "
        "symbols: tapes of symbols (the paper's non-perceptual variant).",
        enum_values=list(VARIANTS))
    self._library_dir = define(
        flags.DEFINE_string, "library_dir", defaults.library_dir,
        "The neural library net_0 and net_1 start from (perceptual; written "
        "by the lifelong experiment).")
    self._perceptual_slowdown = define(
        flags.DEFINE_float, "perceptual_slowdown",
        defaults.perceptual_slowdown,
        "The networks learn this many times slower than the params.")
    self._max_digits = define(
        flags.DEFINE_integer, "max_digits", defaults.max_digits,
        "Test on tapes of 1 ... this many digits.", lower_bound=1)
    self._validation_examples = define(
        flags.DEFINE_integer, "validation_examples",
        defaults.validation_examples,
        "Validation tapes for detecting convergence.", lower_bound=1)
    self._convergence_accuracy = define(
        flags.DEFINE_float, "convergence_accuracy",
        defaults.convergence_accuracy,
        "A restart has converged once its program answers this share of "
        "the validation tapes.", lower_bound=0.0, upper_bound=1.0)
    self._eval_every = define(
        flags.DEFINE_integer, "eval_every", defaults.eval_every,
        "Training steps between validation measurements.", lower_bound=1)
    self._gumbel_temperature = define(
        flags.DEFINE_float, "gumbel_temperature",
        defaults.gumbel_temperature,
        "Train each step on a Gumbel-softmax sample of every restart's "
        "params at this temperature rather than on their softmax (default: "
        "the softmax).", lower_bound=0.0)
    self._logit_bound = define(
        flags.DEFINE_float, "logit_bound", defaults.logit_bound,
        "Clip the param logits to [-bound, bound] after every step, so that "
        "no choice's gradient underflows (default: unbounded).",
        lower_bound=0.0)
    self._search = define(
        flags.DEFINE_enum, "search", defaults.search,
        "independent restarts, or a population: every --population_interval "
        "steps the weakest --population_fraction of the restarts copy a "
        "strongest one's params (scored on --population_examples training "
        "tapes), plus noise --population_noise on the logits.",
        enum_values=list(SEARCHES))
    self._population_interval = define(
        flags.DEFINE_integer, "population_interval",
        defaults.population_interval, "Steps between population moves.",
        lower_bound=1)
    self._population_fraction = define(
        flags.DEFINE_float, "population_fraction",
        defaults.population_fraction,
        "Share of the restarts replaced at each move.", lower_bound=0.0,
        upper_bound=0.5)
    self._population_noise = define(
        flags.DEFINE_float, "population_noise", defaults.population_noise,
        "Std of the noise on copied logits.", lower_bound=0.0)
    self._population_mutation = define(
        flags.DEFINE_float, "population_mutation",
        defaults.population_mutation,
        "Probability that each choice of a copy is drawn afresh.",
        lower_bound=0.0, upper_bound=1.0)
    self._population_examples = define(
        flags.DEFINE_integer, "population_examples",
        defaults.population_examples,
        "Training tapes that score the restarts.", lower_bound=1)

  def config(self) -> MathConfig:
    return MathConfig(
        variant=self._variant.value,
        library_dir=self._library_dir.value or None,
        perceptual_slowdown=self._perceptual_slowdown.value,
        max_digits=self._max_digits.value,
        validation_examples=self._validation_examples.value,
        convergence_accuracy=self._convergence_accuracy.value,
        eval_every=self._eval_every.value,
        gumbel_temperature=self._gumbel_temperature.value,
        logit_bound=self._logit_bound.value,
        search=self._search.value,
        population_interval=self._population_interval.value,
        population_fraction=self._population_fraction.value,
        population_noise=self._population_noise.value,
        population_mutation=self._population_mutation.value,
        population_examples=self._population_examples.value,
        **self._shared.values())


def main(math_flags: Flags):
  """Trains (resuming), evaluates and exports; prints the learned program."""
  config = math_flags.config()
  cli.import_tensorflow_and_tfds()
  from ntpt_keras.math_task import export  # pylint: disable=g-import-not-at-top
  from ntpt_keras.math_task import trainer  # pylint: disable=g-import-not-at-top
  logging.info("MATH: %s", config)
  try:
    run = trainer.MathTrainer(config)
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  run.train()
  report = run.evaluate()
  saved_model = export.export_saved_model(
      run, report["best_restart"], f"{config.model_dir}/saved_model")
  print(f"\nMATH ({config.variant}): {report['converged_restarts']} of "
        f"{report['restarts']} restarts converged; "
        f"{report['generalizing_restarts']} learned a program right on "
        f"every symbols tape of 1-{config.max_digits} digits. Best restart "
        f"{report['best_restart']}:")
  print(report["program"])
  print("accuracy by digits: " + ", ".join(
      f"{n}: {value:.3f}" for n, value in
      report["accuracy_by_length"].items()))
  for name, value in report["network_accuracy"].items():
    print(f"{name}: {value:.3f} of test symbols read right")
  print(f"results: {config.model_dir}/results.json, SavedModel: "
        f"{saved_model}, TensorBoard: tensorboard --logdir "
        f"{config.model_dir}")
