"""Expressions: static int arithmetic and reading the cells of declarations.

An expression's value is an int, computed now, or a random value (a node of
the program graph; see `values`). Operators only apply to ints: arithmetic
on random values is what Runtime functions are for. Python's int arithmetic
is bounded here (`limits.MAX_INT`), and its corners that are not ints
(`2 ** -1`, `1 << -1`, division by zero) are errors at the operator.
"""

import ast
from typing import Tuple

from ntpt_keras.lang import limits
from ntpt_keras.lang import program as ir
from ntpt_keras.lang.errors import snippet
from ntpt_keras.lang.values import Random, TensorValue, Value, cell_name

_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
           ast.Mod: lambda a, b: a % b, ast.Pow: lambda a, b: a ** b,
           ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b,
           ast.BitXor: lambda a, b: a ^ b, ast.LShift: lambda a, b: a << b,
           ast.RShift: lambda a, b: a >> b}
_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
            ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
            ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}
_UNARY = {ast.USub: lambda v: -v, ast.UAdd: lambda v: v,
          ast.Not: lambda v: int(not v), ast.Invert: lambda v: ~v}
# The operators Python has and the language has not.
_PYTHON_ONLY = {ast.Div: "/", ast.MatMult: "@", ast.In: "in",
                ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
# A power of |base| > 1 with a larger exponent, or a nonzero int shifted
# left further, has more bits than MAX_INT: refused before it is computed.
_MAX_BITS = limits.MAX_INT.bit_length()


def index_elements(index):
  """The elements of the index of `x[i]` or `x[i, j]`."""
  return list(index.elts) if isinstance(index, ast.Tuple) else [index]


class Expressions:
  """Evaluating expressions; mixed into the compiler.

  Reads `declarations`, `constants`, `scopes`, `cells`, `partial` and
  `fixed_params`; `add_node` and `constant` build nodes, `call` compiles
  calls (`calls.Calls`).
  """

  def lookup(self, name: str):
    """A name bound by `for`, `with`, an inline call or a constant."""
    for scope in reversed(self.scopes):
      if name in scope:
        return scope[name]
    return self.constants.get(name)

  def expression(self, node) -> Value:
    if isinstance(node, ast.Constant):
      if isinstance(node.value, bool):
        return int(node.value)
      if not isinstance(node.value, int):
        raise self.error(node, "only integer literals are values, not "
                         f"{snippet(node)}")
      return limits.check_int(node.value, self.error, node,
                              "the integer literal")
    if isinstance(node, ast.Name):
      value = self.lookup(node.id)
      if value is not None:
        return value
      if node.id in self.declarations:
        return self.read(node, self.declarations[node.id], ())
      if node.id in self.functions():
        raise self.error(node, f"{node.id} is a function; call it")
      raise self.error(node, f"unknown name {node.id!r}")
    if isinstance(node, ast.Subscript):
      declaration, index = self.cell_reference(node)
      return self.read(node, declaration, index)
    if isinstance(node, ast.Call):
      return self.call(node)
    if isinstance(node, ast.BinOp):
      return self.binary_operation(node)
    if isinstance(node, ast.UnaryOp):
      operand = self.static(node.operand, "the operand", of=node)
      return limits.check_int(_UNARY[type(node.op)](operand), self.error,
                              node)
    if isinstance(node, ast.Compare):
      return self.comparison(node)
    if isinstance(node, ast.BoolOp):
      values = [self.static(e, "an operand", of=node) for e in node.values]
      return int(all(values) if isinstance(node.op, ast.And) else
                 any(values))
    if isinstance(node, ast.IfExp):
      return self.expression(node.body if self.static(node.test, "a test")
                             else node.orelse)
    raise self.error(node, f"{snippet(node)} is not an expression of the "
                     "language")

  def binary_operation(self, node: ast.BinOp) -> int:
    op = type(node.op)
    if op not in _BINARY:
      raise self.error(node, f"{snippet(node)}: `{_PYTHON_ONLY[op]}` is not "
                       "an operator of the language (its operators are + - * "
                       "// % ** & | ^ << >>)")
    left = self.static(node.left, "an operand", of=node)
    right = self.static(node.right, "an operand", of=node)
    if op in (ast.FloorDiv, ast.Mod) and right == 0:
      raise self.error(node, f"division by zero in {snippet(node)}")
    if op in (ast.LShift, ast.RShift) and right < 0:
      raise self.error(node, f"negative shift count in {snippet(node)}")
    if op is ast.Pow and right < 0:
      raise self.error(node, f"negative exponent in {snippet(node)}: static "
                       "values are ints")
    if (op is ast.Pow and abs(left) > 1 and right > _MAX_BITS
        or op is ast.LShift and left and right > _MAX_BITS):
      raise self.error(node, f"{snippet(node)} is outside the static ints "
                       "[-(2**63 - 1), 2**63 - 1]")
    return limits.check_int(_BINARY[op](left, right), self.error, node)

  def comparison(self, node: ast.Compare) -> int:
    for op in node.ops:
      if type(op) not in _COMPARE:
        raise self.error(node, f"{snippet(node)}: "
                         f"`{_PYTHON_ONLY[type(op)]}` is not a comparison of "
                         "the language (its comparisons are == != < <= > >=)")
    values = [self.static(e, "a compared value") for e in
              [node.left] + node.comparators]
    return int(all(_COMPARE[type(op)](a, b) for op, a, b in
                   zip(node.ops, values, values[1:])))

  def static(self, node, what: str, of=None) -> int:
    """The value of `node`, which must be an int: `what` (`of` the code of
    node `of`, quoted only in an error, as quoting takes time)."""
    value = self.expression(node)
    if not isinstance(value, int):
      what = f"{what} of {snippet(of)}" if of is not None else what
      raise self.error(node, f"{what} must be a constant int, but "
                       f"{snippet(node)} is random (bind it with "
                       f"`with {snippet(node)} as i:`)")
    return value

  def as_random(self, value: Value, size: int, node, what: str) -> Random:
    """`value` as a random value of range `size` (an int as a constant)."""
    if isinstance(value, int):
      if not 0 <= value < size:
        raise self.error(node, f"{what} is {value}, outside the range "
                         f"[0, {size})")
      return self.constant(value, size)
    if isinstance(value, TensorValue):
      raise self.error(node, f"{what} must be an int or a random value, not "
                       "a tensor")
    if value.size != size:
      raise self.error(node, f"size mismatch: {what} has range {size} but "
                       f"{snippet(node)} has range {value.size}")
    return value

  def cell_reference(self, node) -> Tuple[ir.Declaration, ir.Index]:
    """The declaration and static index of `x` or `x[i, j]`."""
    if isinstance(node, ast.Name):
      base, elements = node, []
    elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
      base, elements = node.value, index_elements(node.slice)
    else:
      raise self.error(node, f"{snippet(node)} is not a cell of a declared "
                       "variable")
    declaration = self.declarations.get(base.id)
    if declaration is None:
      if self.lookup(base.id) is not None or base.id in self.functions():
        raise self.error(base, f"{base.id} is not a declared variable")
      raise self.error(base, f"unknown name {base.id!r}")
    if len(elements) != len(declaration.shape):
      raise self.error(node, f"{base.id} has {len(declaration.shape)} "
                       f"dimension{'s' if len(declaration.shape) != 1 else ''}"
                       f" {declaration.shape}, indexed with {len(elements)}")
    index = []
    for element, dimension in zip(elements, declaration.shape):
      value = self.expression(element)
      if not isinstance(value, int):
        raise self.error(element, f"the index {snippet(element)} of "
                         f"{base.id} is random; bind it first with `with "
                         f"{snippet(element)} as i:`")
      if not 0 <= value < dimension:
        raise self.error(element, f"index {value} of {base.id} is outside "
                         f"[0, {dimension})")
      index.append(value)
    return declaration, tuple(index)

  def read(self, node, declaration: ir.Declaration, index) -> Value:
    """The value of a cell: its node, or an int for a fixed Param."""
    key = (declaration.name, index)
    label = cell_name(*key)
    if declaration.kind == ir.PARAM:
      if key in self.fixed_params:
        # A static value: `if` and `with` on it compile one branch only, so
        # e.g. a network a fixed choice never picks is never called.
        return self.fixed_params[key]
      return self.add_node(ir.ParamCell(declaration.name, index,
                                        declaration.size))
    if declaration.kind == ir.INPUT:
      return self.add_node(ir.InputCell(declaration.name, index,
                                        declaration.size))
    if declaration.kind == ir.INPUT_TENSOR:
      return TensorValue(ir.TensorCell(declaration.name, index),
                         declaration.size)
    if key in self.cells:
      return Random(self.cells[key], declaration.size)
    if key in self.partial:
      raise self.error(node, f"{label} is read where it may be unset: it is "
                       f"set only in some branches of line "
                       f"{self.partial[key]}")
    raise self.error(node, f"{label} is read before it is set")
