"""Model file → `Program`: the model's Python source, evaluated symbolically.

The compiler walks the syntax tree the way Python would run it, with two
kinds of values (`values`):

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

The compiler is one object whose parts live in one module per concern:

- `definitions`: declarations, `@Runtime`/`@Learn`/`@Inline` functions and
  the static top-level `if`;
- `statements`: `set_to`, names, `for`, `with` and `if`;
- `branches`: random `if` chains and the mixture of branches;
- `calls`: calls of builtins, Runtime, learned and inline functions;
- `expressions`: static arithmetic and reading cells;
- `limits`: the largest model accepted.

Every error is a `ModelError` naming the file, line and column of the
construct at fault; no other exception leaves `compile_model` for any text.
"""

import ast
from typing import Dict, List, Optional

from ntpt_keras.lang import limits
from ntpt_keras.lang import program as ir
from ntpt_keras.lang import source as source_lib
from ntpt_keras.lang.branches import Branches
from ntpt_keras.lang.calls import Calls
from ntpt_keras.lang.definitions import Definitions, InlineFunction
from ntpt_keras.lang.errors import error_at
from ntpt_keras.lang.expressions import Expressions
from ntpt_keras.lang.statements import Statements
from ntpt_keras.lang.values import Random, Value, cell_name


def compile_model(path: str, hypers=None, text: Optional[str] = None
                  ) -> ir.Program:
  """Compiles the model file at `path` (or `text`, read as that file) with
  the given hyper values."""
  return _Compiler(source_lib.load(path, hypers, text)).run()


class _Compiler(Definitions, Statements, Branches, Calls, Expressions):
  """One compilation; its state is the program being built."""

  def __init__(self, model: source_lib.ModelSource):
    self.model = model
    self.path = model.path
    self.declarations: Dict[str, ir.Declaration] = {}
    self.runtime_functions: Dict[str, ir.RuntimeFunction] = {}
    self.learned_functions: Dict[str, ir.LearnedFunction] = {}
    self.inline_functions: Dict[str, InlineFunction] = {}
    self.constants: Dict[str, object] = {}
    # Names bound by `for`, `with`, branches and inline calls, innermost
    # last.
    self.scopes: List[Dict[str, Value]] = []
    # The inline functions being expanded, outermost first.
    self.inlining: List[str] = []
    self.nodes: List[ir.Node] = []
    self.node_ids: Dict[ir.Node, int] = {}
    # The node of every cell set so far, and where it was set.
    self.cells: Dict[ir.CellKey, int] = {}
    self.set_at: Dict[ir.CellKey, int] = {}
    # Cells set in only some branches of an `if`/`with`: the line of that
    # statement; they may not be read or set again.
    self.partial: Dict[ir.CellKey, int] = {}
    self.fixed_params: Dict[ir.CellKey, int] = {}
    self.usage = limits.Usage(self.error)
    # The statement being compiled: where an error without a node of its
    # own is reported.
    self.current_statement = None

  def error(self, node, message):
    return error_at(node, self.path, message)

  def run(self) -> ir.Program:
    try:
      return self.program()
    except RecursionError:
      # Python's stack ends before the language's nesting does.
      raise self.error(self.current_statement, "the model nests "
                       "expressions, blocks or inline calls too deeply to "
                       "compile") from None

  def program(self) -> ir.Program:
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
      where = ast.Module(body=[], type_ignores=[])
      where.lineno, where.col_offset = declaration.line, 0
      for index in declaration.cells():
        key = (declaration.name, index)
        if key in self.partial:
          raise self.error(where, f"Output {cell_name(*key)} is set only in "
                           f"some branches of line {self.partial[key]}")
        if key not in self.cells:
          raise self.error(where, f"Output {cell_name(*key)} is never set")
        outputs[key] = self.cells[key]
    return ir.Program(
        path=self.path, source=self.model.text,
        tree=ast.Module(body=executed, type_ignores=[]),
        hypers=dict(self.model.hypers), declarations=self.declarations,
        runtime_functions=self.runtime_functions,
        learned_functions=self.learned_functions, nodes=self.nodes,
        outputs=outputs, fixed_params=self.fixed_params)

  def add_node(self, node: ir.Node) -> Random:
    """The random value of `node`, added unless an equal node exists."""
    node_id = self.node_ids.get(node)
    if node_id is None:
      node_id = self.node_ids[node] = len(self.nodes)
      self.nodes.append(node)
    return Random(node_id, node.size)

  def constant(self, value: int, size: int) -> Random:
    return self.add_node(ir.Constant(value, size))
