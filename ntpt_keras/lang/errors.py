"""The one error type of NTPT model files: a message at a source position.

Every way a model file can be wrong ends in a `ModelError` whose `str()` is
one line, `file:line:col: message` (line and column 1-based), so a command
can print it as is and an editor can jump to it.
"""

import ast

from tf_anc.common.errors import SourceError

# Quoted code longer than this is shortened in messages.
_SNIPPET_LENGTH = 60


class ModelError(SourceError):
  """A malformed model file, hypers file or data file."""

  def __init__(self, message: str, filename: str, line: int, column: int):
    # Quoted code or a Python exception's text may span lines.
    super().__init__(" ".join(message.split("\n")), filename, line, column)


def error_at(node, filename: str, message: str) -> ModelError:
  """A `ModelError` at an AST node (whose `col_offset` is 0-based)."""
  return ModelError(message, filename, getattr(node, "lineno", 1),
                    getattr(node, "col_offset", 0) + 1)


def snippet(node) -> str:
  """The source of `node` as a message quotes it: one line, shortened."""
  text = " ".join(ast.unparse(node).split())
  if len(text) > _SNIPPET_LENGTH:
    text = text[:_SNIPPET_LENGTH - 3] + "..."
  return text
