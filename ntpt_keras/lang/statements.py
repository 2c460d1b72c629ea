"""Statements: setting cells, binding names, and unrolling blocks.

Statements run in order, as Python would run them: `x.set_to(v)` records
the node of `v` as the cell's value, `for` loops over static ranges unroll,
`with` blocks and `if` chains on a random value compile their bodies once
per branch (joined by `branches.Branches`), and a static `if` compiles the
branch it takes. Every statement compiled counts towards
`limits.MAX_STEPS`, so no model unrolls forever.
"""

import ast

from ntpt_keras.lang import program as ir
from ntpt_keras.lang import source as source_lib
from ntpt_keras.lang.errors import snippet
from ntpt_keras.lang.values import Random, cell_name


class Statements:
  """Compiling statements; mixed into the compiler.

  Sets `cells`, `set_at`, `fixed_params`, `constants` and the innermost
  scope; uses `expression` and friends (`expressions.Expressions`),
  `branches` and `random_chain` (`branches.Branches`) and the definitions
  (`definitions.Definitions`).
  """

  def statements(self, body):
    for statement in body:
      self.statement(statement)

  def statement(self, node, top_level=False):
    self.current_statement = node
    self.usage.step(node)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
      raise self.error(node, "a model file imports nothing (only the "
                       f"`from {source_lib.DUMMY_MODULE} import ...` header)")
    if isinstance(node, ast.FunctionDef):
      if not top_level:
        raise self.error(node, "functions are defined at the top level")
      self.function_definition(node)
    elif isinstance(node, ast.Assign):
      self.assignment(node, top_level)
    elif isinstance(node, ast.Expr):
      self.expression_statement(node)
    elif isinstance(node, ast.For):
      self.for_loop(node)
    elif isinstance(node, ast.If):
      self.if_statement(node)
    elif isinstance(node, ast.With):
      self.with_statement(node)
    elif isinstance(node, ast.Pass):
      pass
    elif isinstance(node, ast.Return):
      raise self.error(node, "return outside a function")
    else:
      raise self.error(node, f"{type(node).__name__} statements are not part "
                       "of the language")

  def assignment(self, node: ast.Assign, top_level: bool):
    """`name = value`: a declaration or constant at the top level, else a
    local name of the innermost scope."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
      raise self.error(node, "assign to one name (cells are set with "
                       "`x.set_to(...)`)")
    name = node.targets[0].id
    if name in self.declarations:
      raise self.error(node.targets[0], f"{name} is a declared "
                       f"{self.declarations[name].kind}; set its cells with "
                       f"{name}.set_to(...)")
    declaration = self.declaration(name, node.value) if top_level else None
    if declaration is not None:
      self.declarations[name] = declaration
      return
    value = self.expression(node.value)
    if top_level:
      if not isinstance(value, int):
        raise self.error(node.value, f"the constant {name} must be an int")
      self.constants[name] = value
    else:
      self.scopes[-1][name] = value

  def expression_statement(self, node: ast.Expr):
    call = node.value
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        and call.func.attr in ("set_to", "set_to_constant")):
      declaration, index = self.cell_reference(call.func.value)
      if len(call.args) != 1 or call.keywords:
        raise self.error(call, f"{call.func.attr} takes one value")
      if call.func.attr == "set_to":
        self.set_to(call, declaration, index, call.args[0])
      else:
        self.set_to_constant(call, declaration, index, call.args[0])
      return
    if isinstance(call, ast.Constant) and isinstance(call.value, str):
      return  # A docstring.
    raise self.error(node, "a statement is `cell.set_to(value)`, a "
                     "declaration, an if/with/for block or a function")

  def set_to(self, call, declaration: ir.Declaration, index, value_node):
    key = (declaration.name, index)
    label = cell_name(*key)
    if declaration.kind not in (ir.VAR, ir.OUTPUT):
      hint = (" (fix it with set_to_constant)"
              if declaration.kind == ir.PARAM else "")
      raise self.error(call, f"cannot set {declaration.kind} {label}: only "
                       f"Vars and Outputs are set{hint}")
    value = self.expression(value_node)
    random = self.as_random(value, declaration.size, value_node,
                            f"the value of {label}")
    if key in self.cells:
      raise self.error(call, f"{label} is set twice (first at line "
                       f"{self.set_at[key]})")
    if key in self.partial:
      raise self.error(call, f"{label} is set twice (first in some branches "
                       f"of line {self.partial[key]})")
    self.cells[key] = random.node
    self.set_at[key] = call.lineno

  def set_to_constant(self, call, declaration, index, value_node):
    label = cell_name(declaration.name, index)
    if declaration.kind != ir.PARAM:
      raise self.error(call, f"set_to_constant fixes Params; {label} is a "
                       f"{declaration.kind}")
    value = self.static(value_node, f"the constant of {label}")
    if not 0 <= value < declaration.size:
      raise self.error(value_node, f"{label} is fixed to {value}, outside "
                       f"its range [0, {declaration.size})")
    self.fixed_params[(declaration.name, index)] = value

  def for_loop(self, node: ast.For):
    if not isinstance(node.target, ast.Name):
      raise self.error(node.target, "a for loop binds one name")
    if node.orelse:
      raise self.error(node, "for ... else is not part of the language")
    iterable = node.iter
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func,
                                                         ast.Name)
            and iterable.func.id == "range" and not iterable.keywords
            and 1 <= len(iterable.args) <= 3):
      raise self.error(iterable, "a for loop runs over range(...) of "
                       "constants")
    bounds = [self.static(a, "a range bound") for a in iterable.args]
    if len(bounds) == 3 and bounds[2] == 0:
      raise self.error(iterable.args[2], "the step of range(...) is 0")
    for value in range(*bounds):
      self.scoped({node.target.id: value}, node.body)

  def scoped(self, names, body):
    """Compiles `body` with `names` bound in a scope of its own."""
    self.scopes.append(names)
    self.statements(body)
    self.scopes.pop()

  def with_statement(self, node: ast.With):
    if len(node.items) != 1 or not isinstance(node.items[0].optional_vars,
                                              ast.Name):
      raise self.error(node, "write `with cell as name:` with one cell")
    item = node.items[0]
    name = item.optional_vars.id
    value = self.expression(item.context_expr)
    if isinstance(value, int):
      self.scoped({name: value}, node.body)
      return
    if not isinstance(value, Random):
      raise self.error(item.context_expr, "`with` takes a random cell or an "
                       f"int, not {snippet(item.context_expr)}")
    self.branches(node, value, [
        ((i,), lambda i=i: self.scoped({name: i}, node.body))
        for i in range(value.size)])

  def if_statement(self, node: ast.If):
    chain = self.random_chain(node)
    if chain is None:
      taken = node.body if self.static(node.test, "an if test") else (
          node.orelse)
      self.statements(taken)
      return
    selector, label, cases, orelse = chain
    covered = [value for value, _ in cases]
    rest = tuple(v for v in range(selector.size) if v not in covered)
    if not orelse and rest:
      raise self.error(node, f"the if chain on {label} has no else and does "
                       f"not cover {', '.join(map(str, rest))} of its range "
                       f"[0, {selector.size})")
    # Each branch has a scope: a name it binds is local to it, as a cell
    # set in only some branches is.
    branches = [((value,), lambda body=body: self.scoped({}, body))
                for value, body in cases]
    if orelse:
      branches.append((rest, lambda: self.scoped({}, orelse)))
    self.branches(node, selector, branches)
