"""The one error type of the `.anc` language: a message at a source position."""


class AncSyntaxError(ValueError):
  """A malformed program, located at `filename:line:column` (both 1-based)."""

  def __init__(self, message: str, filename: str, line: int, column: int):
    self.message = message
    self.filename = filename
    self.line = line
    self.column = column
    super().__init__(f"{filename}:{line}:{column}: {message}")
