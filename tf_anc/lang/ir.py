"""The intermediate representation: registers and one operation per line.

This is the paper's Figure 2b: each operation is the command `(e, a, b, o)`
the controller must emit while the instruction register points at it. The
parser produces it, the compiler turns it into controller logits, the
discrete machine runs it and the decompiler prints it back.
"""

import dataclasses
from typing import Optional, Tuple

from tf_anc import isa

VARIABLE = "variable"
CONSTANT = "constant"
SCRATCH = "scratch"


@dataclasses.dataclass(frozen=True)
class Register:
  name: str
  kind: str  # VARIABLE, CONSTANT or SCRATCH
  # Initial value; None means uniform over [0, M) (the scratch register,
  # unless a decompiled program reads the value it learned).
  initial: Optional[int]


@dataclasses.dataclass(frozen=True)
class Operation:
  instruction: int  # index into isa.INSTRUCTIONS
  # Register indices of the arguments x and y; None when the instruction
  # ignores that argument (compiled flat).
  a: Optional[int]
  b: Optional[int]
  # Register receiving the result (the scratch register for discarded ones).
  o: int
  label: Optional[str] = None
  line: int = 0  # 1-based source line, 0 when the operation has no source


@dataclasses.dataclass(frozen=True)
class Program:
  memory_size: int
  registers: Tuple[Register, ...]
  operations: Tuple[Operation, ...]
  filename: str = "<string>"
  # The line execution starts at: 0 for a parsed program; a decompiled one
  # starts where its learned initial instruction register points.
  start: int = 0

  @property
  def num_registers(self) -> int:
    return len(self.registers)

  @property
  def scratch(self) -> int:
    """Index of the scratch register (always the last one)."""
    return len(self.registers) - 1

  def listing(self) -> str:
    """A human-readable table of the registers and operations."""
    def register_text(index):
      return "-" if index is None else f"r{index}({self.registers[index].name})"

    lines = [f"# {self.filename}: M = {self.memory_size}, "
             f"{self.num_registers} registers, "
             f"{len(self.operations)} instructions",
             "registers:"]
    for index, register in enumerate(self.registers):
      initial = "uniform" if register.initial is None else register.initial
      lines.append(f"  r{index:<3d} {register.name:<12s} {register.kind:<9s} "
                   f"= {initial}")
    lines.append("instructions:")
    lines.append("  IR   op     a              b              o")
    for ir, operation in enumerate(self.operations):
      name = isa.INSTRUCTIONS[operation.instruction].name
      label = f"  # {operation.label}:" if operation.label else ""
      lines.append(f"  {ir:<4d} {name:<6s} {register_text(operation.a):<14s} "
                   f"{register_text(operation.b):<14s} "
                   f"{register_text(operation.o)}{label}")
    return "\n".join(lines)
