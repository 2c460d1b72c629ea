"""The one error type of NTPT model files: a message at a source position."""


class ModelError(ValueError):
  """A malformed model, located at `filename:line:column` (both 1-based)."""

  def __init__(self, message: str, filename: str, line: int, column: int):
    self.message = message
    self.filename = filename
    self.line = line
    self.column = column
    super().__init__(f"{filename}:{line}:{column}: {message}")


def error_at(node, filename: str, message: str) -> ModelError:
  """A `ModelError` at an AST node (whose `col_offset` is 0-based)."""
  return ModelError(message, filename, getattr(node, "lineno", 1),
                    getattr(node, "col_offset", 0) + 1)
