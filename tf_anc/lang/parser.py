"""The `.anc` front end: text -> tokens -> statements -> IR (`ir.Program`).

Three small passes, each with its own errors:
  1. `_tokenize`: characters -> tokens, each with its 1-based line and column.
  2. `_Parser`: tokens -> statements (a tiny AST); the shape of each statement
     is checked here: ops, arity, results, `;`, reserved words.
  3. `_Lowering`: statements -> registers and operations; names are resolved
     file-wide here (a name may be used before the line that declares it).
Within a pass the first error in source order wins.
"""

import dataclasses
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

from tf_anc import shipped
from tf_anc import isa
from tf_anc.lang import ir
from tf_anc.lang.errors import AncSyntaxError

# Token kinds; a punctuation token's kind is its own text ("=", ";", ...).
NAME = "name"
INT = "int"
END = "end of file"

RESERVED = frozenset({"var", *isa.BY_NAME})

_TOKEN = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<int>[0-9]+)"
                    r"|(?P<punctuation>[=;:(),-])")
# Whitespace, then possibly a comment that runs to the end of the line.
_SKIP = re.compile(r"\s*(#.*)?")


@dataclasses.dataclass(frozen=True)
class Token:
  kind: str
  text: str
  line: int
  column: int

  @property
  def end_column(self) -> int:
    """The column just past the token."""
    return self.column + len(self.text)


@dataclasses.dataclass(frozen=True)
class Declaration:
  """`var NAME = INT;`: a register with an initial value, not an instruction."""
  name: Token
  initial: Token


@dataclasses.dataclass(frozen=True)
class InstructionStatement:
  """`[LABEL:] [var] [NAME =] OP(ARGS);`: one instruction."""
  first: Token  # the statement's first token: its line, and where it starts
  label: Optional[Token]
  target: Optional[Token]  # None: the result is discarded (to scratch)
  declares: bool  # `var NAME = OP(...)` declares NAME (initial value 0) too
  op: Token
  arguments: Tuple[Token, ...]  # NAME or INT tokens


Statement = Union[Declaration, InstructionStatement]


def parse_program(text: str, memory_size: int,
                  filename: str = "<string>") -> ir.Program:
  """Parses `.anc` source into the IR; raises AncSyntaxError when malformed."""
  if memory_size < 1:
    raise ValueError(f"memory size must be at least 1, got {memory_size}")
  statements = _Parser(_tokenize(text, filename), filename).statements()
  return _Lowering(memory_size, filename).program(statements)


def parse(text_or_path, memory_size: int) -> ir.Program:
  """The program in `text_or_path`: an `.anc` file's path, a shipped
  program's name ("listk") or `.anc` source text, for M = `memory_size`.

  Raises AncSyntaxError (`file:line:col: ...`) when it is malformed.
  """
  if is_source_text(text_or_path):
    return parse_program(text_or_path, memory_size)
  return load_program(text_or_path, memory_size)


def is_source_text(text_or_path) -> bool:
  """Is `text_or_path` `.anc` source rather than a path or name? Every
  statement has a `;` and no file name of ours has one."""
  return isinstance(text_or_path, str) and (";" in text_or_path or
                                            "\n" in text_or_path)


def load_program(path, memory_size: int) -> ir.Program:
  """Reads and parses an `.anc` file, or a shipped program named by `path`.

  `path` is a file, or the name of a shipped program ("listk"; see
  `tf_anc.shipped.program_path`). Errors name the file read.
  """
  path = shipped.program_path(path)
  with open(path, encoding="utf-8") as source:
    text = source.read()
  return parse_program(text, memory_size, filename=str(path))


def _tokenize(text: str, filename: str) -> List[Token]:
  """Splits `text` into tokens, ending with an END token at the end of text."""
  tokens = []
  # Tokens and comments never span lines, so the text is scanned line by line.
  lines = text.split("\n")
  for line_number, line in enumerate(lines, start=1):
    position = _SKIP.match(line).end()
    while position < len(line):
      match = _TOKEN.match(line, position)
      if match is None:
        raise AncSyntaxError(f"unexpected character {line[position]!r}",
                             filename, line_number, position + 1)
      kind = match.lastgroup
      if kind == "punctuation":
        kind = match.group()
      tokens.append(Token(kind, match.group(), line_number, position + 1))
      position = _SKIP.match(line, match.end()).end()
  tokens.append(Token(END, "", len(lines), len(lines[-1]) + 1))
  return tokens


def _describe(token: Token) -> str:
  """How an error message names a token it did not expect."""
  if token.kind == NAME:
    return f"name '{token.text}'"
  if token.kind == INT:
    return f"integer {_literal_text(token)}"
  if token.kind == END:
    return END
  return f"'{token.text}'"


# Literals longer than this are shown abbreviated in error messages.
_LONGEST_LITERAL_SHOWN = 20


def _literal_text(token: Token) -> str:
  """An integer literal as error messages show it: abbreviated when long,
  so that a 5,000-digit literal does not make a 5,000-character message."""
  text = token.text
  if len(text) <= _LONGEST_LITERAL_SHOWN:
    return text
  return f"{text[:8]}...{text[-4:]} ({len(text)} digits)"


class _Parser:
  """Recursive descent over the tokens, one statement at a time."""

  def __init__(self, tokens: Sequence[Token], filename: str):
    self._tokens = tokens
    self._position = 0
    self._filename = filename

  def statements(self) -> List[Statement]:
    statements = []
    while self._peek().kind != END:
      statements.append(self._statement())
    return statements

  def _statement(self) -> Statement:
    first = self._peek()
    label = self._label()
    if self._peek().kind == ";":
      raise self._error("empty statement", self._peek())
    if self._peek().kind == NAME and self._peek().text == "var":
      return self._var_statement(first, label)
    target = self._assignment_target()
    op, arguments = self._call(target)
    self._end_of_statement()
    return InstructionStatement(first, label, target, False, op, arguments)

  def _label(self) -> Optional[Token]:
    """An optional `LABEL :` at the start of a statement (at most one)."""
    if not self._at_name_followed_by(":"):
      return None
    label = self._name("a label")
    self._next()  # ':'
    if self._at_name_followed_by(":"):
      raise self._error("at most one label per statement", self._peek())
    return label

  def _var_statement(self, first: Token,
                     label: Optional[Token]) -> Statement:
    """`var NAME = INT;` (a declaration) or `var NAME = OP(ARGS);`."""
    self._next()  # 'var'
    name = self._name("a variable name")
    self._expect("=")
    self._reject_negative_literal()
    if self._peek().kind != INT:
      op, arguments = self._call(name)
      self._end_of_statement()
      return InstructionStatement(first, label, name, True, op, arguments)
    if label is not None:
      raise self._error(
          f"label '{label.text}' on a declaration: 'var {name.text} = "
          f"{_literal_text(self._peek())};' is not an instruction", label)
    initial = self._next()
    self._end_of_statement()
    return Declaration(name, initial)

  def _assignment_target(self) -> Optional[Token]:
    """`NAME =` before a call, or None when the result is discarded."""
    if not self._at_name_followed_by("="):
      return None
    target = self._name("an assignment target")
    self._next()  # '='
    self._reject_negative_literal()
    literal = self._peek()
    if literal.kind == INT:
      text = _literal_text(literal)
      raise self._error(
          f"cannot assign the literal {text} to '{target.text}': initial "
          f"values are given with 'var {target.text} = {text};'", literal)
    return target

  def _call(self, target: Optional[Token]) -> Tuple[Token, Tuple[Token, ...]]:
    """`OP(ARGS)`, checked against the instruction table."""
    op = self._op(target)
    instruction = isa.BY_NAME[op.text]
    arguments = self._arguments(op)
    if len(arguments) != instruction.arity:
      plural = "" if instruction.arity == 1 else "s"
      raise self._error(f"{op.text} takes {instruction.arity} "
                        f"argument{plural}, got {len(arguments)}", op)
    return op, arguments

  def _op(self, target: Optional[Token]) -> Token:
    token = self._peek()
    if token.kind == NAME and token.text not in isa.BY_NAME and (
        self._peek(1).kind == "("):
      hint = (f" (op names are upper case: '{token.text.upper()}')"
              if token.text.upper() in isa.BY_NAME else "")
      raise self._error(f"unknown op '{token.text}'{hint}", token)
    if token.kind != NAME or token.text not in isa.BY_NAME:
      raise self._error(f"expected an op call, found {_describe(token)}", token)
    if target is not None and not isa.BY_NAME[token.text].has_result:
      raise self._error(
          f"{token.text} has no result to assign to '{target.text}'", token)
    return self._next()

  def _arguments(self, op: Token) -> Tuple[Token, ...]:
    """`( [ARG (, ARG)*] )`."""
    self._expect("(", f"after {op.text}")
    arguments = []
    if self._peek().kind != ")":
      arguments.append(self._argument())
      while self._peek().kind == ",":
        self._next()
        arguments.append(self._argument())
    self._expect(")", "or ',' between arguments")
    return tuple(arguments)

  def _argument(self) -> Token:
    self._reject_negative_literal()
    if self._peek().kind == INT:
      return self._next()
    return self._name("an argument")

  def _reject_negative_literal(self):
    """The language has no negative values; `-` exists only to say so."""
    minus, number = self._peek(), self._peek(1)
    if minus.kind == "-" and number.kind == INT:
      raise self._error(f"negative literal -{_literal_text(number)}", minus)

  def _name(self, what: str) -> Token:
    """A NAME that is not a reserved word; `what` says what it names."""
    token = self._peek()
    if token.kind != NAME:
      raise self._error(f"expected {what}, found {_describe(token)}", token)
    if token.text in RESERVED:
      raise self._error(
          f"reserved word '{token.text}' cannot be used as {what}", token)
    return self._next()

  def _end_of_statement(self):
    """The closing `;`, reported missing just past the statement's end."""
    if self._peek().kind != ";":
      last = self._tokens[self._position - 1]
      raise AncSyntaxError("expected ';'", self._filename, last.line,
                           last.end_column)
    self._next()

  def _expect(self, kind: str, context: str = "") -> Token:
    token = self._peek()
    if token.kind != kind:
      context = f" {context}" if context else ""
      raise self._error(
          f"expected '{kind}'{context}, found {_describe(token)}", token)
    return self._next()

  def _at_name_followed_by(self, kind: str) -> bool:
    return self._peek().kind == NAME and self._peek(1).kind == kind

  def _peek(self, ahead: int = 0) -> Token:
    # Looking past the end keeps answering the END token.
    return self._tokens[min(self._position + ahead, len(self._tokens) - 1)]

  def _next(self) -> Token:
    token = self._peek()
    self._position += 1
    return token

  def _error(self, message: str, token: Token) -> AncSyntaxError:
    return AncSyntaxError(message, self._filename, token.line, token.column)


@dataclasses.dataclass(frozen=True)
class _Name:
  """What a name means, file-wide."""
  token: Token  # where it is declared
  is_label: bool
  value: int  # a variable's register index, or a label's instruction index


class _Lowering:
  """Statements -> ir.Program, with the paper's fixed register allocation.

  Registers: the variables in declaration order, then one constant per
  distinct literal or label value in order of first use, then the scratch
  register that receives discarded results.
  """

  def __init__(self, memory_size: int, filename: str):
    self._memory_size = memory_size
    self._filename = filename
    self._names: Dict[str, _Name] = {}
    self._variables: List[ir.Register] = []
    # Value -> register index; dicts keep insertion (= first use) order.
    self._constants: Dict[int, int] = {}

  def program(self, statements: Sequence[Statement]) -> ir.Program:
    instructions = [statement for statement in statements
                    if isinstance(statement, InstructionStatement)]
    self._check_length(instructions)
    self._declare_names(statements)
    resolved = [(instruction, *self._resolve(instruction))
                for instruction in instructions]
    scratch = len(self._variables) + len(self._constants)
    operations = tuple(
        _operation(instruction, arguments,
                   scratch if output is None else output)
        for instruction, arguments, output in resolved)
    constants = tuple(ir.Register(f"const_{value}", ir.CONSTANT, value)
                      for value in self._constants)
    registers = (*self._variables, *constants,
                 ir.Register("scratch", ir.SCRATCH, None))
    return ir.Program(self._memory_size, registers, operations, self._filename)

  def _check_length(self, instructions: Sequence[InstructionStatement]):
    """At most M instructions; so every label index is in [0, M) too."""
    if len(instructions) > self._memory_size:
      raise self._error(
          f"program has {len(instructions)} instructions, more than "
          f"M = {self._memory_size}", instructions[self._memory_size].first)

  def _declare_names(self, statements: Sequence[Statement]):
    """Collects every variable and label before any name is used."""
    instruction_index = 0
    for statement in statements:
      if isinstance(statement, Declaration):
        self._declare_variable(statement.name, statement.initial)
        continue
      if statement.label is not None:
        self._define(statement.label, is_label=True, value=instruction_index)
      if statement.declares:
        self._declare_variable(statement.target, initial=None)
      instruction_index += 1

  def _declare_variable(self, name: Token, initial: Optional[Token]):
    """A variable register; `var x = OP(...)` (no `initial`) starts at 0."""
    self._define(name, is_label=False, value=len(self._variables))
    value = 0 if initial is None else self._literal_value(initial)
    self._variables.append(ir.Register(name.text, ir.VARIABLE, value))

  def _define(self, token: Token, is_label: bool, value: int):
    first = self._names.get(token.text)
    if first is not None:
      kind = "label" if first.is_label else "variable"
      raise self._error(
          f"duplicate name '{token.text}' (first declared as a {kind} at "
          f"{first.token.line}:{first.token.column})", token)
    self._names[token.text] = _Name(token, is_label, value)

  def _resolve(self, instruction: InstructionStatement
               ) -> Tuple[List[int], Optional[int]]:
    """Register indices of the arguments, and of the target (None: discard)."""
    output = None
    if instruction.target is not None:
      output = self._assignment_register(instruction.target)
    code = isa.BY_NAME[instruction.op.text].index
    arguments = [self._argument_register(code, position, token)
                 for position, token in enumerate(instruction.arguments)]
    return arguments, output

  def _assignment_register(self, target: Token) -> int:
    name = self._lookup(target)
    if name.is_label:
      raise self._error(f"label '{target.text}' used where a value is needed "
                        "(only a variable can be assigned to)", target)
    return name.value

  def _argument_register(self, code: int, position: int, token: Token) -> int:
    if token.kind == INT:
      return self._constant_register(self._literal_value(token))
    name = self._lookup(token)
    if not name.is_label:
      return name.value
    # A label is a value only where it is a jump target.
    if code == isa.JEZ and position == 1:
      return self._constant_register(name.value)
    raise self._error(f"label '{token.text}' used where a value is needed",
                      token)

  def _constant_register(self, value: int) -> int:
    if value not in self._constants:
      self._constants[value] = len(self._variables) + len(self._constants)
    return self._constants[value]

  def _literal_value(self, token: Token) -> int:
    digits = token.text.lstrip("0") or "0"
    # Longer than M's digits is out of range: int() refuses literals of
    # over 4,300 digits (sys.get_int_max_str_digits), and need not try.
    if (len(digits) > len(str(self._memory_size)) or
        int(digits) >= self._memory_size):
      raise self._error(f"literal {_literal_text(token)} outside "
                        f"[0, {self._memory_size})", token)
    return int(digits)

  def _lookup(self, token: Token) -> _Name:
    name = self._names.get(token.text)
    if name is None:
      raise self._error(f"undeclared name '{token.text}'", token)
    return name

  def _error(self, message: str, token: Token) -> AncSyntaxError:
    return AncSyntaxError(message, self._filename, token.line, token.column)


def _operation(instruction: InstructionStatement, arguments: List[int],
               output: int) -> ir.Operation:
  # An argument the instruction ignores is None (compiled flat); the parser
  # has checked that there are exactly `arity` arguments.
  a, b = (arguments + [None, None])[:2]
  label = None if instruction.label is None else instruction.label.text
  return ir.Operation(instruction=isa.BY_NAME[instruction.op.text].index,
                      a=a, b=b, o=output, label=label,
                      line=instruction.first.line)
