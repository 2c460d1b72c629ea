"""Model file → `Program`: the model's Python source, evaluated symbolically.

The compiler walks the syntax tree the way Python would run it, with two
kinds of values:

- static ints (literals, constants, hypers, `for` and `with` variables) are
  plain Python values, computed now: loops unroll, index expressions and
  `if p < n:` on them are ordinary Python;
- random values (cells of Param, Var, Input, Output and the results of
  Runtime and learned functions) are marginal distributions, represented by
  nodes of the program graph (`ntpt_keras.lang.program`).

An `if` chain on a random cell and a `with cell as i:` block compile their
branches one after the other from the same state; a cell set in every branch
becomes the mixture of the branches' values, weighted by the selector's
marginal, and a cell set in only some of them can no longer be read.
Every error names the file, line and column of the construct at fault.
"""

import ast
import builtins
import dataclasses
from typing import Dict, List, Optional, Tuple, Union

from ntpt_keras.lang import program as ir
from ntpt_keras.lang import source as source_lib
from ntpt_keras.lang.errors import error_at

# Static functions a model may call on ints, besides its own.
_STATIC_BUILTINS = {"min": min, "max": max, "abs": abs, "int": int}


@dataclasses.dataclass(frozen=True)
class Random:
  """A random value at compile time: the node holding its marginal."""
  node: int
  size: int


@dataclasses.dataclass(frozen=True)
class TensorValue:
  cell: ir.TensorCell
  shape: Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class _Inline:
  definition: ast.FunctionDef


Value = Union[int, Random, TensorValue]

_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
           ast.Mod: lambda a, b: a % b, ast.Pow: lambda a, b: a ** b,
           ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b,
           ast.BitXor: lambda a, b: a ^ b, ast.LShift: lambda a, b: a << b,
           ast.RShift: lambda a, b: a >> b}
_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
            ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
            ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


def compile_model(path: str, hypers=None, text: Optional[str] = None
                  ) -> ir.Program:
  """Compiles the model file at `path` with the given hyper values."""
  return _Compiler(source_lib.load(path, hypers, text)).run()


def _cell_name(name: str, index) -> str:
  return name + ("[" + ", ".join(map(str, index)) + "]" if index else "")


class _Compiler:
  """One compilation; its state is the program being built."""

  def __init__(self, model: source_lib.ModelSource):
    self.model = model
    self.path = model.path
    self.declarations: Dict[str, ir.Declaration] = {}
    self.runtime_functions: Dict[str, ir.RuntimeFunction] = {}
    self.learned_functions: Dict[str, ir.LearnedFunction] = {}
    self.inline_functions: Dict[str, _Inline] = {}
    self.constants: Dict[str, object] = {}
    # Names bound by `for`, `with` and inline calls, innermost last.
    self.scopes: List[Dict[str, Value]] = []
    self.nodes: List[ir.Node] = []
    self.node_ids: Dict[ir.Node, int] = {}
    # The node of every cell set so far, and where it was set.
    self.cells: Dict[ir.CellKey, int] = {}
    self.set_at: Dict[ir.CellKey, int] = {}
    # Cells set in only some branches of an `if`/`with`: the line of that
    # statement; they may not be read or set again.
    self.partial: Dict[ir.CellKey, int] = {}
    self.fixed_params: Dict[ir.CellKey, int] = {}

  def error(self, node, message):
    return error_at(node, self.path, message)

  # --- The program -------------------------------------------------------

  def run(self) -> ir.Program:
    # The statements run, with the branch each static top-level `if` takes
    # in its place: the program's tree, for the runner and the listing.
    executed = []
    for statement in self.top_level(self.model.tree.body):
      executed.append(statement)
      self.statement(statement, top_level=True)
    outputs = {}
    for declaration in self.declarations.values():
      if declaration.kind != ir.OUTPUT:
        continue
      for index in declaration.cells():
        key = (declaration.name, index)
        where = ast.Module(body=[], type_ignores=[])
        where.lineno, where.col_offset = declaration.line, 0
        if key in self.partial:
          raise self.error(where, f"Output {_cell_name(*key)} is set only in "
                           f"some branches of line {self.partial[key]}")
        if key not in self.cells:
          raise self.error(where, f"Output {_cell_name(*key)} is never set")
        outputs[key] = self.cells[key]
    return ir.Program(
        path=self.path, source=self.model.text,
        tree=ast.Module(body=executed, type_ignores=[]),
        hypers=dict(self.model.hypers), declarations=self.declarations,
        runtime_functions=self.runtime_functions,
        learned_functions=self.learned_functions, nodes=self.nodes,
        outputs=outputs, fixed_params=self.fixed_params)

  def top_level(self, body):
    """The top-level statements in order, a static `if` replaced by the
    statements of the branch it takes (evaluated when reached): so a hyper
    may choose between variants of declarations and functions."""
    for statement in body:
      if isinstance(statement, ast.If) and self.random_chain(statement) is None:
        yield from self.top_level(
            statement.body if self.static(statement.test, "an if test")
            else statement.orelse)
      else:
        yield statement

  def add_node(self, node: ir.Node) -> Random:
    node_id = self.node_ids.get(node)
    if node_id is None:
      node_id = self.node_ids[node] = len(self.nodes)
      self.nodes.append(node)
    return Random(node_id, node.size)

  def constant(self, value: int, size: int) -> Random:
    return self.add_node(ir.Constant(value, size))

  # --- Statements --------------------------------------------------------

  def statements(self, body):
    for statement in body:
      self.statement(statement)

  def statement(self, node, top_level=False):
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

  def declaration(self, name: str, node) -> Optional[ir.Declaration]:
    """`Kind(size)` or `Kind(size)[shape]`, or None if `node` is neither."""
    shape = ()
    call = node
    if isinstance(node, ast.Subscript):
      call = node.value
      shape = tuple(self.static(e, "an array dimension") for e in
                    _index_elements(node.slice))
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id in ir.KINDS):
      return None
    kind = call.func.id
    if call.keywords:
      raise self.error(call, f"{kind} takes positional sizes only")
    sizes = tuple(self.static(a, f"the size of a {kind}") for a in call.args)
    expected = 2 if kind == ir.INPUT_TENSOR else 1
    if len(sizes) != expected and not (kind == ir.INPUT_TENSOR and sizes):
      raise self.error(call, f"{kind} takes {expected} size"
                       f"{'s' if expected > 1 else ''}, got {len(sizes)}")
    for size in sizes + shape:
      if size < 1:
        raise self.error(node, f"{name}: sizes must be positive, got {size}")
    size = sizes if kind == ir.INPUT_TENSOR else sizes[0]
    return ir.Declaration(name=name, kind=kind, size=size, shape=shape,
                          line=node.lineno)

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
    label = _cell_name(*key)
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
    label = _cell_name(declaration.name, index)
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
    for value in range(*bounds):
      self.scopes.append({node.target.id: value})
      self.statements(node.body)
      self.scopes.pop()

  def with_statement(self, node: ast.With):
    if len(node.items) != 1 or not isinstance(node.items[0].optional_vars,
                                              ast.Name):
      raise self.error(node, "write `with cell as name:` with one cell")
    item = node.items[0]
    name = item.optional_vars.id
    value = self.expression(item.context_expr)
    if isinstance(value, int):
      self.scopes.append({name: value})
      self.statements(node.body)
      self.scopes.pop()
      return
    if not isinstance(value, Random):
      raise self.error(item.context_expr, "`with` takes a random cell or an "
                       "int")

    def body(i):
      def compile_body():
        self.scopes.append({name: i})
        self.statements(node.body)
        self.scopes.pop()
      return compile_body

    self.branches(node, value, [((i,), body(i)) for i in range(value.size)])

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

    def body(statements):
      return lambda: self.statements(statements)

    branches = [((value,), body(statements)) for value, statements in cases]
    if orelse:
      branches.append((rest, body(orelse)))
    self.branches(node, selector, branches)

  def random_chain(self, node: ast.If):
    """(selector, label, [(value, body)], else body) of an if chain on a
    random cell, or None for a static `if`.

    The chain goes on through `elif`s that test the same cell; an `elif` on
    another cell starts a chain of its own inside this one's else.
    """
    test = self.random_test(node.test)
    if test is None:
      return None
    selector, label, cases = test[0], ast.unparse(node.test.left), []
    while True:
      value = test[1]
      if value in [v for v, _ in cases]:
        raise self.error(node.test, f"{label} == {value} is tested twice in "
                         "one chain")
      cases.append((value, node.body))
      if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
        test = self.random_test(node.orelse[0].test, quiet=True)
        if test is not None and test[0] == selector:
          node = node.orelse[0]
          continue
      return selector, label, cases, node.orelse

  def random_test(self, test, quiet=False):
    """(selector, value) for `cell == value` on a random cell, else None."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
      if quiet or not isinstance(test, (ast.Compare, ast.BoolOp,
                                        ast.UnaryOp)):
        return None
      if not self._mentions_random(test):
        return None
      raise self.error(test, "an if on a random value tests `cell == "
                       "constant`, one cell at a time")
    left = self.expression(test.left)
    if not isinstance(left, Random):
      right = self.expression(test.comparators[0])
      if isinstance(right, Random) and not quiet:
        raise self.error(test, "write the random cell on the left: "
                         "`cell == constant`")
      return None
    if not isinstance(test.ops[0], ast.Eq):
      raise self.error(test, "an if on a random value tests `cell == "
                       "constant` (only ==)")
    value = self.static(test.comparators[0], "the value a cell is compared "
                        "with")
    if not 0 <= value < left.size:
      raise self.error(test.comparators[0], f"{ast.unparse(test.left)} is "
                       f"compared with {value}, outside its range "
                       f"[0, {left.size})")
    return left, value

  def _mentions_random(self, test) -> bool:
    for child in ast.walk(test):
      if isinstance(child, ast.Compare):
        if isinstance(self.expression(child.left), Random):
          return True
    return False

  def branches(self, node, selector: Random, branches):
    """Compiles `branches` [(selector values, compile_body)] and joins them."""
    cells, set_at, partial = self.cells, self.set_at, self.partial
    results = []
    for values, compile_body in branches:
      self.cells, self.set_at, self.partial = (dict(cells), dict(set_at),
                                               dict(partial))
      compile_body()
      results.append((values, {k: v for k, v in self.cells.items()
                               if k not in cells}))
      new_partial = {k: v for k, v in self.partial.items()
                     if k not in partial}
      partial.update(new_partial)
      set_at.update({k: v for k, v in self.set_at.items()
                     if k not in set_at})
    self.cells, self.set_at, self.partial = cells, set_at, partial
    keys = []
    for _, new in results:
      keys.extend(k for k in new if k not in keys)
    for key in keys:
      if not all(key in new for _, new in results):
        partial[key] = node.lineno
        continue
      cases = tuple((values, new[key]) for values, new in results)
      size = self.nodes[cases[0][1]].size
      if len({case for _, case in cases}) == 1:
        cells[key] = cases[0][1]
      else:
        cells[key] = self.add_node(ir.Mix(selector.node, cases, size)).node

  # --- Functions ---------------------------------------------------------

  def function_definition(self, node: ast.FunctionDef):
    name = node.name
    if name in self.declarations or name in self.functions():
      raise self.error(node, f"{name} is defined twice")
    if len(node.decorator_list) != 1:
      raise self.error(node, f"{name} needs one decorator: @Runtime, @Learn "
                       "or @Inline")
    decorator = node.decorator_list[0]
    kind = (decorator.func.id if isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name) else
            decorator.id if isinstance(decorator, ast.Name) else None)
    arguments = [a.arg for a in node.args.args]
    if kind == "Inline":
      self.inline_functions[name] = _Inline(node)
    elif kind == "Runtime":
      domains, size = self.signature(decorator, name, tensors=False)
      if len(domains) != len(arguments):
        raise self.error(node, f"Runtime function {name} declares "
                         f"{len(domains)} argument domains but takes "
                         f"{len(arguments)} arguments")
      function = self.python_function(node)
      table, indicator = ir.runtime_indicator(
          name, function, domains, size,
          lambda message: self.error(node, message))
      self.runtime_functions[name] = ir.RuntimeFunction(
          name=name, domains=tuple(domains), size=size, function=function,
          indicator=indicator, table=table)
    elif kind == "Learn":
      inputs, size = self.signature(decorator, name, tensors=True)
      if len(inputs) != len(arguments):
        raise self.error(node, f"learned function {name} declares "
                         f"{len(inputs)} inputs but takes {len(arguments)} "
                         "arguments")
      hidden = ()
      for keyword in decorator.keywords:
        if keyword.arg != "hid_sizes":
          raise self.error(keyword, f"@Learn has no option {keyword.arg!r}")
        hidden = tuple(self.static(e, "a hidden size")
                       for e in _list_elements(self, keyword.value))
      self.learned_functions[name] = ir.LearnedFunction(
          name=name, inputs=tuple(inputs), size=size, hidden_sizes=hidden)
    else:
      raise self.error(decorator, f"unknown decorator on {name}: use "
                       "@Runtime, @Learn or @Inline")

  def functions(self):
    return {**self.runtime_functions, **self.learned_functions,
            **self.inline_functions}

  def signature(self, decorator, name, tensors):
    if not isinstance(decorator, ast.Call) or len(decorator.args) != 2:
      raise self.error(decorator, f"the decorator of {name} takes ([input "
                       "sizes], output size)")
    inputs = []
    for element in _list_elements(self, decorator.args[0]):
      if (tensors and isinstance(element, ast.Call)
          and isinstance(element.func, ast.Name)
          and element.func.id == "Tensor"):
        inputs.append(ir.TensorType(tuple(
            self.static(a, "a tensor dimension") for a in element.args)))
      else:
        inputs.append(self.static(element, "an argument domain"))
    size = self.static(decorator.args[1], "an output size")
    if size < 1 or any(isinstance(d, int) and d < 1 for d in inputs):
      raise self.error(decorator, f"the sizes of {name} must be positive")
    if decorator.keywords and not tensors:
      raise self.error(decorator, "@Runtime takes no options")
    return inputs, size

  def python_function(self, node: ast.FunctionDef):
    """The Runtime function itself, run by Python over the model's constants."""
    definition = ast.FunctionDef(
        name=node.name, args=node.args, body=node.body, decorator_list=[],
        returns=None, type_comment=None, type_params=[])
    module = ast.fix_missing_locations(
        ast.Module(body=[ast.copy_location(definition, node)],
                   type_ignores=[]))
    namespace = {"__builtins__": builtins, **self.constants}
    exec(compile(module, self.path, "exec"), namespace)  # pylint: disable=exec-used
    return namespace[node.name]

  def call(self, node: ast.Call) -> Value:
    if not isinstance(node.func, ast.Name):
      raise self.error(node, f"cannot call {ast.unparse(node.func)}")
    name = node.func.id
    if node.keywords:
      raise self.error(node, f"{name} takes positional arguments")
    if name in _STATIC_BUILTINS and self.lookup(name) is None:
      args = [self.static(a, f"an argument of {name}") for a in node.args]
      return _STATIC_BUILTINS[name](*args)
    if name in self.runtime_functions:
      return self.apply_runtime(node, self.runtime_functions[name])
    if name in self.learned_functions:
      return self.apply_learned(node, self.learned_functions[name])
    if name in self.inline_functions:
      return self.apply_inline(node, self.inline_functions[name].definition)
    if name in ir.KINDS or name == "Tensor":
      raise self.error(node, f"{name}(...) declares a variable at the top "
                       "level: `x = {name}(...)`")
    raise self.error(node.func, f"unknown function {name!r}")

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
    parameters = [a.arg for a in definition.args.args]
    if len(node.args) != len(parameters):
      raise self.error(node, f"{definition.name} takes {len(parameters)} "
                       f"arguments, got {len(node.args)}")
    *body, last = definition.body
    if not isinstance(last, ast.Return) or last.value is None or any(
        isinstance(n, ast.Return) for s in body for n in ast.walk(s)):
      raise self.error(definition, f"@Inline function {definition.name} "
                       "returns a value once, at the end of its body")
    self.scopes.append({p: self.expression(a)
                        for p, a in zip(parameters, node.args)})
    self.statements(body)
    result = self.expression(last.value)
    self.scopes.pop()
    return result

  # --- Expressions -------------------------------------------------------

  def lookup(self, name: str):
    for scope in reversed(self.scopes):
      if name in scope:
        return scope[name]
    return self.constants.get(name)

  def expression(self, node) -> Value:
    if isinstance(node, ast.Constant):
      if isinstance(node.value, bool) or not isinstance(node.value, int):
        if isinstance(node.value, bool):
          return int(node.value)
        raise self.error(node, f"only integer literals are values, not "
                         f"{node.value!r}")
      return node.value
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
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
      left = self.static(node.left, "an operand of " + ast.unparse(node))
      right = self.static(node.right, "an operand of " + ast.unparse(node))
      try:
        return _BINARY[type(node.op)](left, right)
      except ZeroDivisionError:
        raise self.error(node, f"division by zero in {ast.unparse(node)}"
                         ) from None
    if isinstance(node, ast.UnaryOp):
      operand = self.static(node.operand, "the operand of " +
                            ast.unparse(node))
      return {ast.USub: lambda v: -v, ast.UAdd: lambda v: v,
              ast.Not: lambda v: int(not v),
              ast.Invert: lambda v: ~v}[type(node.op)](operand)
    if isinstance(node, ast.Compare):
      values = [self.static(e, "a compared value") for e in
                [node.left] + node.comparators]
      return int(all(_COMPARE[type(op)](a, b) for op, a, b in
                     zip(node.ops, values, values[1:])))
    if isinstance(node, ast.BoolOp):
      values = [self.static(e, "an operand of " + ast.unparse(node))
                for e in node.values]
      return int(all(values) if isinstance(node.op, ast.And) else
                 any(values))
    if isinstance(node, ast.IfExp):
      return self.expression(node.body if self.static(node.test, "a test")
                             else node.orelse)
    raise self.error(node, f"{ast.unparse(node)} is not an expression of the "
                     "language")

  def static(self, node, what: str) -> int:
    value = self.expression(node)
    if not isinstance(value, int):
      raise self.error(node, f"{what} must be a constant int, but "
                       f"{ast.unparse(node)} is random (bind it with "
                       f"`with {ast.unparse(node)} as i:`)")
    return value

  def as_random(self, value: Value, size: int, node, what: str) -> Random:
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
                       f"{ast.unparse(node)} has range {value.size}")
    return value

  def cell_reference(self, node) -> Tuple[ir.Declaration, ir.Index]:
    """The declaration and static index of `x` or `x[i, j]`."""
    if isinstance(node, ast.Name):
      base, elements = node, []
    elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
      base, elements = node.value, _index_elements(node.slice)
    else:
      raise self.error(node, f"{ast.unparse(node)} is not a cell of a "
                       "declared variable")
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
        raise self.error(element, f"the index {ast.unparse(element)} of "
                         f"{base.id} is random; bind it first with `with "
                         f"{ast.unparse(element)} as i:`")
      if not 0 <= value < dimension:
        raise self.error(element, f"index {value} of {base.id} is outside "
                         f"[0, {dimension})")
      index.append(value)
    return declaration, tuple(index)

  def read(self, node, declaration: ir.Declaration, index) -> Value:
    key = (declaration.name, index)
    label = _cell_name(*key)
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


def _index_elements(index):
  return list(index.elts) if isinstance(index, ast.Tuple) else [index]


def _list_elements(compiler, node):
  if not isinstance(node, (ast.List, ast.Tuple)):
    raise compiler.error(node, "expected a list [...]")
  return list(node.elts)
