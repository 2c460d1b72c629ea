"""Non-finite numbers refused at the door.

absl's float flags (even with bounds) and dataclass fields accept `nan` and
`inf`; a NaN learning rate then trains NaN to the end and its programs print
as `p = nan`. Every float of a run's settings must be finite.
"""

import dataclasses
import math


def check_config(config, prefix: str = ""):
  """ValueError naming the first float field of `config` (a dataclass,
  nested dataclasses included) that is NaN or infinite."""
  for field in dataclasses.fields(config):
    value = getattr(config, field.name)
    name = prefix + field.name
    if dataclasses.is_dataclass(value):
      check_config(value, prefix=f"{name}.")
    elif isinstance(value, float) and not math.isfinite(value):
      raise ValueError(f"{name} must be a finite number, got {value}")
