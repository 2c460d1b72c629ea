"""Config fields that carry their own flag: one spelling per parameter.

Every trainer's settings are a frozen dataclass (ANC's `TrainingConfig`,
NTPT's `NtptConfig`, `LifelongConfig`, `MathConfig`, the sweep's
`SweepConfig`). A field made with `setting(...)` says, once, its default,
its help, its bounds and its choices; from that

- `ConfigFlags` defines the absl flags (the field's name, or `flag=`) with
  the config's own defaults, so `--helpfull` shows each system's true
  values, and reads them back as config fields;
- `check` holds a config built in Python (`TrainingConfig(...)`) to the
  same bounds and choices, and refuses non-finite floats.

The help of a field that means the same in every system (`model_dir`,
`restarts`, `learning_rate`, ...) is in `SHARED`, so it is written once for
all of them; a field may still say more with its own `help`.
"""

import dataclasses
import sys
import typing
from typing import Any, Callable, Dict, Optional, Sequence

from absl import flags

from tf_anc.common import finite
from tf_anc.common import optimizers

# The help and bounds of the fields every system spells the same way.
SHARED = {
    "model_dir": dict(help="Checkpoints, TensorBoard logs, results.json and "
                      "SavedModels; a run started again with the same "
                      "directory resumes."),
    "data_dir": dict(help="tfds data directory (default: tfds')."),
    "restarts": dict(help="Restarts trained side by side.", lower=1),
    "train_steps": dict(help="Training steps.", lower=1),
    "batch_size": dict(help="Examples per restart per step.", lower=1),
    "optimizer": dict(help="Optimizer.", choices=tuple(optimizers.OPTIMIZERS)),
    "learning_rate": dict(help="Learning rate.", lower=0.0),
    "seed": dict(help="Seed of the data order and the initialisation."),
    "train_examples": dict(help="Training examples to take (default: all).",
                           lower=1),
    "test_examples": dict(help="Test examples to evaluate on (default: "
                          "all).", lower=1),
    "param_init_stddev": dict(help="Std of the program params' initial "
                              "logits.", lower=0.0),
    "checkpoint_every": dict(help="Steps between checkpoints.", lower=1),
    "log_every": dict(help="Steps between progress lines.", lower=1),
    "jit_compile": dict(help="XLA-compile the training step."),
}

_METADATA_KEY = "config_flags"


@dataclasses.dataclass(frozen=True)
class _Setting:
  help: Optional[str]
  lower: Optional[float]  # inclusive
  above: Optional[float]  # exclusive: the value must be greater
  upper: Optional[float]  # inclusive
  choices: Optional[Sequence[str]]
  flag: Optional[str]
  # A string flag read into the field's value (e.g. "output:1,2" into a
  # Curriculum), or a list flag's items into it; ValueError if malformed.
  parse: Optional[Callable[[Any], Any]]
  # The flag's default from the field's (e.g. a Curriculum back to text).
  unparse: Optional[Callable[[Any], Any]]
  # A sequence given by repeating the flag (its items may hold commas)
  # rather than as one comma-separated list.
  repeated: bool


def setting(default=dataclasses.MISSING, help: Optional[str] = None, *,
            lower=None, above=None, upper=None, choices=None,
            flag: Optional[str] = None, parse=None, unparse=None,
            repeated: bool = False):
  """A dataclass field that is also a flag (see the module's docstring).

  `lower`/`upper`: inclusive bounds; `above`: an exclusive lower bound (the
  flag's own bound is then inclusive, `check` is strict); `choices`: the
  allowed strings (an enum flag, or a list flag's allowed items); `flag`:
  the flag's name where it is not the field's; `parse`/`unparse`: a value
  the flag holds as text or a list; `repeated`: a sequence given as
  `--flag=A --flag=B` rather than `--flag=A,B`. Help, bounds and choices left out come
  from `SHARED` for the shared fields.
  """
  metadata = {_METADATA_KEY: _Setting(
      help=help, lower=lower, above=above, upper=upper,
      choices=None if choices is None else tuple(choices), flag=flag,
      parse=parse, unparse=unparse, repeated=repeated)}
  if isinstance(default, (list, dict, set)):
    raise TypeError("a setting's default must be immutable")
  return dataclasses.field(default=default, metadata=metadata)


def _setting_of(field: dataclasses.Field) -> Optional[_Setting]:
  own = field.metadata.get(_METADATA_KEY)
  if own is None:
    return None
  shared = SHARED.get(field.name, {})
  return dataclasses.replace(own, **{
      name: value for name, value in shared.items()
      if getattr(own, name) is None})


def _unwrap_optional(annotation):
  """`Optional[X]` → X; anything else as it is."""
  if typing.get_origin(annotation) is typing.Union:
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(arguments) == 1:
      return arguments[0]
  return annotation


def _is_sequence(annotation) -> bool:
  return annotation is tuple or typing.get_origin(annotation) in (tuple, list)


def _definer(annotation, setting_: _Setting):
  if setting_.parse is not None and not _is_sequence(annotation):
    return flags.DEFINE_string
  if _is_sequence(annotation):
    return (flags.DEFINE_multi_string if setting_.repeated
            else flags.DEFINE_list)
  if annotation is bool:
    return flags.DEFINE_bool
  if annotation is int:
    return flags.DEFINE_integer
  if annotation is float:
    return flags.DEFINE_float
  if setting_.choices is not None:
    return flags.DEFINE_enum
  if annotation is str:
    return flags.DEFINE_string
  raise TypeError(f"no flag type for a field of type {annotation}")


@dataclasses.dataclass(frozen=True)
class _Flag:
  field: str  # the config field (of `nested_in`, if given)
  holder: flags.FlagHolder
  setting: _Setting
  annotation: Any
  nested_in: Optional[str] = None  # the nested dataclass field it fills


class ConfigFlags:
  """The flags of a config class's settings, in `flag_values`.

  `defaults` is an instance whose values the flags default to (a config
  class whose required fields have no default gets their flags with
  default None).
  """

  def __init__(self, config_class, flag_values=flags.FLAGS, defaults=None):
    self.config_class = config_class
    self._flags: Dict[str, _Flag] = {}
    self._module_name = _calling_module()
    self._define(config_class, defaults, flag_values, nested_in=None)

  def _define(self, config_class, defaults, flag_values, nested_in):
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
      annotation = _unwrap_optional(hints[field.name])
      default = (getattr(defaults, field.name) if defaults is not None
                 else field.default)
      if default is dataclasses.MISSING:
        default = None
      if dataclasses.is_dataclass(annotation):
        self._define(annotation, default, flag_values, nested_in=field.name)
        continue
      setting_ = _setting_of(field)
      if setting_ is None:
        continue
      flag_default = default
      if setting_.unparse is not None and default is not None:
        flag_default = setting_.unparse(default)
      elif _is_sequence(annotation) and default is not None:
        flag_default = [str(item) for item in default]
      definer = _definer(annotation, setting_)
      arguments = {}
      if definer is flags.DEFINE_enum:
        arguments["enum_values"] = list(setting_.choices)
      if definer in (flags.DEFINE_integer, flags.DEFINE_float):
        lower = setting_.lower if setting_.lower is not None else setting_.above
        if lower is not None:
          arguments["lower_bound"] = lower
        if setting_.upper is not None:
          arguments["upper_bound"] = setting_.upper
      name = setting_.flag or field.name
      holder = definer(name, flag_default, help=_help(setting_),
                       flag_values=flag_values, module_name=self._module_name,
                       **arguments)
      self._flags[name] = _Flag(field.name, holder, setting_, annotation,
                                nested_in)

  def holder(self, name: str) -> flags.FlagHolder:
    """The flag `name` (its `.value`, `.present`)."""
    return self._flags[name].holder

  def values(self) -> dict:
    """The flags' values by config field (nested dataclasses built);
    ValueError, from the flag's parser, if one cannot be read."""
    values, nested = {}, {}
    for name, flag in self._flags.items():
      value = flag.holder.value
      if value is not None:
        if flag.setting.parse is not None:
          value = flag.setting.parse(value)
        elif _is_sequence(flag.annotation):
          value = _items(name, value, flag.annotation)
      if flag.nested_in is None:
        values[flag.field] = value
      else:
        nested.setdefault(flag.nested_in, {})[flag.field] = value
    hints = typing.get_type_hints(self.config_class)
    for field, fields in nested.items():
      values[field] = _unwrap_optional(hints[field])(**fields)
    return values

  def present(self) -> Dict[str, bool]:
    """Whether the command line gave each flag, by config field."""
    return {flag.field: bool(flag.holder.present)
            for flag in self._flags.values() if flag.nested_in is None}


def _items(name: str, values, annotation) -> tuple:
  """A list flag's items as the sequence field's item type (`Tuple[int,
  ...]`: ints); ValueError naming the flag if one is not of it."""
  item_types = [item for item in typing.get_args(annotation)
                if item is not Ellipsis]
  item_type = item_types[0] if len(set(item_types)) == 1 else str
  try:
    return tuple(item_type(value) for value in values)
  except ValueError:
    raise ValueError(f"--{name} must be comma-separated "
                     f"{item_type.__name__} values, got "
                     f"{','.join(values)!r}") from None


def _calling_module() -> str:
  """The module that made the flags, named as absl names the one that
  defines a flag (so `--help` lists a tool's flags as its own)."""
  frame = sys._getframe(1)  # pylint: disable=protected-access
  while frame.f_globals.get("__name__") == __name__:
    frame = frame.f_back
  name = frame.f_globals.get("__name__")
  return sys.argv[0] if name == "__main__" else name


def _help(setting_: _Setting) -> str:
  text = setting_.help or ""
  if setting_.above is not None:
    text += f" Must be greater than {setting_.above:g}."
  return text.strip()


def check(config, prefix: str = ""):
  """ValueError naming the first setting of `config` (a dataclass) that is
  outside its bounds or choices, or a float that is NaN or infinite."""
  finite.check_config(config)
  for field in dataclasses.fields(config):
    value = getattr(config, field.name)
    name = prefix + field.name
    if dataclasses.is_dataclass(value):
      check(value, prefix=f"{name}.")
      continue
    setting_ = _setting_of(field)
    if setting_ is None or value is None:
      continue
    _check_value(name, value, setting_)


def _check_value(name, value, setting_: _Setting):
  if setting_.choices is not None:
    if isinstance(value, (tuple, list)):
      unknown = ", ".join(item for item in value
                          if item not in setting_.choices)
    else:
      unknown = "" if value in setting_.choices else repr(value)
    if unknown:
      raise ValueError(f"unknown {name} {unknown}; choose from "
                       f"{', '.join(setting_.choices)}")
  if not isinstance(value, (int, float)) or isinstance(value, bool):
    return
  if ((setting_.lower is None or value >= setting_.lower)
      and (setting_.above is None or value > setting_.above)
      and (setting_.upper is None or value <= setting_.upper)):
    return
  lower = (f"[{setting_.lower:g}" if setting_.lower is not None else
           f"({setting_.above:g}" if setting_.above is not None else None)
  if setting_.upper is not None and lower is not None:
    wrong = f"must be in {lower}, {setting_.upper:g}]"
  elif setting_.upper is not None:
    wrong = f"must be at most {setting_.upper:g}"
  elif setting_.lower is not None:
    wrong = f"must be at least {setting_.lower:g}"
  elif setting_.above == 0:
    wrong = "must be positive"
  else:
    wrong = f"must be greater than {setting_.above:g}"
  raise ValueError(f"{name} {wrong}, got {value}")
