"""The values a model's expressions have while it compiles.

A static value is a plain Python `int`, computed at once. A random value is
a `Random`: the id of the program node holding its marginal distribution
(`ntpt_keras.lang.program`), with the size of its range. A cell of an
InputTensor is a `TensorValue`, which only learned functions accept.
"""

import dataclasses
from typing import Tuple, Union

from ntpt_keras.lang import program as ir


@dataclasses.dataclass(frozen=True)
class Random:
  """A random value at compile time: the node holding its marginal."""
  node: int
  size: int


@dataclasses.dataclass(frozen=True)
class TensorValue:
  """A cell of an InputTensor, of the declared tensor `shape`."""
  cell: ir.TensorCell
  shape: Tuple[int, ...]


Value = Union[int, Random, TensorValue]


def cell_name(name: str, index: ir.Index) -> str:
  """`v[1, 2]` as a message names it; a scalar is just its name."""
  return name + ("[" + ", ".join(map(str, index)) + "]" if index else "")
