"""tf_anc.common.config_flags: each setting spelled once, in its config."""

import dataclasses
from typing import Optional, Tuple

from absl import flags
import pytest

from ntpt_keras import train as ntpt_train
from ntpt_keras.config import Curriculum, NtptConfig
from ntpt_keras.lifelong import config as lifelong_config
from ntpt_keras.lifelong import train as lifelong_train
from ntpt_keras.math_task import train as math_train
from ntpt_keras.math_task.config import MathConfig
from tf_anc.common import config_flags
from tf_anc.common.config_flags import ConfigFlags, setting
from tf_anc.training import config as anc_config
from tf_anc.training import sweep_trials
from tf_anc.training import train as anc_train
from tf_anc.training.config import LossWeights, TrainingConfig


def parsed(flags_class, *arguments):
  flag_values = flags.FlagValues()
  system_flags = flags_class(flag_values)
  flag_values(["program", *arguments])
  return system_flags


@pytest.mark.parametrize("flags_class, config", [
    (anc_train.Flags, TrainingConfig()),
    (math_train.Flags, MathConfig()),
])
def test_no_flags_give_the_configs_defaults(flags_class, config):
  assert parsed(flags_class).config() == config


def test_no_lifelong_flags_give_the_lifelong_defaults():
  config = parsed(lifelong_train.Flags).config()
  assert dataclasses.replace(config, command="") == (
      lifelong_config.LifelongConfig())


def test_ntpt_flags_read_back_their_text_settings():
  config = parsed(ntpt_train.Flags, "--model_file=m.py",
                  "--curriculum=total:3,6", "--tensor_labels=grid:label",
                  "--restarts=4").config()
  assert config == NtptConfig(
      model_file="m.py", curriculum=Curriculum("total", (3, 6)),
      tensor_labels=(("grid", "label"),), restarts=4)


def test_the_loss_weights_are_four_flags_of_their_own_names():
  config = parsed(anc_train.Flags, "--alpha=1", "--beta=2", "--gamma=3",
                  "--delta=4").config()
  assert config.loss_weights == LossWeights(1.0, 2.0, 3.0, 4.0)


@pytest.mark.parametrize("config_class", [
    TrainingConfig, NtptConfig, lifelong_config.LifelongConfig, MathConfig,
    sweep_trials.SweepConfig])
def test_every_setting_has_help(config_class):
  flag_values = flags.FlagValues()
  ConfigFlags(config_class, flag_values)
  for name in flag_values:
    assert flag_values[name].help, name


def test_a_flag_has_the_bounds_of_its_field():
  with pytest.raises(flags.IllegalFlagValueError, match="population"):
    parsed(anc_train.Flags, "--population_fraction=0.75")


def test_a_config_built_in_python_is_held_to_the_same_bounds():
  with pytest.raises(ValueError, match=r"population_fraction must be in "
                     r"\[0, 0.5\], got 0.75"):
    config_flags.check(TrainingConfig(population_fraction=0.75))


def test_an_exclusive_bound_refuses_the_bound_itself():
  with pytest.raises(ValueError, match="sharpness must be positive, got 0"):
    config_flags.check(TrainingConfig(sharpness=0.0))


def test_a_shared_field_gets_the_shared_bound():
  with pytest.raises(ValueError, match="restarts must be at least 1"):
    config_flags.check(NtptConfig(model_file="m.py", restarts=0))


def test_a_choice_outside_the_choices_is_refused_naming_them():
  with pytest.raises(ValueError, match="unknown padding 'zeros'; choose "
                     "from stop, random"):
    config_flags.check(TrainingConfig(padding="zeros"))


def test_a_list_setting_names_its_unknown_items():
  with pytest.raises(ValueError, match="unknown learners lstm; choose from"):
    config_flags.check(lifelong_config.LifelongConfig(
        learners=("ntpt", "lstm")))


def test_a_nested_settings_non_finite_value_is_refused_naming_it():
  with pytest.raises(ValueError, match="loss_weights.correctness"):
    config_flags.check(TrainingConfig(
        loss_weights=LossWeights(correctness=float("nan"))))


def test_a_repeated_setting_takes_items_with_commas():
  flag_values = flags.FlagValues()
  sweep_flags = ConfigFlags(sweep_trials.SweepConfig, flag_values)
  flag_values(["sweep", "--grid=learning_rate=0.1,0.3", "--grid=gamma=1"])
  assert sweep_flags.values()["grid"] == ("learning_rate=0.1,0.3",
                                          "gamma=1")


def test_a_setting_may_take_another_flag_name():
  flag_values = flags.FlagValues()
  ConfigFlags(MathConfig, flag_values)
  assert "math_variant" in flag_values
  assert "variant" not in flag_values


def test_a_field_without_a_setting_is_no_flag():
  @dataclasses.dataclass(frozen=True)
  class Example:
    size: int = setting(3, "A size.", lower=1)
    cells: Optional[Tuple[int, ...]] = setting(None, "Some cells.")
    note: str = ""

  flag_values = flags.FlagValues()
  example_flags = ConfigFlags(Example, flag_values)
  flag_values(["example", "--cells=1,2"])
  assert sorted(flag_values) == ["cells", "size"]
  assert Example(**example_flags.values()) == Example(cells=(1, 2))


def test_the_lifelong_digit_sources_are_the_datasets():
  from tf_anc_datasets import digits  # pylint: disable=g-import-not-at-top
  assert lifelong_config.DIGIT_SOURCES == digits.SOURCES


def test_the_user_task_defaults_are_settings_of_the_anc_config():
  names = {field.name for field in dataclasses.fields(TrainingConfig)}
  assert set(anc_config.USER_TASK_DEFAULTS) <= names


def test_a_list_item_of_the_wrong_type_is_refused_naming_the_flag():
  with pytest.raises(ValueError, match="--output_cells must be "
                     "comma-separated int values, got '0,x'"):
    parsed(anc_train.Flags, "--output_cells=0,x").values()
