"""Top-level definitions: declarations and the three kinds of function.

`x = Kind(size)[shape]` declares an array of cells (`program.Declaration`);
`@Runtime`, `@Learn` and `@Inline` define functions. Runtime functions are
plain Python, run here over every argument tuple to tabulate them; learned
functions become networks; inline functions are kept as syntax and expanded
where they are called (`calls.Calls`). Every size is checked against
`limits` before a declaration or table of that size exists. A static
top-level `if` is resolved here too, so that a hyper can choose between
variants of declarations and functions.
"""

import ast
import builtins
import dataclasses
import math
import warnings
from typing import Optional

from ntpt_keras.lang import limits
from ntpt_keras.lang import program as ir
from ntpt_keras.lang.errors import ModelError, snippet
from ntpt_keras.lang.expressions import index_elements


@dataclasses.dataclass(frozen=True)
class InlineFunction:
  """An `@Inline` function: its definition, expanded at each call."""
  definition: ast.FunctionDef


class Definitions:
  """Compiling declarations and function definitions; mixed into the
  compiler.

  Fills `declarations`, `runtime_functions`, `learned_functions` and
  `inline_functions`; uses `static` (`expressions.Expressions`),
  `random_chain` (`branches.Branches`) and `usage` (`limits.Usage`).
  """

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

  def declaration(self, name: str, node) -> Optional[ir.Declaration]:
    """`Kind(size)` or `Kind(size)[shape]`, or None if `node` is neither."""
    shape = ()
    call = node
    if isinstance(node, ast.Subscript):
      call = node.value
      shape = tuple(self.static_size(e, f"{name}: an array dimension")
                    for e in index_elements(node.slice))
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id in ir.KINDS):
      return None
    kind = call.func.id
    if call.keywords:
      raise self.error(call, f"{kind} takes positional sizes only")
    sizes = tuple(self.static_size(a, f"{name}: the size of a {kind}")
                  for a in call.args)
    expected = 2 if kind == ir.INPUT_TENSOR else 1
    if len(sizes) != expected and not (kind == ir.INPUT_TENSOR and sizes):
      raise self.error(call, f"{kind} takes {expected} size"
                       f"{'s' if expected > 1 else ''}, got {len(sizes)}")
    cells = math.prod(shape)
    self.usage.add(node, "cells", cells, limits.MAX_CELLS,
                   f"declaring {name}")
    self.usage.add(node, "values", cells * math.prod(sizes),
                   limits.MAX_VALUES, f"declaring {name}")
    size = sizes if kind == ir.INPUT_TENSOR else sizes[0]
    return ir.Declaration(name=name, kind=kind, size=size, shape=shape,
                          line=node.lineno)

  def static_size(self, node, what: str) -> int:
    """A static size in [1, limits.MAX_SIZE]."""
    return limits.check_size(self.static(node, what), self.error, node, what)

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
    if kind == "Inline":
      self.inline_functions[name] = InlineFunction(node)
    elif kind == "Runtime":
      self.runtime_definition(node, decorator)
    elif kind == "Learn":
      self.learned_definition(node, decorator)
    else:
      raise self.error(decorator, f"unknown decorator on {name}: use "
                       "@Runtime, @Learn or @Inline")

  def runtime_definition(self, node: ast.FunctionDef, decorator):
    name, arguments = node.name, node.args.args
    domains, size = self.signature(decorator, name, tensors=False)
    if len(domains) != len(arguments):
      raise self.error(node, f"Runtime function {name} declares "
                       f"{len(domains)} argument domains but takes "
                       f"{len(arguments)} arguments")
    self.usage.add(decorator, "table entries", math.prod(domains) * size,
                   limits.MAX_TABLE_ENTRIES, f"tabulating {name}")
    function = self.python_function(node)
    table, indicator = ir.runtime_indicator(
        name, function, domains, size,
        lambda message: self.error(node, message))
    self.runtime_functions[name] = ir.RuntimeFunction(
        name=name, domains=tuple(domains), size=size, function=function,
        indicator=indicator, table=table)

  def learned_definition(self, node: ast.FunctionDef, decorator):
    name, arguments = node.name, node.args.args
    inputs, size = self.signature(decorator, name, tensors=True)
    if len(inputs) != len(arguments):
      raise self.error(node, f"learned function {name} declares "
                       f"{len(inputs)} inputs but takes {len(arguments)} "
                       "arguments")
    if not inputs:
      raise self.error(decorator, f"learned function {name} declares no "
                       "inputs")
    hidden = ()
    for keyword in decorator.keywords:
      if keyword.arg != "hid_sizes":
        raise self.error(keyword, f"@Learn has no option {keyword.arg!r}")
      hidden = tuple(self.static_size(e, f"a hidden size of {name}")
                     for e in self.list_elements(keyword.value))
    function = ir.LearnedFunction(name=name, inputs=tuple(inputs), size=size,
                                  hidden_sizes=hidden)
    widths = (function.input_width,) + hidden + (size,)
    # A dense layer's weights and biases.
    weights = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    self.usage.add(decorator, "weights", weights, limits.MAX_WEIGHTS,
                   f"the network of {name}")
    self.learned_functions[name] = function

  def functions(self):
    return {**self.runtime_functions, **self.learned_functions,
            **self.inline_functions}

  def signature(self, decorator, name, tensors):
    """([argument domain or TensorType], output size) of a decorator."""
    if not isinstance(decorator, ast.Call) or len(decorator.args) != 2:
      raise self.error(decorator, f"the decorator of {name} takes ([input "
                       "sizes], output size)")
    inputs = []
    for element in self.list_elements(decorator.args[0]):
      if (tensors and isinstance(element, ast.Call)
          and isinstance(element.func, ast.Name)
          and element.func.id == "Tensor"):
        if not element.args or element.keywords:
          raise self.error(element, "Tensor(...) takes its dimensions, "
                           "positional")
        inputs.append(ir.TensorType(tuple(
            self.static_size(a, f"a tensor dimension of {name}")
            for a in element.args)))
      else:
        inputs.append(self.static_size(element,
                                       f"an argument domain of {name}"))
    size = self.static_size(decorator.args[1], f"the output size of {name}")
    if decorator.keywords and not tensors:
      raise self.error(decorator, "@Runtime takes no options")
    return inputs, size

  def list_elements(self, node):
    if not isinstance(node, (ast.List, ast.Tuple)):
      raise self.error(node, f"expected a list [...], not {snippet(node)}")
    return list(node.elts)

  def python_function(self, node: ast.FunctionDef):
    """The Runtime function itself, run by Python over the model's constants."""
    definition = ast.FunctionDef(
        name=node.name, args=node.args, body=node.body, decorator_list=[],
        returns=None, type_comment=None, type_params=[])
    module = ast.fix_missing_locations(
        ast.Module(body=[ast.copy_location(definition, node)],
                   type_ignores=[]))
    namespace = {"__builtins__": builtins, **self.constants}
    try:
      # Python checks the body here (e.g. `nonlocal`, `await`) and runs the
      # argument defaults; its warnings on odd code are not the model's.
      with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = compile(module, self.path, "exec")
      exec(code, namespace)  # pylint: disable=exec-used
    except SyntaxError as error:
      raise ModelError(f"Runtime function {node.name}: {error.msg}",
                       self.path, error.lineno or node.lineno,
                       error.offset or 1) from None
    except KeyboardInterrupt:
      raise
    except BaseException as error:  # pylint: disable=broad-except
      raise self.error(node, f"Runtime function {node.name} raised "
                       f"{ir.describe_exception(error)} when defined"
                       ) from None
    return namespace[node.name]
