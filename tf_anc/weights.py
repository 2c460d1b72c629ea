"""Controller weights: what the compiler produces and the machine learns.

Each matrix has one row per value of the instruction register (the paper's
Figure 2c), so row `i` holds the logits of the command issued at line `i`.
The controller is `e = softmax(IR @ W_e)` etc.; the registers start at
`softmax(initial_register_logits)` and the IR at `softmax(initial_ir_logits)`.
"""

import dataclasses
import json
import os
from typing import Tuple

import numpy as np

from tf_anc import isa

_ARRAY_FIELDS = ("instruction_logits", "first_argument_logits",
                 "second_argument_logits", "output_logits",
                 "initial_register_logits", "initial_ir_logits")


@dataclasses.dataclass
class ControllerWeights:
  instruction_logits: np.ndarray  # W_e, [M, num_instructions]
  first_argument_logits: np.ndarray  # W_a, [M, R]: which register is x
  second_argument_logits: np.ndarray  # W_b, [M, R]: which register is y
  output_logits: np.ndarray  # W_o, [M, R]: which register gets the result
  initial_register_logits: np.ndarray  # [R, M]
  initial_ir_logits: np.ndarray  # [M]
  register_names: Tuple[str, ...]

  def __post_init__(self):
    memory_size, num_instructions = self.instruction_logits.shape
    num_registers = len(self.register_names)
    expected = {
        "instruction_logits": (memory_size, isa.NUM_INSTRUCTIONS),
        "first_argument_logits": (memory_size, num_registers),
        "second_argument_logits": (memory_size, num_registers),
        "output_logits": (memory_size, num_registers),
        "initial_register_logits": (num_registers, memory_size),
        "initial_ir_logits": (memory_size,),
    }
    for name, shape in expected.items():
      actual = getattr(self, name).shape
      if actual != shape:
        raise ValueError(f"{name} has shape {actual}, expected {shape} for "
                         f"M = {memory_size} and {num_registers} registers")

  @property
  def memory_size(self) -> int:
    return self.instruction_logits.shape[0]

  @property
  def num_registers(self) -> int:
    return len(self.register_names)

  def shapes(self):
    return {name: getattr(self, name).shape for name in _ARRAY_FIELDS}

  def save(self, directory: str) -> str:
    """Writes `controller.npz` (the arrays) and `registers.json` (names)."""
    os.makedirs(directory, exist_ok=True)
    np.savez(os.path.join(directory, "controller.npz"),
             **{name: getattr(self, name) for name in _ARRAY_FIELDS})
    with open(os.path.join(directory, "registers.json"), "w") as f:
      json.dump(list(self.register_names), f)
    return directory

  @classmethod
  def load(cls, directory: str) -> "ControllerWeights":
    with np.load(os.path.join(directory, "controller.npz")) as arrays:
      fields = {name: arrays[name] for name in _ARRAY_FIELDS}
    with open(os.path.join(directory, "registers.json")) as f:
      names = tuple(json.load(f))
    return cls(register_names=names, **fields)
