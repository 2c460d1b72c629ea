"""A discretized program as source text (paper, Figures 1, 3 and 4).

The model's statements are specialised to one program: every Param cell
whose index is known becomes its value, an `if` chain on such a cell keeps
only the branch the program takes, and a `with x as i:` block whose body
picks params by `i` is spelled out value by value as `if x == v:` blocks
(one block per instruction, like the labels of Figure 1's solution). The
listing starts with each param's value and the probability of that value.
"""

import ast
from typing import Dict, Mapping

import numpy as np

from ntpt_keras.lang import program as ir


def listing(program: ir.Program, params: Mapping[str, object],
            confidences: Mapping[str, object]) -> str:
  """The source of the program `params` selects, with their probabilities."""
  lines = ["# params: value  # probability"]
  for declaration in program.params:
    value = params[declaration.name]
    confidence = np.round(np.asarray(confidences[declaration.name],
                                     dtype=float), 2).tolist()
    fixed = all((declaration.name, i) in program.fixed_params
                for i in declaration.cells())
    note = "fixed" if fixed else f"p = {confidence}"
    lines.append(f"{declaration.name} = {value}  # {note}")
  # Fixed params are listed above, as "fixed": their set_to_constant
  # statements are not part of the program.
  body = _Specializer(program, params).statements(
      [s for s in program.tree.body
       if isinstance(s, (ast.For, ast.If, ast.With, ast.Expr))
       and not _only_fixes_params(s)], {})
  lines.append("")
  lines.append("# the program")
  lines.append(ast.unparse(ast.fix_missing_locations(
      ast.Module(body=body, type_ignores=[]))))
  return "\n".join(lines) + "\n"


class _Specializer:
  """Rewrites statements for fixed param values (see the module doc)."""

  def __init__(self, program: ir.Program, params: Mapping[str, object]):
    self.declarations = program.declarations
    self.params = {name: np.asarray(value) for name, value in params.items()}
    self.constants: Dict[str, int] = {}
    for statement in program.tree.body:
      if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
          and isinstance(statement.targets[0], ast.Name)):
        value = self.evaluate(statement.value, {})
        if value is not None:
          self.constants[statement.targets[0].id] = value

  def evaluate(self, node, env):
    """The int value of a static expression, or None if it is not known."""
    try:
      expression = ast.fix_missing_locations(ast.Expression(body=_copy(node)))
      value = eval(compile(expression, "<listing>", "eval"),  # pylint: disable=eval-used
                   {"__builtins__": {}}, {**self.constants, **env})
    except Exception:  # pylint: disable=broad-except
      return None
    return int(value) if isinstance(value, (int, bool)) else None

  def param_value(self, node, env):
    """The value of `param[index]` if the index is known, else None."""
    if isinstance(node, ast.Name) and node.id in self.params:
      return int(self.params[node.id]) if self.params[node.id].ndim == 0 else (
          None)
    if not (isinstance(node, ast.Subscript) and isinstance(node.value,
                                                           ast.Name)
            and node.value.id in self.params):
      return None
    elements = (node.slice.elts if isinstance(node.slice, ast.Tuple)
                else [node.slice])
    index = [self.evaluate(e, env) for e in elements]
    if any(i is None for i in index):
      return None
    return int(self.params[node.value.id][tuple(index)])

  def expression(self, node, env):
    specializer = self

    class Substitute(ast.NodeTransformer):

      def visit_Subscript(self, subscript):
        value = specializer.param_value(subscript, env)
        if value is not None:
          return ast.Constant(value)
        return self.generic_visit(subscript)

      def visit_BinOp(self, binary):
        binary = self.generic_visit(binary)
        if any(isinstance(n, ast.Name) for n in ast.walk(binary)):
          return binary  # keep `T - 1` readable; fold `0 + 1`
        value = specializer.evaluate(binary, {})
        return binary if value is None else ast.Constant(value)

      def visit_Name(self, name):
        if name.id in env:
          return ast.Constant(env[name.id])
        value = specializer.param_value(name, env)
        return name if value is None else ast.Constant(value)

    return Substitute().visit(_copy(node))

  def statements(self, body, env):
    result = []
    for statement in body:
      result.extend(self.statement(statement, env))
    return result or [ast.Pass()]

  def statement(self, node, env):
    if isinstance(node, ast.If):
      taken = self.taken_branch(node, env)
      if taken is None:
        test = self.evaluate(node.test, env)
        if test is not None:  # a static test, e.g. `if a <= l:`
          taken = node.body if test else node.orelse
      if taken is not None:
        return self.statements(taken, env) if taken else []
      return [ast.If(test=self.expression(node.test, env),
                     body=self.statements(node.body, env),
                     orelse=self.statements(node.orelse, env)
                     if node.orelse else [])]
    if isinstance(node, ast.With):
      item = node.items[0]
      value = self.param_value(item.context_expr, env)
      if value is not None and isinstance(item.optional_vars, ast.Name):
        return self.statements(node.body, {**env,
                                           item.optional_vars.id: value})
    if isinstance(node, ast.With) and self.picks_params(
        node.items[0].optional_vars, node.body):
      return [self.spelled_out(node, env)]
    if isinstance(node, ast.With):
      return [ast.With(items=[ast.withitem(
          context_expr=self.expression(node.items[0].context_expr, env),
          optional_vars=node.items[0].optional_vars)],
                       body=self.statements(node.body, env))]
    if isinstance(node, ast.For):
      if self.picks_params(node.target, node.body):
        values = self.evaluate_range(node.iter, env)
        if values is not None:
          return [s for value in values for s in self.statements(
              node.body, {**env, node.target.id: value})]
      return [ast.For(target=node.target, iter=self.expression(node.iter, env),
                      body=self.statements(node.body, env), orelse=[])]
    return [self.expression(node, env)]

  def taken_branch(self, node: ast.If, env):
    """The body an `if param == k` chain takes, or None if not static."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
      return None
    value = self.param_value(test.left, env)
    expected = self.evaluate(test.comparators[0], env)
    if value is None or expected is None:
      return None
    return node.body if value == expected else node.orelse

  def evaluate_range(self, node, env):
    """The values of `range(...)` with known bounds, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "range"):
      return None
    bounds = [self.evaluate(a, env) for a in node.args]
    return None if None in bounds else range(*bounds)

  def picks_params(self, target, body) -> bool:
    """Does `body` index a param by the name `target` (of a with/for) binds?"""
    if not isinstance(target, ast.Name):
      return False
    bound = target.id
    for child in ast.walk(ast.Module(body=body, type_ignores=[])):
      if (isinstance(child, ast.Subscript) and isinstance(child.value,
                                                          ast.Name)
          and child.value.id in self.params
          and any(isinstance(n, ast.Name) and n.id == bound
                  for n in ast.walk(child.slice))):
        return True
    return False

  def spelled_out(self, node: ast.With, env):
    """`with x as i: body` as `if x == 0: body[i=0] elif x == 1: ...`."""
    item = node.items[0]
    bound = item.optional_vars.id
    selector = self.expression(item.context_expr, env)
    size = self.range_of(item.context_expr)
    chain = None
    for value in reversed(range(size)):
      test = ast.Compare(left=_copy(selector), ops=[ast.Eq()],
                         comparators=[ast.Constant(value)])
      chain = ast.If(test=test,
                     body=self.statements(node.body, {**env, bound: value}),
                     orelse=[chain] if chain else [])
    return chain

  def range_of(self, node) -> int:
    name = node.value if isinstance(node, ast.Subscript) else node
    return self.declarations[name.id].size


def _only_fixes_params(statement) -> bool:
  calls = [n for n in ast.walk(statement) if isinstance(n, ast.Call)
           and not (isinstance(n.func, ast.Name) and n.func.id == "range")]
  return bool(calls) and all(
      isinstance(call.func, ast.Attribute)
      and call.func.attr == "set_to_constant" for call in calls)


def _copy(node):
  return ast.parse(ast.unparse(node), mode="eval").body if isinstance(
      node, ast.expr) else ast.parse(ast.unparse(node)).body[0]
