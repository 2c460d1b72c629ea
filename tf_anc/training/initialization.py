"""Each restart's starting program: the compiled program, perturbed.

The program is compiled at the run's `sharpness` (a soft start). The rows
past its end are STOP, as compiled (`padding="stop"`), or, as in the
authors' code, left at Torch's `nn.Linear` initialisation: uniform in
(-1/sqrt(M), 1/sqrt(M)), nearly flat (`padding="random"`). Then
`init_noise` adds Gaussian noise to every logit. Each restart draws from
generators of its own, seeded by (seed, restart).

A long program compiled too softly does not run right at the start (its
instruction register spreads over lines and the halting probability
gathers from the STOP rows it leaks to, so it halts early with a wrong
memory), and nothing is then left to adapt. `soft_start_sharpness` picks
the softest sharpness at which it does.
"""

import dataclasses

import numpy as np

from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine
from tf_anc.training import evaluation
from tf_anc.training.config import PADDINGS
from tf_anc.weights import ControllerWeights

# The sharpnesses `soft_start_sharpness` tries, softest first: 5 is the
# tuned ListK start; past 20 a program is as good as discrete.
SHARPNESS_LADDER = (5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 15.0, 20.0)
# Train examples the soft start is checked on.
SOFT_START_EXAMPLES = 200

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


def soft_start_sharpness(program, examples, max_steps: int,
                         eta_stop: float) -> float:
  """The softest of `SHARPNESS_LADDER` at which `program`, compiled, is
  right on the first `SOFT_START_EXAMPLES` of `examples` (inputs, targets,
  masks: `[N, M]`), at the end and at halting; the sharpest if none is."""
  examples = [values[:SOFT_START_EXAMPLES] for values in examples]
  for sharpness in SHARPNESS_LADDER:
    compiled = compile_program(program, sharpness)
    machine = SoftMachine(compiled.memory_size, compiled.register_names,
                          max_steps, eta_stop=eta_stop, num_restarts=1)
    machine.controller.set_controller_weights(compiled)
    if evaluation.soft_scores(machine, *examples).right()[0]:
      return sharpness
  return SHARPNESS_LADDER[-1]
