"""Branch mixtures: `if` chains and `with` blocks on a random value.

A random value `x` cannot choose a branch at compile time, so every branch
is compiled, each from the state before the block, and the block's effect
is their mixture: a cell set in every branch becomes a `Mix` node, the
branch values weighted by the marginal of `x` (a cell set to the same node
in every branch is just that node); a cell set in only some branches is
`partial`, remembered with the block's line, and may not be read or set
again. An `if` chain is `if x == k: ... elif x == j: ... else: ...` on one
cell; an `elif` on another cell starts a chain of its own.
"""

import ast
import collections

from ntpt_keras.lang import program as ir
from ntpt_keras.lang.errors import snippet
from ntpt_keras.lang.values import Random


class Branches:
  """Recognizing random `if` chains and joining branches; mixed into the
  compiler.

  Swaps and merges `cells`, `set_at` and `partial`; uses `expression` and
  `static` (`expressions.Expressions`) and `add_node`.
  """

  def random_chain(self, node: ast.If):
    """(selector, label, [(value, body)], else body) of an if chain on a
    random cell, or None for a static `if`.

    The chain goes on through `elif`s that test the same cell; an `elif` on
    another cell starts a chain of its own inside this one's else.
    """
    test = self.random_test(node.test)
    if test is None:
      return None
    selector, label, cases = test[0], snippet(node.test.left), []
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
    """(selector, value) for `cell == value` on a random cell, else None.

    Unless `quiet`, a test that mentions a random value in another form is
    an error.
    """
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
      if quiet or not isinstance(test, (ast.Compare, ast.BoolOp,
                                        ast.UnaryOp)):
        return None
      if not self.mentions_random(test):
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
      raise self.error(test.comparators[0], f"{snippet(test.left)} is "
                       f"compared with {value}, outside its range "
                       f"[0, {left.size})")
    return left, value

  def mentions_random(self, test) -> bool:
    """Whether a comparison inside `test` has a random left side."""
    for child in ast.walk(test):
      if isinstance(child, ast.Compare):
        if isinstance(self.expression(child.left), Random):
          return True
    return False

  def branches(self, node, selector: Random, branches):
    """Compiles `branches` [(selector values, compile_body)] and joins them.

    Each branch sees the state before the block through a layer of its
    own, which afterwards holds just what the branch set: so a branch costs
    what it compiles, not a copy of every cell set so far.
    """
    cells, set_at, partial = self.cells, self.set_at, self.partial
    results = []
    for values, compile_body in branches:
      self.cells, self.set_at, self.partial = (
          collections.ChainMap({}, cells), collections.ChainMap({}, set_at),
          collections.ChainMap({}, partial))
      compile_body()
      results.append((values, self.cells.maps[0]))
      # The first branch to set a cell or leave it partial names the line.
      partial.update({k: v for k, v in self.partial.maps[0].items()
                      if k not in partial})
      set_at.update({k: v for k, v in self.set_at.maps[0].items()
                     if k not in set_at})
    self.cells, self.set_at, self.partial = cells, set_at, partial
    # Every cell some branch set, in the order they were first set.
    keys = dict.fromkeys(k for _, new in results for k in new)
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
