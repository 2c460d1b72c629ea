"""Files shipped with the package: the generic programs and the flagfiles.

`programs/` holds the `.anc` programs (`programs/` at the repository's top),
`configs/` the experiments' flagfiles (`configs/`). In a checkout both are
links to those folders; an installed package holds copies. They are found
through the package (`importlib.resources`), wherever it is installed.
"""

import importlib.resources
import os
import pathlib
from typing import List

PROGRAM_SUFFIX = ".anc"
FLAGFILE_SUFFIX = ".flags"


def _shipped(folder: str) -> pathlib.Path:
  # Resolved: in a checkout, the repository's own folder.
  return pathlib.Path(str(importlib.resources.files(__package__) /
                          folder)).resolve()


def programs_dir() -> pathlib.Path:
  """The folder of the shipped `.anc` programs."""
  return _shipped("programs")


def configs_dir() -> pathlib.Path:
  """The folder of the shipped flagfiles (`anc/`, `anc/tuned/`, `ntpt/`)."""
  return _shipped("configs")


def program_names() -> List[str]:
  """The shipped programs' names: "access", "listk", ..."""
  return sorted(path.stem for path in programs_dir().glob("*" +
                                                          PROGRAM_SUFFIX))


def program_path(name_or_path) -> pathlib.Path:
  """A program file: `name_or_path` if it exists, else the shipped one.

  "listk" and "listk.anc" name the shipped `programs/listk.anc` when no
  such file is in the working directory; anything else is returned as
  given, for the caller's "no such file" error to name.
  """
  path = pathlib.Path(name_or_path)
  if path.exists() or path.parent != pathlib.Path("."):
    return path
  shipped = programs_dir() / (path.stem + PROGRAM_SUFFIX)
  if path.suffix in ("", PROGRAM_SUFFIX) and shipped.is_file():
    return shipped
  return path


def flagfiles() -> List[pathlib.Path]:
  """Every shipped flagfile, sorted by its path under `configs_dir()`."""
  return sorted(configs_dir().rglob("*" + FLAGFILE_SUFFIX))


def relative(path: pathlib.Path) -> str:
  """`path` under `configs_dir()`, e.g. "anc/tuned/listk.flags"."""
  return os.path.relpath(path, configs_dir())
