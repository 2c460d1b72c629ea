"""The one error type of NTPT model files: a message at a source position."""

from tf_anc.common.errors import SourceError


class ModelError(SourceError):
  """A malformed model file, hypers file or data file."""


def error_at(node, filename: str, message: str) -> ModelError:
  """A `ModelError` at an AST node (whose `col_offset` is 0-based)."""
  return ModelError(message, filename, getattr(node, "lineno", 1),
                    getattr(node, "col_offset", 0) + 1)
