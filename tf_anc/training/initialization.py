"""Each restart's starting program: the compiled program, perturbed.

The program is compiled at the run's `sharpness` (a soft start). The rows
past its end are STOP, as compiled (`padding="stop"`), or, as in the
authors' code, left at Torch's `nn.Linear` initialisation: uniform in
(-1/sqrt(M), 1/sqrt(M)), nearly flat (`padding="random"`). Then
`init_noise` adds Gaussian noise to every logit. Each restart draws from
generators of its own, seeded by (seed, restart).
"""

import dataclasses

import numpy as np

from tf_anc.training.config import PADDINGS
from tf_anc.weights import ControllerWeights

# The logits that hold one row per program line.
_LINE_FIELDS = ("instruction_logits", "first_argument_logits",
                "second_argument_logits", "output_logits")


def initial_weights(compiled: ControllerWeights, program_length: int,
                    restart: int, seed: int, padding: str = "stop",
                    init_noise: float = 0.0) -> ControllerWeights:
  """Restart `restart`'s initial weights from the `compiled` program's."""
  if padding not in PADDINGS:
    raise ValueError(f"unknown padding {padding!r}; choose from "
                     f"{', '.join(PADDINGS)}")
  fields = {name: value for name, value in dataclasses.asdict(compiled).items()
            if isinstance(value, np.ndarray)}
  if padding == "random":
    bound = 1.0 / np.sqrt(compiled.memory_size)
    rng = np.random.default_rng([seed, restart, 1])
    for name in _LINE_FIELDS:
      value = fields[name].copy()
      value[program_length:] = rng.uniform(
          -bound, bound, value[program_length:].shape)
      fields[name] = value
  if init_noise:
    rng = np.random.default_rng([seed, restart])
    fields = {name: value + rng.normal(0.0, init_noise,
                                       value.shape).astype(np.float32)
              for name, value in fields.items()}
  return dataclasses.replace(compiled, **fields)
