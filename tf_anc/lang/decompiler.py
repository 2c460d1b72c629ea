"""Controller weights -> a program in the `.anc` language, with probabilities.

Every row of the controller is read by its argmax; the probability of each
choice is printed beside it. How faithful the text is to the soft program is
the paper's interpretability level (section 5.2):

  1. every choice is a Dirac delta: the text is the program;
  2. only JEZ's arguments are soft: an exact program exists, with `if`s
     enumerating the cases of the soft jumps;
  3. anything else is soft: no program is as efficient as the learned one.
"""

import dataclasses
from typing import Tuple

import numpy as np

from tf_anc import isa
from tf_anc.lang import ir
from tf_anc.weights import ControllerWeights

ALL_DIRAC = 1
ONLY_JEZ_SOFT = 2
SOFT = 3

# A distribution counts as a Dirac delta when its top choice has at least
# 1 - DEFAULT_DIRAC_TOLERANCE of the mass.
DEFAULT_DIRAC_TOLERANCE = 0.05


@dataclasses.dataclass(frozen=True)
class Decompiled:
  text: str  # the program in the `.anc` language, probabilities as comments
  program: ir.Program  # the argmax program, runnable on the discrete machine
  interpretability: int  # ALL_DIRAC, ONLY_JEZ_SOFT or SOFT
  # Every controller row's most likely command as a statement, `c = ADD(a,
  # b);`, reachable or not: a heatmap's row labels.
  statements: Tuple[str, ...]
  # The text without its probabilities: the declarations, the start line
  # where it is not 0, and `row: statement` for each of the program's rows.
  # What two programs are compared by, line by line.
  code: Tuple[str, ...]


def _softmax(logits):
  shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclasses.dataclass(frozen=True)
class _Choice:
  index: int
  probability: float

  @classmethod
  def of(cls, distribution):
    index = int(np.argmax(distribution))
    return cls(index, float(distribution[index]))


def _control_flow(operations, start, initial_values):
  """{row: its possible next rows}, for the rows the argmax program reaches.

  A JEZ whose target register is never written jumps to that register's
  initial value; one whose target is computed could land anywhere.
  """
  size = len(operations)
  written, successors = set(), {}
  while True:
    frontier, found = [start], {}
    while frontier:
      row = frontier.pop()
      if row in found:
        continue
      operation = operations[row]
      written.add(operation.o)
      found[row] = []
      if operation.instruction != isa.STOP:
        found[row].append((row + 1) % size)
      if operation.instruction == isa.JEZ:
        found[row].extend(range(size) if operation.b in written
                          else [initial_values[operation.b]])
      frontier.extend(found[row])
    if found == successors:
      return successors
    successors = found


def _live_after(operations, successors):
  """{row: registers that some path reads after the row, before rewriting}.

  Classic liveness: a register's value matters after a row only if it is
  live there. Registers live into the start row are the ones whose initial
  value matters.
  """
  def reads(row):
    return {register for register in (operations[row].a, operations[row].b)
            if register is not None}

  live_in = {row: set() for row in successors}
  changed = True
  while changed:
    changed = False
    for row, targets in successors.items():
      live_out = set().union(*(live_in[target] for target in targets))
      updated = reads(row) | (live_out - {operations[row].o})
      if updated != live_in[row]:
        live_in[row], changed = updated, True
  live_out = {row: set().union(*(live_in[target] for target in targets))
              for row, targets in successors.items()}
  return live_in, live_out


def decompile(weights: ControllerWeights, filename: str = "<decompiled>",
              dirac_tolerance: float = DEFAULT_DIRAC_TOLERANCE) -> Decompiled:
  """The argmax program of `weights`, as text and as IR, and its level.

  Only the rows the argmax program can reach are judged and printed (up to
  the last reachable one; unreachable rows in between are marked).
  """
  size = weights.memory_size
  scratch = weights.num_registers - 1
  names = weights.register_names
  instructions = [_Choice.of(row) for row in
                  _softmax(weights.instruction_logits)]
  first = [_Choice.of(row) for row in _softmax(weights.first_argument_logits)]
  second = [_Choice.of(row) for row in
            _softmax(weights.second_argument_logits)]
  output = [_Choice.of(row) for row in _softmax(weights.output_logits)]
  initial = [_Choice.of(row) for row in
             _softmax(weights.initial_register_logits)]
  start = _Choice.of(_softmax(weights.initial_ir_logits))

  operations = []
  for row in range(size):
    code = instructions[row].index
    operations.append(ir.Operation(
        code, first[row].index if isa.USES_X[code] else None,
        second[row].index if isa.USES_Y[code] else None, output[row].index,
        line=row))
  successors = _control_flow(operations, start.index,
                             [choice.index for choice in initial])
  reachable = set(successors)
  every_row = operations
  operations = operations[:max(reachable) + 1]

  def is_dirac(choice):
    return choice.probability >= 1.0 - dirac_tolerance

  live_in, live_out = _live_after(operations, successors)
  soft_jez_arguments = soft_elsewhere = False
  for row in reachable:
    operation = operations[row]
    arguments = ([first[row]] * (operation.a is not None) +
                 [second[row]] * (operation.b is not None))
    if not all(map(is_dirac, arguments)):
      if operation.instruction == isa.JEZ:
        soft_jez_arguments = True
      else:
        soft_elsewhere = True
    if not is_dirac(instructions[row]):
      soft_elsewhere = True
    # Where the result goes matters only if some register is still to be read.
    if live_out[row] and not is_dirac(output[row]):
      soft_elsewhere = True
  scratch_is_read = any(scratch in (operations[row].a, operations[row].b)
                        for row in reachable)
  declared = [index for index in range(weights.num_registers)
              if index != scratch or scratch_is_read]
  if not all(is_dirac(initial[index]) for index in live_in[start.index]):
    soft_elsewhere = True
  if not is_dirac(start):
    soft_elsewhere = True
  level = (SOFT if soft_elsewhere else
           ONLY_JEZ_SOFT if soft_jez_arguments else ALL_DIRAC)

  # A scratch register that is read keeps the value it learned, so that the
  # discrete program computes what the soft one does.
  registers = tuple(
      ir.Register(names[index], ir.SCRATCH,
                  initial[index].index if scratch_is_read else None)
      if index == scratch else
      ir.Register(names[index], ir.VARIABLE, initial[index].index)
      for index in range(weights.num_registers))
  program = ir.Program(size, registers, tuple(operations), filename,
                       start=start.index)
  text = _format(program, instructions, first, second, output, initial,
                 start, declared, reachable, level)
  statements = tuple(_statement(operation, names, scratch, declared)
                     for operation in every_row)
  code_lines = (
      [f"var {names[index]} = {initial[index].index};" for index in declared]
      + [f"# Execution starts at line {start.index}."] * (start.index != 0)
      + [f"{row}: {statements[row]}" for row in range(len(operations))])
  return Decompiled(text, program, level, statements, tuple(code_lines))


def _statement(operation, names, scratch, declared) -> str:
  """`operation` as a statement: `c = ADD(a, b);`, or `WRITE(a, b);` where
  it has no result or discards it into an undeclared scratch register."""
  instruction = isa.INSTRUCTIONS[operation.instruction]
  arguments = ", ".join(names[register]
                        for register in (operation.a, operation.b)
                        if register is not None)
  call = f"{instruction.name}({arguments})"
  discards = operation.o == scratch and scratch not in declared
  if instruction.has_result and not discards:
    return f"{names[operation.o]} = {call};"
  return f"{call};"


def _format(program, instructions, first, second, output, initial, start,
            declared, reachable, level) -> str:
  names = [register.name for register in program.registers]
  scratch = program.scratch
  lines = [f"# Decompiled controller: M = {program.memory_size}, "
           f"{program.num_registers} registers, interpretability level "
           f"{level}.",
           "# Each line: the most likely choice, its probability after '#'."]
  for index in declared:
    note = (" (the scratch register: uniform at first)"
            if index == scratch else "")
    lines.append(f"var {names[index]} = {initial[index].index};"
                 f"  # p = {initial[index].probability:.2f}{note}")
  if start.index != 0:
    lines.append(f"# Execution starts at line {start.index} "
                 f"(p = {start.probability:.2f}).")
  for row, operation in enumerate(program.operations):
    instruction = isa.INSTRUCTIONS[operation.instruction]
    statement = _statement(operation, names, scratch, declared)
    notes = [f"{row}: {instruction.name} {instructions[row].probability:.2f}"]
    if operation.a is not None:
      notes.append(f"x {names[operation.a]} {first[row].probability:.2f}")
    if operation.b is not None:
      notes.append(f"y {names[operation.b]} {second[row].probability:.2f}")
    if instruction.has_result or operation.o != scratch:
      notes.append(f"-> {names[operation.o]} {output[row].probability:.2f}")
    if not instruction.has_result and operation.o != scratch:
      notes.append(f"(also sets {names[operation.o]} = 0)")
    if row not in reachable:
      notes.append("unreachable")
    lines.append(f"{statement:<32s} # {', '.join(notes)}")
  return "\n".join(lines) + "\n"
