"""What the compiler produces: declarations, functions and a marginal graph.

A compiled model is a list of `nodes`, each the marginal distribution of one
random value, in an order where a node only refers to earlier ones:

- `Constant`: a point mass on `value` (integer literals, `set_to(3)`);
- `InputCell`, `ParamCell`: a cell of an Input (one-hot of the data) or of a
  Param (softmax of its logits, or a point mass if `set_to_constant` fixed
  it);
- `Apply`: a Runtime function applied to marginals and ints, i.e. its
  indicator tensor contracted with the argument marginals;
- `Mix`: `sum_c P(selector in values_c) * case_c`, the join of an `if` chain
  or a `with` block over a random value;
- `LearnApply`: a learned function (a Keras network) on tensor cells and
  marginals.

Nodes are hash-consed, so equal computations are one node: a learned
function reading the same tensor cell at many time steps is applied once.
"""

import ast
import dataclasses
import operator
from typing import Callable, Dict, List, Tuple, Union

import numpy as np

Index = Tuple[int, ...]
CellKey = Tuple[str, Index]

# Declaration kinds.
PARAM = "Param"
VAR = "Var"
INPUT = "Input"
OUTPUT = "Output"
INPUT_TENSOR = "InputTensor"
KINDS = (PARAM, VAR, INPUT, OUTPUT, INPUT_TENSOR)


@dataclasses.dataclass(frozen=True)
class Declaration:
  """`name = Kind(size)[shape]`; for an InputTensor `size` is its cell shape."""
  name: str
  kind: str
  size: Union[int, Tuple[int, ...]]
  shape: Index
  line: int

  def cells(self):
    return list(np.ndindex(*self.shape)) if self.shape else [()]


@dataclasses.dataclass(frozen=True)
class TensorType:
  """`Tensor(w, h)`: a float argument of a learned function."""
  shape: Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class RuntimeFunction:
  """`@Runtime([n1, ...], n_out)`: a Python function of ints, tabulated."""
  name: str
  domains: Tuple[int, ...]
  size: int
  function: Callable = dataclasses.field(compare=False, repr=False)
  # indicator[a1, ..., ak, out] = 1 iff function(a1, ..., ak) == out.
  indicator: np.ndarray = dataclasses.field(compare=False, repr=False)
  # table[a1, ..., ak] = function(a1, ..., ak).
  table: np.ndarray = dataclasses.field(compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class LearnedFunction:
  """`@Learn([Tensor(w, h) | n, ...], n_out, hid_sizes=[...])`."""
  name: str
  inputs: Tuple[Union[TensorType, int], ...]
  size: int
  hidden_sizes: Tuple[int, ...]

  @property
  def input_width(self) -> int:
    return sum(int(np.prod(arg.shape)) if isinstance(arg, TensorType) else arg
               for arg in self.inputs)

  def to_json(self) -> dict:
    return {"inputs": [{"tensor": list(arg.shape)} if isinstance(
        arg, TensorType) else arg for arg in self.inputs],
            "size": self.size, "hidden_sizes": list(self.hidden_sizes)}

  @classmethod
  def from_json(cls, name: str, spec: dict) -> "LearnedFunction":
    return cls(name=name, inputs=tuple(
        TensorType(tuple(arg["tensor"])) if isinstance(arg, dict) else arg
        for arg in spec["inputs"]), size=spec["size"],
               hidden_sizes=tuple(spec["hidden_sizes"]))


@dataclasses.dataclass(frozen=True)
class Constant:
  value: int
  size: int


@dataclasses.dataclass(frozen=True)
class InputCell:
  name: str
  index: Index
  size: int


@dataclasses.dataclass(frozen=True)
class ParamCell:
  name: str
  index: Index
  size: int


@dataclasses.dataclass(frozen=True)
class TensorCell:
  """A cell of an InputTensor array: an argument of a learned function."""
  name: str
  index: Index


@dataclasses.dataclass(frozen=True)
class Apply:
  function: str
  # A node id per random argument, an int per static one.
  args: Tuple[Tuple[str, int], ...]  # ("node", id) or ("int", value)
  size: int


@dataclasses.dataclass(frozen=True)
class Mix:
  selector: int
  # (selector values, node id) per case; the values of all cases partition
  # the selector's range.
  cases: Tuple[Tuple[Tuple[int, ...], int], ...]
  size: int


@dataclasses.dataclass(frozen=True)
class LearnApply:
  function: str
  # ("node", id) for a marginal argument, ("tensor", TensorCell) otherwise.
  args: Tuple[Tuple[str, object], ...]
  size: int


Node = Union[Constant, InputCell, ParamCell, Apply, Mix, LearnApply]


@dataclasses.dataclass
class Program:
  """A compiled model file."""
  path: str
  source: str
  # The top-level statements run: a static `if` replaced by its branch.
  tree: ast.Module
  hypers: Dict[str, int]
  declarations: Dict[str, Declaration]
  runtime_functions: Dict[str, RuntimeFunction]
  learned_functions: Dict[str, LearnedFunction]
  nodes: List[Node]
  # The node of every Output cell.
  outputs: Dict[CellKey, int]
  # Params fixed by `set_to_constant`.
  fixed_params: Dict[CellKey, int]

  def declarations_of(self, kind: str) -> List[Declaration]:
    return [d for d in self.declarations.values() if d.kind == kind]

  @property
  def params(self) -> List[Declaration]:
    return self.declarations_of(PARAM)

  def learned_params(self) -> List[Declaration]:
    """Params with at least one cell not fixed by `set_to_constant`."""
    return [d for d in self.params
            if any((d.name, i) not in self.fixed_params for i in d.cells())]

  def called_functions(self) -> List[str]:
    """The learned functions some call site applies, in declaration order.

    A function only called in branches that fixed params rule out is
    declared but not called (the compiler folds fixed params).
    """
    called = {node.function for node in self.nodes
              if isinstance(node, LearnApply)}
    return [name for name in self.learned_functions if name in called]


def runtime_indicator(name: str, function: Callable, domains, size: int,
                      on_error: Callable[[str], Exception]):
  """Tabulates `function` over its domains: (table, indicator).

  Whatever the function does (raise, return a non-int or a value out of
  range) is an error made by `on_error`, except a KeyboardInterrupt.
  """
  table = np.zeros(tuple(domains), dtype=np.int64)
  for args in np.ndindex(*domains):
    args = tuple(int(a) for a in args)
    try:
      result = function(*args)
      # An exact int: an int subclass could compare or print as it likes.
      value = (int(result) if isinstance(result, np.bool_) else
               operator.index(result) if isinstance(result, (int, np.integer))
               else None)
    except KeyboardInterrupt:
      raise
    except BaseException as error:  # pylint: disable=broad-except
      raise on_error(f"Runtime function {name} raised "
                     f"{describe_exception(error)} for arguments "
                     f"{_arguments(args)}") from None
    if value is None or not 0 <= value < size:
      raise on_error(f"Runtime function {name} returned "
                     f"{value if value is not None else _shown(result)} for "
                     f"arguments {_arguments(args)}, outside its range "
                     f"[0, {size})")
    table[args] = value
  indicator = np.zeros(tuple(domains) + (size,), dtype=np.float32)
  np.put_along_axis(indicator, table[..., None], 1.0, axis=-1)
  return table, indicator


def describe_exception(error: BaseException) -> str:
  """`Type: message` of an exception raised by model code, even one whose
  message cannot be formatted."""
  try:
    return f"{type(error).__name__}: {error}"
  except Exception:  # pylint: disable=broad-except
    return type(error).__name__


def _shown(value) -> str:
  """`repr(value)`, shortened, or its type where it has no repr."""
  try:
    text = repr(value)
  except Exception:  # pylint: disable=broad-except
    return f"a {type(value).__name__}"
  return text if len(text) <= 60 else text[:57] + "..."


def _arguments(args) -> str:
  return "(" + ", ".join(str(a) for a in args) + ")"
