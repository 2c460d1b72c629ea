"""The one error type of `.anc` programs."""

from tf_anc.common.errors import SourceError


class AncSyntaxError(SourceError):
  """A malformed `.anc` program."""
