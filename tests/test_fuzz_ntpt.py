"""Fuzzing the NTPT compiler: any model text compiles or is a located error.

Texts are the shipped model files mutated (characters, lines, tokens) and
small programs generated from the language's grammar. Whatever the text,
`compile_model` returns a program or raises a `ModelError` naming the file,
a line and a column on one line, within `_TIME_BOUND` seconds; any other
exception, or a hang, is a bug. `--hypothesis-show-statistics` counts the
accepted texts and the located errors (see tests/conftest.py).
"""

import glob
import io
import json
import signal
import time
import tokenize

from hypothesis import event, given, strategies as st

from ntpt_keras.lang import compiler
from ntpt_keras.lang.errors import ModelError

_MODELS = {path: open(path).read()
           for path in sorted(glob.glob("ntpt_keras/models/*.py"))}
# One config of every shipped hypers file: the shipped models' hypers have
# distinct names, so every model finds its own.
_HYPERS = {}
for _path in sorted(glob.glob("ntpt_keras/models/instances/*hypers.json")):
  with open(_path) as _file:
    _HYPERS.update(next(iter(json.load(_file).values())))
_PATH = "fuzzed.py"
# Seconds a case may take before it counts as a hang.
_TIME_BOUND = 10


class _Hang(Exception):
  pass


def _on_alarm(*unused):
  raise _Hang(f"compiling took over {_TIME_BOUND} s")


def _check_compiles_or_is_located(text: str, hypers=None):
  previous = signal.signal(signal.SIGALRM, _on_alarm)
  signal.alarm(_TIME_BOUND)
  start = time.monotonic()
  try:
    compiler.compile_model(_PATH, hypers or _HYPERS, text)
    event("accepted")
  except ModelError as error:
    event("located error")
    assert error.filename == _PATH
    assert error.line >= 1 and error.column >= 1
    assert str(error) == f"{_PATH}:{error.line}:{error.column}: {error.message}"
    assert "\n" not in str(error)
  finally:
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
  assert time.monotonic() - start < _TIME_BOUND


def _tokens(text: str):
  return [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline)
          if t.string.strip()]


# Tokens a mutation may put in: the language's and Python's, and ints at
# the edges of the limits.
_VOCABULARY = sorted({t for text in _MODELS.values() for t in _tokens(text)}
                     | {"0", "-1", "2", "65536", "65537", "1000000",
                        "9223372036854775807", "2 ** 64", "1 << 70", "**",
                        "<<", ">>", "/", "@", "in", "is", "not", "lambda",
                        "while", "nonlocal", "await", "yield", "raise",
                        "global", "del", "async", "class", "try", "...",
                        "Tensor", "Hyper()", "Inline", "Runtime", "Learn",
                        "\"s\"", "1.5", "None", "True", "[]", "()", "*",
                        ":", "=", ",", "(", ")", "[", "]"})
_CHARACTERS = "0123456789 \n\t()[]:=+-*/%<>,.abcdxyzn_'\"#@\\\0é"


@st.composite
def _mutated_model(draw):
  lines = draw(st.sampled_from(sorted(_MODELS.values()))).split("\n")
  for _ in range(draw(st.integers(1, 3))):
    kind = draw(st.sampled_from(["character", "line", "token"]))
    row = draw(st.integers(0, len(lines) - 1))
    line = lines[row]
    if kind == "character":
      column = draw(st.integers(0, len(line)))
      what = draw(st.sampled_from(["insert", "delete", "replace"]))
      character = draw(st.sampled_from(_CHARACTERS))
      end = column + (what != "insert")
      lines[row] = (line[:column] + ("" if what == "delete" else character)
                    + line[end:])
    elif kind == "line":
      what = draw(st.sampled_from(["delete", "duplicate", "move", "indent",
                                   "dedent"]))
      if what == "delete":
        del lines[row]
      elif what == "duplicate":
        lines.insert(row, line)
      elif what == "move":
        lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(row))
      elif what == "indent":
        lines[row] = "    " + line
      else:
        lines[row] = line[4:] if line.startswith("    ") else line
      lines = lines or [""]
    else:
      words = line.split(" ")
      position = draw(st.integers(0, len(words) - 1))
      words[position] = draw(st.sampled_from(_VOCABULARY))
      lines[row] = " ".join(words)
  return "\n".join(lines)


# A small grammar of the language, with some constructs outside it. Valid
# choices are listed several times, so that many programs compile.
_SIZES = st.sampled_from(["3"] * 8 + ["2", "1", "0", "m"])
_LEAVES = st.sampled_from(["0", "1", "2", "n - 1", "m", "True", "x", "x",
                           "v[0]", "p[0]", "p[1]", "i", "k", "-1", "65537",
                           "2 ** 62", "g[0]", "z", "\"s\"", "1.5"])
_OPERATORS = st.sampled_from(["+", "-", "*", "//", "%", "**", "<<", ">>",
                              "&", "==", "<", "and", "or", "in", "is", "/"])
_CALLED = st.sampled_from(["f", "f", "h", "h", "min", "max", "abs", "int",
                           "range", "x"])


def _expression(depth):
  """Expressions nested up to `depth`: static, random, or neither."""
  if depth == 0:
    return _LEAVES
  inner = _expression(depth - 1)
  return st.one_of(
      _LEAVES,
      st.builds("({} {} {})".format, inner, _OPERATORS, inner),
      st.builds("{}({})".format, _CALLED, st.lists(inner, max_size=3).map(
          ", ".join)),
      st.builds("-{}".format, inner),
      st.builds("({} if {} else {})".format, inner, inner, inner))


_EXPRESSION = _expression(2)


def _statement(depth):
  """A statement with blocks nested up to `depth`, as its lines."""
  simple = st.one_of(
      st.builds("{}.set_to({})".format, st.sampled_from(
          ["v[0]", "v[1]", "v[k]", "v[i]", "x", "p[0]"]), _EXPRESSION),
      st.builds("p[{}].set_to_constant({})".format, _LEAVES, _LEAVES),
      st.builds("{} = {}".format, st.sampled_from(["a", "b", "k", "x"]),
                _EXPRESSION),
      st.just("pass")).map(lambda line: [line])
  if depth == 0:
    return simple
  body = st.lists(_statement(depth - 1), min_size=1, max_size=3).map(
      lambda blocks: ["    " + line for block in blocks for line in block])
  return st.one_of(
      simple,
      st.builds(lambda e, b: [f"for k in range({e}):"] + b, _LEAVES, body),
      st.builds(lambda e, b: [f"with {e} as i:"] + b, _EXPRESSION, body),
      st.builds(lambda e, b, c: [f"if {e}:"] + b + ["else:"] + c,
                _EXPRESSION, body, body),
      st.builds(lambda e, b, c: [f"if x == {e}:"] + b + ["else:"] + c,
                _LEAVES, body, body))


_STATEMENT = _statement(2)
_RUNTIME_FUNCTIONS = st.sampled_from([
    "@Runtime([n], n)\ndef f(a):\n    return (a + 1) % n",
    "@Runtime([n, n], n)\ndef f(a, b):\n    return (a + b) % n",
    "@Runtime([n, 2], n)\ndef f(a, b):\n    return (a - b) % n",
    "@Runtime([], n)\ndef f():\n    return 1",
    "@Runtime([n], n)\ndef f(a):\n    return a - 1",
    "@Runtime([m], 2)\ndef f(a):\n    return a == 0",
])
_OTHER_FUNCTIONS = st.sampled_from([
    "@Learn([Tensor(2, 2)], n, hid_sizes=[m])\ndef h(t):\n    pass",
    "@Learn([n], n)\ndef h(a):\n    pass",
    "@Inline()\ndef h(a):\n    return f(a)",
    "@Inline\ndef h(a):\n    b = a\n    return b",
    "@Inline\ndef h(a):\n    return h(a)",
])


@st.composite
def _generated_model(draw):
  lines = ["n = " + draw(_SIZES),
           "m = " + draw(st.sampled_from(["2"] * 8 + ["-1", "70000"])),
           "x = Input(n)", "y = Output(n)",
           "v = Var(n)[" + draw(st.sampled_from(["2", "2", "m", "2, 2"]))
           + "]", "p = Param(n)[2]", "g = InputTensor(2, 2)[1]"]
  lines += draw(st.lists(_RUNTIME_FUNCTIONS, max_size=1))
  lines += draw(st.lists(_OTHER_FUNCTIONS, max_size=1))
  for block in draw(st.lists(_STATEMENT, max_size=4)):
    lines += block
  lines.append("y.set_to(" + draw(st.one_of(
      st.sampled_from(["0", "x", "v[0]", "p[0]"]), _EXPRESSION)) + ")")
  return "\n".join(lines) + "\n"


@given(_mutated_model())
def test_a_mutated_shipped_model_compiles_or_is_a_located_error(text):
  _check_compiles_or_is_located(text)


@given(st.sampled_from(sorted(_MODELS.values())), st.fixed_dictionaries(
    {name: st.one_of(st.integers(-2, 12), st.sampled_from(
        [2**63, -10**30, True, 1.5])) for name in sorted(_HYPERS)}))
def test_a_shipped_model_with_any_hypers_compiles_or_is_a_located_error(
    text, hypers):
  _check_compiles_or_is_located(text, hypers)


@given(_generated_model())
def test_a_generated_model_compiles_or_is_a_located_error(text):
  _check_compiles_or_is_located(text)


@given(st.text(alphabet=st.sampled_from(_CHARACTERS), max_size=80))
def test_any_text_compiles_or_is_a_located_error(text):
  _check_compiles_or_is_located(text)
