"""Calls: the static builtins, Runtime, learned and inline functions.

`f(args)` in an expression is one of:

- `min`, `max`, `abs` or `int` on ints: computed now;
- a Runtime function: an `Apply` node (or, on ints only, the constant its
  table holds);
- a learned function: a `LearnApply` node, its network's output;
- an `@Inline` function: its body compiled in place, its parameters bound
  to the arguments' values. An inline function may not call itself,
  directly or not: expanding it would never end.
"""

import ast

from ntpt_keras.lang import program as ir
from ntpt_keras.lang.errors import snippet
from ntpt_keras.lang.values import Random, TensorValue, Value

# Static functions a model may call on ints, besides its own, with the
# least and most arguments each takes.
_STATIC_BUILTINS = {"min": (min, 2, None), "max": (max, 2, None),
                    "abs": (abs, 1, 1), "int": (int, 1, 1)}


class Calls:
  """Compiling calls; mixed into the compiler.

  Reads the functions (`definitions.Definitions`); pushes a scope and an
  entry of `inlining` per inline call; uses `expression`, `static`,
  `as_random` (`expressions.Expressions`), `statements`
  (`statements.Statements`) and `usage` (`limits.Usage`).
  """

  def call(self, node: ast.Call) -> Value:
    if not isinstance(node.func, ast.Name):
      raise self.error(node, f"cannot call {snippet(node.func)}")
    name = node.func.id
    if node.keywords:
      raise self.error(node, f"{name} takes positional arguments")
    if name in _STATIC_BUILTINS and self.lookup(name) is None:
      return self.apply_static_builtin(node, name)
    if name in self.runtime_functions:
      return self.apply_runtime(node, self.runtime_functions[name])
    if name in self.learned_functions:
      return self.apply_learned(node, self.learned_functions[name])
    if name in self.inline_functions:
      return self.apply_inline(node, self.inline_functions[name].definition)
    if name in ir.KINDS or name == "Tensor":
      raise self.error(node, f"{name}(...) declares a variable at the top "
                       f"level: `x = {name}(...)`")
    raise self.error(node.func, f"unknown function {name!r}")

  def apply_static_builtin(self, node: ast.Call, name: str) -> int:
    function, least, most = _STATIC_BUILTINS[name]
    count = len(node.args)
    if count < least or most is not None and count > most:
      takes = (f"{least}" if least == most else f"{least} or more")
      raise self.error(node, f"{name} takes {takes} argument"
                       f"{'s' if takes != '1' else ''}, got {count}")
    args = [self.static(a, f"an argument of {name}") for a in node.args]
    return function(*args)

  def apply_runtime(self, node, function: ir.RuntimeFunction) -> Random:
    if len(node.args) != len(function.domains):
      raise self.error(node, f"{function.name} takes "
                       f"{len(function.domains)} arguments, got "
                       f"{len(node.args)}")
    args = []
    for position, (arg, domain) in enumerate(zip(node.args,
                                                 function.domains), 1):
      value = self.expression(arg)
      what = f"argument {position} of {function.name}"
      if isinstance(value, int):
        if not 0 <= value < domain:
          raise self.error(arg, f"{what} is {value}, outside its domain "
                           f"[0, {domain})")
        args.append(("int", value))
      elif isinstance(value, Random):
        if value.size != domain:
          raise self.error(arg, f"size mismatch: {what} has range "
                           f"{value.size} but {function.name} declares "
                           f"domain {domain}")
        constant = self.nodes[value.node]
        args.append(("int", constant.value) if isinstance(
            constant, ir.Constant) else ("node", value.node))
      else:
        raise self.error(arg, f"{what} must be an int or a random value, "
                         "not a tensor")
    if all(kind == "int" for kind, _ in args):
      result = function.table[tuple(v for _, v in args)]
      return self.constant(int(result), function.size)
    return self.add_node(ir.Apply(function.name, tuple(args), function.size))

  def apply_learned(self, node, function: ir.LearnedFunction) -> Random:
    if len(node.args) != len(function.inputs):
      raise self.error(node, f"{function.name} takes "
                       f"{len(function.inputs)} arguments, got "
                       f"{len(node.args)}")
    args = []
    for position, (arg, expected) in enumerate(zip(node.args,
                                                   function.inputs), 1):
      value = self.expression(arg)
      what = f"argument {position} of {function.name}"
      if isinstance(expected, ir.TensorType):
        if not isinstance(value, TensorValue):
          raise self.error(arg, f"{what} must be a Tensor{expected.shape}, "
                           "a cell of an InputTensor")
        if value.shape != expected.shape:
          raise self.error(arg, f"size mismatch: {what} is a tensor of shape "
                           f"{value.shape} but {function.name} declares "
                           f"Tensor{expected.shape}")
        args.append(("tensor", value.cell))
      else:
        random = self.as_random(value, expected, arg, what)
        args.append(("node", random.node))
    return self.add_node(ir.LearnApply(function.name, tuple(args),
                                       function.size))

  def apply_inline(self, node, definition: ast.FunctionDef) -> Value:
    name = definition.name
    if name in self.inlining:
      cycle = self.inlining[self.inlining.index(name):] + [name]
      raise self.error(node, f"@Inline function {name} calls itself "
                       f"({' -> '.join(cycle)}): inline functions are "
                       "expanded, so they cannot recurse")
    parameters = [a.arg for a in definition.args.args]
    if len(node.args) != len(parameters):
      raise self.error(node, f"{name} takes {len(parameters)} "
                       f"arguments, got {len(node.args)}")
    *body, last = definition.body
    if not isinstance(last, ast.Return) or last.value is None or any(
        isinstance(n, ast.Return) for s in body for n in ast.walk(s)):
      raise self.error(definition, f"@Inline function {name} "
                       "returns a value once, at the end of its body")
    # Nested inline calls can expand exponentially without a statement.
    self.usage.step(node)
    self.scopes.append({p: self.expression(a)
                        for p, a in zip(parameters, node.args)})
    self.inlining.append(name)
    self.statements(body)
    result = self.expression(last.value)
    self.inlining.pop()
    self.scopes.pop()
    return result
