"""NTPT model texts for the compiler's tests: a header of declarations,
then the body a test is about, compiled as `m.py`."""

import functools
import textwrap

import pytest

from ntpt_keras.lang import compiler
from ntpt_keras.lang.errors import ModelError

# Declarations a body may use; the body starts on line 5.
HEADER = "n = 3\nx = Input(n)\ny = Output(n)\nv = Var(n)[4]\n"


def compile_body(body: str, header: str = HEADER, hypers=None):
  return compiler.compile_model("m.py", hypers,
                                header + textwrap.dedent(body))


def error_of(body: str, header: str = HEADER, hypers=None) -> str:
  """The one-line ModelError the body ends in."""
  with pytest.raises(ModelError) as raised:
    compile_body(body, header, hypers)
  return str(raised.value)


def with_header(header: str):
  """`compile_body` and `error_of` for another header."""
  return (functools.partial(compile_body, header=header),
          functools.partial(error_of, header=header))
