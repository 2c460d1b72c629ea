"""Trains an ANC machine, an NTPT model or one of NTPT's experiments.

  python -m tf_anc.train [--flagfile=F] [flags]       # ANC
  python -m tf_anc.train --model_file=M.py [flags]    # NTPT
  python -m tf_anc.train --lifelong [flags]           # the lifelong experiment
  python -m tf_anc.train --math [flags]               # the MATH experiment

With no flags at all it trains biased ListK with our tuned hyper-parameters
(`configs/anc/tuned/listk.flags`) and 8 restarts, in minutes on a CPU.

Each system has its own flags and defaults, and its own command module
(`tf_anc.training.train`, `ntpt_keras.train`, `ntpt_keras.lifelong.train`,
`ntpt_keras.math_task.train`): `--helpfull` lists every system's,
`--model_file=M --helpfull`, `--lifelong --helpfull` or `--math --helpfull`
one system's. A flag of another system is refused
with a line saying whose it is. A run started again with the same
`--model_dir` resumes from its last checkpoint.
"""

import dataclasses
import importlib
import sys
import textwrap

from absl import flags

from tf_anc.common import cli

_HELP_ARGUMENTS = ("-?", "-h", "--help", "--helpshort", "--helpfull")


@dataclasses.dataclass(frozen=True)
class System:
  name: str
  module: str  # its command module, with `Flags` and `main(flags)`
  selector: str  # the flag that picks it; "" for the default


ANC = System("ANC", "tf_anc.training.train", "")
NTPT = System("NTPT", "ntpt_keras.train", "--model_file")
LIFELONG = System("lifelong", "ntpt_keras.lifelong.train", "--lifelong")
MATH = System("MATH", "ntpt_keras.math_task.train", "--math")
SYSTEMS = (ANC, NTPT, LIFELONG, MATH)
# The experiments, picked by a bool flag each.
EXPERIMENTS = (LIFELONG, MATH)

_LIFELONG = flags.DEFINE_bool(
    "lifelong", False, "Run the NTPT lifelong experiment "
    "(ntpt_keras.lifelong) instead of training one model.")
_MATH = flags.DEFINE_bool(
    "math", False, "Run the NTPT MATH experiment (ntpt_keras.math_task) "
    "instead of training one model.")


def _system_flags(system: System) -> flags.FlagValues:
  """A system's flags, defined in a FlagValues of their own."""
  flag_values = flags.FlagValues()
  importlib.import_module(system.module).Flags(flag_values)
  return flag_values


def _flags_of(flag_values: flags.FlagValues):
  return [flag_values[name] for name in flag_values]


def _given(arguments):
  """The flags the expanded command line gives: {name: last value}."""
  given = {}
  for argument in arguments:
    if argument == "--":
      break
    if argument.startswith("-"):
      name, equals, value = argument.lstrip("-").partition("=")
      given[name] = value if equals else None
  return given


def _picked(given, name: str) -> bool:
  """Does the command line set the bool flag `name`?"""
  if f"no{name}" in given:
    return False
  return name in given and given[name] not in ("false", "False", "0")


def _choose(given) -> System:
  """The system the command line asks for; UsageError if it asks for two."""
  picked = [system for system in EXPERIMENTS
            if _picked(given, system.selector[2:])]
  if len(picked) > 1:
    raise cli.UsageError(f"{' and '.join(s.selector for s in picked)}: "
                         "pick one experiment")
  if picked and "model_file" in given:
    raise cli.UsageError(f"{picked[0].selector} trains its own models; drop "
                         "--model_file")
  return picked[0] if picked else NTPT if "model_file" in given else ANC


def _refuse_other_systems_flags(given, system: System):
  """A UsageError for flags only other systems have, saying whose they are."""
  own = set(_system_flags(system))
  owners = {}
  for other in SYSTEMS:
    if other is not system:
      for name in set(_system_flags(other)) - own:
        owners.setdefault(name, []).append(other)
  misplaced = {}
  for name in given:
    base = name[2:] if name.startswith("no") and name not in owners else name
    if base in owners:
      misplaced.setdefault(tuple(owners[base]), []).append(f"--{base}")
  for others, names in misplaced.items():
    whose = " and ".join(other.name for other in others)
    if all(other.selector for other in others):
      where = "given without " + " or ".join(o.selector for o in others)
    else:
      where = f"not for {system.selector}"
    raise cli.UsageError(f"{', '.join(names)}: {whose} flags, {where}")


def _render(flag_list) -> str:
  lines = []
  for flag in sorted(flag_list, key=lambda flag: flag.name):
    name = flag.name
    prefix = "--[no]" if flag.boolean else "--"
    lines.append(textwrap.fill(f"{prefix}{name}: {flag.help}", 78,
                               initial_indent="  ",
                               subsequent_indent="    "))
    lines.append(f"    (default: {flag.default_as_str})")
  return "\n".join(lines)


def help_text(systems=SYSTEMS, full=False) -> str:
  """The command's help: its doc, then each system's flags and defaults."""
  parts = [__doc__.strip()]
  for system in systems:
    picked_by = (f"with {system.selector}" if system.selector
                 else "the default")
    parts.append(f"{system.name} flags ({picked_by}; {system.module}):\n"
                 + _render(_flags_of(_system_flags(system))))
  parts.append("Picking the system:\n"
               + _render([flags.FLAGS[flag.name] for flag in (_LIFELONG,
                                                               _MATH)]))
  if full:
    parts.append(flags.FLAGS.module_help("absl.logging"))
  return "\n\n".join(parts)


def main(argv):
  try:
    arguments = flags.FLAGS.read_flags_from_files(argv[1:], force_gnu=False)
    given = _given(arguments)
    system = _choose(given)
    if any(argument in _HELP_ARGUMENTS for argument in arguments):
      chosen = [system] if system.selector else SYSTEMS
      print(help_text(chosen, full="--helpfull" in arguments))
      sys.exit(0)
    _refuse_other_systems_flags(given, system)
  except (flags.Error, cli.UsageError) as error:
    cli.fail(str(error))
  module = importlib.import_module(system.module)
  system_flags = module.Flags(flags.FLAGS)

  def run(positional):
    if len(positional) > 1:
      raise cli.UsageError(
          f"unexpected arguments: {' '.join(positional[1:])}")
    module.main(system_flags)

  cli.run(run)


if __name__ == "__main__":
  main(sys.argv)
