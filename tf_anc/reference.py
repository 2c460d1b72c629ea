"""The discrete machine: the oracle every soft-machine test trusts.

Plain Python on integers, following docs/anc-machine.md's discrete machine step by step.
"""

import dataclasses
from typing import FrozenSet, List, Sequence

from tf_anc import isa
from tf_anc.lang import ir


@dataclasses.dataclass(frozen=True)
class Execution:
  memory: List[int]
  registers: List[int]
  steps: int  # instructions executed, the final STOP included
  halted: bool  # False when max_steps ran out first
  written: FrozenSet[int] = frozenset()  # the cells a WRITE wrote


def run(program: ir.Program, memory: Sequence[int],
        max_steps: int) -> Execution:
  """Runs `program` on an integer memory of `program.memory_size` cells."""
  size = program.memory_size
  memory = [int(value) for value in memory]
  if len(memory) != size:
    raise ValueError(f"memory has {len(memory)} cells, the program's memory "
                     f"size is {size}")
  for cell, value in enumerate(memory):
    if not 0 <= value < size:
      raise ValueError(f"memory cell {cell} holds {value}, outside [0, {size})")
  # The scratch register starts uniform in the soft machine; a parsed
  # program never reads it.
  registers = [register.initial or 0 for register in program.registers]
  pointer = program.start
  written = set()
  for step in range(1, max_steps + 1):
    if pointer >= len(program.operations):  # off the end: compiled as STOP
      return Execution(memory, registers, step, True, frozenset(written))
    operation = program.operations[pointer]
    code = operation.instruction
    x = registers[operation.a] if operation.a is not None else 0
    y = registers[operation.b] if operation.b is not None else 0
    if code == isa.READ:
      out = memory[x]
    else:
      out = isa.INSTRUCTIONS[code].result(x, y, size)
    if code == isa.WRITE:
      memory[x] = y
      written.add(x)
    registers[operation.o] = out
    if code == isa.STOP:
      return Execution(memory, registers, step, True, frozenset(written))
    if code == isa.JEZ and x == 0:
      pointer = y
    else:
      pointer = (pointer + 1) % size
  return Execution(memory, registers, max_steps, False, frozenset(written))
