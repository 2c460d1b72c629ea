"""Reading a model file: its syntax tree with `Hyper()` values bound.

NTPT model files are TerpreT model files: Python source whose sizes may be
declared `name = Hyper()` and bound from a hypers JSON file
(`{config_name: {hyper: value}}`). Both the compiler and the plain-Python
runner start from the tree `load` returns, in which every `Hyper()` is
replaced by its value and the `from dummy import ...` header is gone.
"""

import ast
import dataclasses
import json
import re
import sys
import warnings
from typing import Mapping, Optional

from ntpt_keras.lang import limits
from ntpt_keras.lang.errors import ModelError, error_at

# The header TerpreT model files start with, to please Python linters.
DUMMY_MODULE = "dummy"


@dataclasses.dataclass(frozen=True)
class ModelSource:
  """A model file's text and its tree with hypers bound."""
  path: str
  text: str
  tree: ast.Module
  hypers: Mapping[str, int]


def read_json(path: str):
  """A JSON file's value; malformed JSON is a `ModelError` at its position."""
  with open(path) as f:
    try:
      return json.load(f)
    except json.JSONDecodeError as error:
      raise ModelError(f"not valid JSON: {error.msg}", path, error.lineno,
                       error.colno) from None
    except ValueError as error:  # A number too long for Python to read.
      raise ModelError(f"not valid JSON: {error}", path, 1, 1) from None


def read_hypers(path: str, config: Optional[str]) -> dict:
  """The hyper values of `config` in a hypers JSON file.

  With `config` None the file must hold exactly one config.
  """
  configs = read_json(path)
  if not isinstance(configs, dict) or not all(
      isinstance(values, dict) for values in configs.values()):
    raise ModelError("a hypers file maps config names to {hyper: value}",
                     path, 1, 1)
  if config is None:
    if len(configs) != 1:
      raise ModelError(
          f"the file has {len(configs)} configs ({', '.join(configs)}); "
          "choose one with --hypers", path, 1, 1)
    config = next(iter(configs))
  if config not in configs:
    raise ModelError(f"no hypers config {config!r} (the file has "
                     f"{', '.join(configs)})", path, 1, 1)
  return {"name": config, "values": dict(configs[config])}


def load(path: str, hypers: Optional[Mapping[str, int]] = None,
         text: Optional[str] = None) -> ModelSource:
  """Parses a model file and binds its `Hyper()` declarations."""
  if text is None:
    text = _read_text(path)
  tree = _parse(text, path)
  hypers = dict(hypers or {})
  body = []
  for statement in tree.body:
    if (isinstance(statement, ast.ImportFrom)
        and statement.module == DUMMY_MODULE):
      continue
    if (isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Name)
        and statement.value.func.id == "Hyper"):
      if len(statement.targets) != 1 or not isinstance(statement.targets[0],
                                                       ast.Name):
        raise error_at(statement, path, "a Hyper() is assigned to one name")
      name = statement.targets[0].id
      if name not in hypers:
        raise error_at(statement, path,
                       f"hyper {name!r} has no value (give a hypers file and "
                       "config that sets it)")
      value = hypers[name]
      if not isinstance(value, int) or isinstance(value, bool):
        raise error_at(statement, path,
                       f"hyper {name!r} must be an integer, got {value!r}")
      limits.check_int(value, lambda node, message: error_at(
          node, path, message), statement, f"hyper {name!r}")
      statement = ast.copy_location(
          ast.Assign(targets=statement.targets,
                     value=ast.copy_location(ast.Constant(value),
                                             statement.value)), statement)
    body.append(statement)
  # Every node has its location: parsed, or copied onto a bound hyper.
  tree = ast.Module(body=body, type_ignores=[])
  return ModelSource(path=path, text=text, tree=tree, hypers=hypers)


def _read_text(path: str) -> str:
  """The file's UTF-8 text, with newlines read as text mode reads them."""
  with open(path, "rb") as f:
    data = f.read()
  try:
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
  except UnicodeDecodeError as error:
    line = data.count(b"\n", 0, error.start) + 1
    column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
    raise ModelError(f"not UTF-8 text: byte {data[error.start]:#04x}", path,
                     line, column) from None


def _parse(text: str, path: str) -> ast.Module:
  """The syntax tree of `text`; any failure is a located `ModelError`."""
  try:
    with warnings.catch_warnings():
      # Python's warnings on odd literals (`1if`, `"\d"`) are not the
      # model's errors, and would be printed on every compile.
      warnings.simplefilter("ignore")
      return ast.parse(text, filename=path)
  except (SyntaxError, ValueError) as error:
    # Python 3.11 refuses a null character, unlocated, with either.
    if "\0" in text:
      before = text[:text.index("\0")]
      raise ModelError("invalid syntax: a null character", path,
                       before.count("\n") + 1,
                       len(before) - before.rfind("\n")) from None
    if isinstance(error, ValueError):
      raise ModelError(f"invalid syntax: {error}", path, 1, 1) from None
    message, line = error.msg, error.lineno or 1
    column = error.offset or 1
    if "integer string conversion" in message:
      # Python's advice (sys.set_int_max_str_digits) is not the model's,
      # and it points at the line only.
      limit = sys.get_int_max_str_digits()
      message = f"an integer literal has more than {limit} digits"
      literal = re.search(r"\d{%d,}" % (limit + 1), text.split("\n")[line - 1])
      column = literal.start() + 1 if literal else column
    raise ModelError(f"invalid syntax: {message}", path, line,
                     column) from None
  except (MemoryError, RecursionError):
    raise ModelError("the model is nested too deeply for Python's parser",
                     path, 1, 1) from None
