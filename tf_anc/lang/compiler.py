"""IR -> controller logits: `sharpness * onehot` per command, flat if unused.

Every row of a matrix is the command for one value of the instruction
register; rows past the program's end are STOP, so a program that runs off
its end halts (docs/anc-machine.md).
"""

import numpy as np

from tf_anc import isa
from tf_anc.lang import ir
from tf_anc.weights import ControllerWeights

# Large enough that softmax rounds to exact one-hots in float32 (the
# off-choices get exp(-100) ~ 4e-44), so compiled programs run exactly.
DEFAULT_SHARPNESS = 100.0


def compile_program(program: ir.Program,
                    sharpness: float = DEFAULT_SHARPNESS) -> ControllerWeights:
  size = program.memory_size
  num_registers = program.num_registers
  if len(program.operations) > size:
    raise ValueError(f"{len(program.operations)} instructions do not fit in "
                     f"M = {size} rows")
  instruction = np.zeros([size, isa.NUM_INSTRUCTIONS], np.float32)
  first_argument = np.zeros([size, num_registers], np.float32)
  second_argument = np.zeros([size, num_registers], np.float32)
  output = np.zeros([size, num_registers], np.float32)
  stop = ir.Operation(isa.STOP, None, None, program.scratch)
  padding = (stop,) * (size - len(program.operations))
  for row, operation in enumerate(program.operations + padding):
    instruction[row, operation.instruction] = sharpness
    if operation.a is not None:
      first_argument[row, operation.a] = sharpness
    if operation.b is not None:
      second_argument[row, operation.b] = sharpness
    output[row, operation.o] = sharpness

  initial_registers = np.zeros([num_registers, size], np.float32)
  for index, register in enumerate(program.registers):
    if register.initial is not None:  # the scratch register stays uniform
      initial_registers[index, register.initial] = sharpness
  initial_ir = np.zeros([size], np.float32)
  initial_ir[program.start] = sharpness
  return ControllerWeights(
      instruction_logits=instruction,
      first_argument_logits=first_argument,
      second_argument_logits=second_argument,
      output_logits=output,
      initial_register_logits=initial_registers,
      initial_ir_logits=initial_ir,
      register_names=tuple(r.name for r in program.registers))
