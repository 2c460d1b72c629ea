"""The flags every trainer has, each defined with its own system's defaults.

ANC, NTPT and the lifelong experiment each have a config dataclass; the
flags below are those of their fields that mean the same thing in every
system (where the run goes, how many restarts, steps, batches...). A
system's `Flags` defines the ones its config has, with that config's
defaults, so `--helpfull` shows each system's true defaults, and reads
them back as config fields with `values()`.
"""

import dataclasses

from absl import flags

from tf_anc.common import optimizers

# Field -> (absl definer, help, the definer's other arguments). Defined for a
# config with the field.
_SHARED = {
    "model_dir": (flags.DEFINE_string, "Checkpoints, TensorBoard logs, "
                  "results.json and SavedModels; a run started again with "
                  "the same directory resumes.", {}),
    "data_dir": (flags.DEFINE_string, "tfds data directory (default: "
                 "tfds').", {}),
    "restarts": (flags.DEFINE_integer, "Restarts trained side by side.",
                 {"lower_bound": 1}),
    "train_steps": (flags.DEFINE_integer, "Training steps.",
                    {"lower_bound": 1}),
    "batch_size": (flags.DEFINE_integer, "Examples per restart per step.",
                   {"lower_bound": 1}),
    "optimizer": (flags.DEFINE_enum, "Optimizer.",
                  {"enum_values": list(optimizers.OPTIMIZERS)}),
    "learning_rate": (flags.DEFINE_float, "Learning rate.",
                      {"lower_bound": 0.0}),
    "seed": (flags.DEFINE_integer, "Seed of the data order and the "
             "initialisation.", {}),
    "train_examples": (flags.DEFINE_integer, "Training examples to take "
                       "(default: all).", {"lower_bound": 1}),
    "test_examples": (flags.DEFINE_integer, "Test examples to evaluate on "
                      "(default: all).", {"lower_bound": 1}),
    "param_init_stddev": (flags.DEFINE_float, "Std of the program params' "
                          "initial logits.", {"lower_bound": 0.0}),
    "checkpoint_every": (flags.DEFINE_integer, "Steps between checkpoints.",
                         {"lower_bound": 1}),
    "log_every": (flags.DEFINE_integer, "Steps between progress lines.",
                  {"lower_bound": 1}),
    "jit_compile": (flags.DEFINE_bool, "XLA-compile the training step.", {}),
}


class TrainerFlags:
  """The shared flags of the config `defaults`, in `flag_values`.

  `helps` replaces the help of some flags where a system says more.
  """

  def __init__(self, defaults, flag_values, helps=None):
    helps = helps or {}
    self._flag_values = flag_values
    names = {field.name for field in dataclasses.fields(defaults)}
    self._holders = {}
    for name, (define, help_text, arguments) in _SHARED.items():
      if name in names:
        self._holders[name] = define(
            name, getattr(defaults, name), help=helps.get(name, help_text),
            flag_values=flag_values, **arguments)

  def define(self, define_flag, name, default, help_text, **bounds):
    """A system's own flag, in the same FlagValues as the shared ones."""
    return define_flag(name, default, help=help_text,
                       flag_values=self._flag_values, **bounds)

  def values(self) -> dict:
    """The flags' values by config field."""
    return {name: holder.value for name, holder in self._holders.items()}
