"""The discrete machine, batched: many programs, each on many inputs, per call.

`run(programs, inputs, max_steps)` runs every program on every input in
native code (the AncDiscreteRun op, ops/discrete_machine.h) when the op
library loads, else one run at a time on `tf_anc.reference`, the oracle:
the same numbers either way (tests/test_discrete_ops.py). Program search
and evaluation run their candidates and argmax programs through it.

A program travels to the native code as arrays (`encode`): its rows
`[M, 4]` (instruction, first argument, second argument, output register;
instruction -1 past the program's end, an argument -1 where the
instruction ignores it), its registers' initial values `[R]` (None reads
0, as on the reference) and its start line.
"""

import dataclasses
from typing import NamedTuple, Sequence

import numpy as np

from tf_anc import kernels
from tf_anc import reference
from tf_anc.lang import ir

PAST_THE_END = -1
NO_ARGUMENT = -1


class Encoded(NamedTuple):
  rows: np.ndarray  # [C, M, 4] int32
  initial_registers: np.ndarray  # [C, R] int32
  starts: np.ndarray  # [C] int32


class Runs(NamedTuple):
  memories: np.ndarray  # [C, E, M] the final memories
  registers: np.ndarray  # [C, E, R] the final registers
  steps: np.ndarray  # [C, E] instructions executed, the final STOP included
  halted: np.ndarray  # [C, E] False where max_steps ran out first


def native() -> bool:
  """Whether the op library (and so the native machine) loads."""
  return kernels.load() is not None


def encode(programs: Sequence[ir.Program]) -> Encoded:
  """The programs as arrays; all have one memory size and register count."""
  sizes = {(program.memory_size, program.num_registers)
           for program in programs}
  if len(sizes) != 1:
    raise ValueError("programs run together must have one memory size and "
                     f"register count, got (M, R) in {sorted(sizes)}")
  (size, num_registers), = sizes
  past_the_end = (PAST_THE_END, NO_ARGUMENT, NO_ARGUMENT, 0)
  for program in programs:
    if len(program.operations) > size:
      raise ValueError(f"{program.filename} has {len(program.operations)} "
                       f"instructions, more than its memory size {size}")
  rows = np.array(
      [[(operation.instruction,
         NO_ARGUMENT if operation.a is None else operation.a,
         NO_ARGUMENT if operation.b is None else operation.b,
         operation.o) for operation in program.operations] +
       [past_the_end] * (size - len(program.operations))
       for program in programs], np.int32).reshape(len(programs), size, 4)
  initial_registers = np.array(
      [[register.initial or 0 for register in program.registers]
       for program in programs], np.int32).reshape(len(programs),
                                                    num_registers)
  starts = np.array([program.start for program in programs], np.int32)
  return Encoded(rows, initial_registers, starts)


def _check_inputs(inputs, size):
  inputs = np.asarray(inputs)
  if inputs.ndim != 2 or inputs.shape[1] != size:
    raise ValueError(f"inputs must be [E, {size}] memories, got shape "
                     f"{inputs.shape}")
  outside = (inputs < 0) | (inputs >= size)
  if outside.any():
    example, cell = np.argwhere(outside)[0]
    raise ValueError(f"input {example}'s memory cell {cell} holds "
                     f"{inputs[example, cell]}, outside [0, {size})")
  return inputs.astype(np.int32)


def run(programs: Sequence[ir.Program], inputs, max_steps: int,
        use_native=None) -> Runs:
  """Runs each of `programs` on each of `inputs` (`[E, M]` cells in
  [0, M)) for up to `max_steps` steps. `use_native`: None picks the native
  machine when it loads; False runs the reference."""
  if not programs:
    raise ValueError("no programs to run")
  inputs = _check_inputs(inputs, programs[0].memory_size)
  if use_native is None:
    use_native = native()
  if use_native:
    return run_encoded(encode(programs), inputs, max_steps)
  encode(programs)  # the same checks as the native machine's
  executions = [[reference.run(program, memory, max_steps)
                 for memory in inputs] for program in programs]
  return Runs(
      np.array([[e.memory for e in row] for row in executions],
               np.int32).reshape(len(programs), len(inputs), -1),
      np.array([[e.registers for e in row] for row in executions],
               np.int32).reshape(len(programs), len(inputs), -1),
      np.array([[e.steps for e in row] for row in executions],
               np.int32).reshape(len(programs), len(inputs)),
      np.array([[e.halted for e in row] for row in executions],
               bool).reshape(len(programs), len(inputs)))


def run_encoded(encoded: Encoded, inputs, max_steps: int) -> Runs:
  """`run` on programs already encoded, in native code."""
  outputs = kernels.load().anc_discrete_run(
      *encoded, np.asarray(inputs, np.int32), max_steps=int(max_steps))
  return Runs(*(output.numpy() for output in outputs))


def decode(template: ir.Program, rows, initial_registers,
           start) -> ir.Program:
  """`template` (the program a search started from, or one of its shape)
  with the choices `encode` made of it replaced by `rows` `[M, 4]`,
  `initial_registers` `[R]` and `start`."""
  def argument(value):
    return None if value == NO_ARGUMENT else int(value)

  operations = tuple(
      dataclasses.replace(operation, instruction=int(row[0]),
                          a=argument(row[1]), b=argument(row[2]),
                          o=int(row[3]))
      for operation, row in zip(template.operations, rows))
  registers = tuple(
      dataclasses.replace(register, initial=int(initial))
      for register, initial in zip(template.registers, initial_registers))
  return dataclasses.replace(template, operations=operations,
                             registers=registers, start=int(start))
