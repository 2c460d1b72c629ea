"""Runs a model file as plain Python on one instance: the discrete reference.

Every random value is a concrete int here: Params take the values of a
discrete program, Inputs the instance's values, learned functions are given
as Python callables (e.g. the argmax of a trained network), and the model's
own statements (`set_to`, `if x == k`, `with x as i`) run as written. The
compiled Keras model must agree with this runner whenever its params are
one-hot; the trainer uses it to score discretized programs.
"""

import ast
import builtins
import functools
from typing import Callable, Dict, Mapping, Optional

import numpy as np

from ntpt_keras.lang import program as ir


class RunError(ValueError):
  """The program did something the model forbids (an unset read, ...)."""


class TensorInput:
  """A cell of an InputTensor: what a learned function receives."""

  def __init__(self, name, index, data):
    self.name, self.index, self.data = name, index, data


class _Cell:
  """One cell holding an int once set; behaves as that int when read."""

  def __init__(self, label: str, size: int, settable: bool, value=None):
    self.label, self.size, self.settable, self.value = (label, size,
                                                        settable, value)

  def get(self) -> int:
    if self.value is None:
      raise RunError(f"{self.label} is read before it is set")
    return self.value

  def set_to(self, value):
    value = _int(value)
    if not self.settable:
      raise RunError(f"cannot set {self.label}")
    if self.value is not None:
      raise RunError(f"{self.label} is set twice")
    if not 0 <= value < self.size:
      raise RunError(f"{self.label} set to {value}, outside [0, {self.size})")
    self.value = value

  def set_to_constant(self, value):
    """Fixed params already hold their constant (see `run`)."""

  def __enter__(self):
    return self.get()

  def __exit__(self, *unused):
    return False

  def __index__(self):
    return self.get()

  __int__ = __index__

  def __eq__(self, other):
    return self.get() == _int(other)

  def __hash__(self):
    return hash(self.get())


def _int(value) -> int:
  return value.get() if isinstance(value, _Cell) else int(value)


class _Array:
  """A declared array: indexing gives its cells (no Python wrap-around)."""

  def __init__(self, declaration: ir.Declaration, make_cell):
    self.declaration = declaration
    self.cells = {index: make_cell(index) for index in declaration.cells()}

  def __getitem__(self, index):
    index = tuple(_int(i) for i in (index if isinstance(index, tuple)
                                    else (index,)))
    if index not in self.cells:
      raise RunError(f"{self.declaration.name}{list(index)} is outside the "
                     f"shape {self.declaration.shape}")
    return self.cells[index]


class Runner:
  """Runs one compiled model's source on instances, one at a time."""

  def __init__(self, program: ir.Program):
    self.program = program
    # Declarations and Runtime/Learn functions are bound by the runner; the
    # rest of the module (constants, @Inline functions, statements) runs.
    skipped_functions = (set(program.runtime_functions)
                         | set(program.learned_functions))
    body = [s for s in program.tree.body
            if not (isinstance(s, ast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], ast.Name)
                    and s.targets[0].id in program.declarations)
            and not (isinstance(s, ast.FunctionDef)
                     and s.name in skipped_functions)]
    self.code = compile(ast.Module(body=body, type_ignores=[]), program.path,
                        "exec")

  def __call__(self, params: Mapping[str, object],
               inputs: Mapping[str, object],
               learned: Optional[Mapping[str, Callable]] = None
               ) -> Dict[str, object]:
    """The Outputs of the model on one instance, as ints or nested lists.

    `params` maps every learned Param to an int or nested lists of ints;
    `inputs` maps Inputs (ints) and InputTensors (arrays of shape
    `shape + size`) to this instance's values; `learned` maps each learned
    function to a callable taking `TensorInput`s and ints, returning an int.
    """
    program = self.program
    learned = learned or {}
    namespace = {"__builtins__": builtins, "Inline": _inline_decorator}
    outputs = {}
    for declaration in program.declarations.values():
      namespace[declaration.name] = _declare(program, declaration, params,
                                             inputs, outputs)
    for function in program.runtime_functions.values():
      namespace[function.name] = _runtime(function)
    for name, function in program.learned_functions.items():
      namespace[name] = _learned(function, learned.get(name, functools.partial(
          _unimplemented, name)))
    exec(self.code, namespace)  # pylint: disable=exec-used
    return {name: (cells[()].get() if () in cells else
                   _nested(program.declarations[name].shape,
                           lambda i, c=cells: c[i].get()))
            for name, cells in outputs.items()}


def _declare(program, declaration, params, inputs, outputs):
  """The runtime object of one declaration."""
  name, kind = declaration.name, declaration.kind
  if kind == ir.INPUT_TENSOR:
    data = np.asarray(inputs[name], dtype=np.float32)
    return _TensorArray(name, data)

  def make_cell(index):
    label = name + (str(list(index)) if index else "")
    value = None
    if kind == ir.INPUT:
      value = _at(inputs[name], index)
    elif kind == ir.PARAM:
      fixed = program.fixed_params.get((name, index))
      value = fixed if fixed is not None else _at(params[name], index)
    return _Cell(label, declaration.size, kind in (ir.VAR, ir.OUTPUT),
                 None if value is None else int(value))

  array = _Array(declaration, make_cell)
  if kind == ir.OUTPUT:
    outputs[name] = array.cells
  # A scalar declaration is its one cell.
  return array.cells[()] if not declaration.shape else array


class _TensorArray:

  def __init__(self, name, data):
    self.name, self.data = name, data

  def __getitem__(self, index):
    index = tuple(_int(i) for i in (index if isinstance(index, tuple)
                                    else (index,)))
    return TensorInput(self.name, index, self.data[index])


def _at(value, index):
  for i in index:
    value = value[i]
  return value


def _nested(shape, get, prefix=()):
  if len(prefix) == len(shape):
    return get(prefix)
  return [_nested(shape, get, prefix + (i,)) for i in range(shape[len(prefix)])]


def _runtime(function: ir.RuntimeFunction):
  def call(*args):
    args = tuple(_int(a) for a in args)
    for position, (arg, domain) in enumerate(zip(args, function.domains), 1):
      if not 0 <= arg < domain:
        raise RunError(f"argument {position} of {function.name} is {arg}, "
                       f"outside [0, {domain})")
    result = function.function(*args)
    return int(result)
  return call


def _learned(function: ir.LearnedFunction, implementation):
  def call(*args):
    args = [a if isinstance(a, TensorInput) else _int(a) for a in args]
    result = int(implementation(*args))
    if not 0 <= result < function.size:
      raise RunError(f"{function.name} returned {result}, outside "
                     f"[0, {function.size})")
    return result
  return call


def _inline_decorator(*args):
  """`@Inline` and `@Inline()`: the function runs as ordinary Python."""
  if len(args) == 1 and callable(args[0]):
    return args[0]
  return lambda function: function


def _unimplemented(name, *args):
  del args
  raise RunError(f"no implementation given for learned function {name}")
