"""The machine's instruction set: the 11 instructions, their arity and meaning.

The order is the paper's (and docs/anc-language.md's), so compiled weight matrices can be
compared column by column with its Figure 2c. Everything else in the package
(parser, compiler, discrete machine, soft machine, decompiler) takes the
instruction facts from here.
"""

import dataclasses
from typing import Callable, Tuple


@dataclasses.dataclass(frozen=True)
class Instruction:
  index: int
  name: str
  arity: int
  # True when the instruction produces a value that may be assigned to a
  # variable (STOP, WRITE and JEZ only have side effects; their `out` is 0).
  has_result: bool
  # g_k(x, y, M) -> out for the discrete machine; side effects live in the
  # machines themselves.
  result: Callable[[int, int, int], int]


INSTRUCTIONS: Tuple[Instruction, ...] = (
    Instruction(0, "STOP", 0, False, lambda x, y, m: 0),
    Instruction(1, "ZERO", 0, True, lambda x, y, m: 0),
    Instruction(2, "INC", 1, True, lambda x, y, m: (x + 1) % m),
    Instruction(3, "ADD", 2, True, lambda x, y, m: (x + y) % m),
    Instruction(4, "SUB", 2, True, lambda x, y, m: (x - y) % m),
    Instruction(5, "DEC", 1, True, lambda x, y, m: (x - 1) % m),
    Instruction(6, "MIN", 2, True, lambda x, y, m: min(x, y)),
    Instruction(7, "MAX", 2, True, lambda x, y, m: max(x, y)),
    # READ's result is mem[x]; the machine supplies it.
    Instruction(8, "READ", 1, True, lambda x, y, m: 0),
    Instruction(9, "WRITE", 2, False, lambda x, y, m: 0),
    Instruction(10, "JEZ", 2, False, lambda x, y, m: 0),
)

NUM_INSTRUCTIONS = len(INSTRUCTIONS)
BY_NAME = {instruction.name: instruction for instruction in INSTRUCTIONS}

STOP, ZERO, INC, ADD, SUB, DEC, MIN, MAX, READ, WRITE, JEZ = range(
    NUM_INSTRUCTIONS)

# Which arguments (x = first, y = second) each instruction looks at. An
# argument it ignores is compiled "flat" (uniform over registers).
USES_X = tuple(instruction.arity >= 1 for instruction in INSTRUCTIONS)
USES_Y = tuple(instruction.arity >= 2 for instruction in INSTRUCTIONS)
