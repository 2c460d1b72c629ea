"""Discrete local search over programs: simulated annealing on the machine.

Gradient descent only makes local changes to the soft program (the paper's
conclusion), and some faster programs are several coordinated edits away
from any program it reaches. This search works on the discrete problem
itself: starting from a program (a restart's argmax program after
training), it changes one choice at a time (a line's instruction, one of
its registers, a register's initial value, the start line), runs each
candidate on the discrete machine over a set of examples, and accepts it by
the Metropolis rule on

  energy = wrong_cell_cost * (wrong masked cells per example) + mean steps

with a temperature cooling linearly to near zero. It returns the fastest
program met that is right on every example, if one is faster than the
bound it is given. Deterministic in its seed.
"""

import dataclasses
import math
import random
from typing import NamedTuple, Optional

import numpy as np

from tf_anc import isa
from tf_anc import reference
from tf_anc.lang import ir


class Found(NamedTuple):
  program: ir.Program
  mean_steps: float  # on the search's examples


def distinct_examples(inputs, targets, masks, limit):
  """The first `limit` examples whose inputs differ: a biased distribution
  repeats its inputs, and running one twice tells the search nothing."""
  _, first = np.unique(inputs, axis=0, return_index=True)
  chosen = np.sort(first)[:limit]
  return inputs[chosen], targets[chosen], masks[chosen]


def padded(program: ir.Program) -> ir.Program:
  """`program` with every row of the controller: rows past its end are
  STOP (as compiled), so that the search may put instructions there; every
  argument a register (an ignored one reads the first)."""
  stop = ir.Operation(isa.STOP, None, None, program.scratch)
  operations = (list(program.operations) +
                [stop] * (program.memory_size - len(program.operations)))
  operations = [dataclasses.replace(operation, a=operation.a or 0,
                                    b=operation.b or 0, label=None)
                for operation in operations]
  # The scratch register starts uniform on the soft machine and 0 on the
  # discrete one: a program that reads it must say what it holds.
  registers = list(program.registers)
  if registers[-1].initial is None:
    registers[-1] = dataclasses.replace(registers[-1], initial=0)
  return dataclasses.replace(program, operations=tuple(operations),
                             registers=tuple(registers))


def score(program: ir.Program, examples, max_steps):
  """(wrong masked cells per example, mean steps) on the discrete machine."""
  return _score_within(program, examples, max_steps, math.inf,
                       wrong_cell_cost=0.0)


def _score_within(program, examples, max_steps, energy_limit,
                  wrong_cell_cost):
  """`score`, or None as soon as the energy is known to exceed
  `energy_limit`: both of its terms only grow with each example run."""
  wrong, steps = 0, 0
  inputs, targets, masks = examples
  count = len(inputs)
  for memory, target, mask in zip(inputs, targets, masks):
    execution = reference.run(program, memory, max_steps)
    wrong += int(np.sum((np.asarray(execution.memory) != target) & mask))
    steps += execution.steps
    if (wrong_cell_cost * wrong + steps) / count > energy_limit:
      return None
  return wrong / count, steps / count


def _neighbour(program: ir.Program, rng: random.Random) -> ir.Program:
  """`program` with one choice drawn afresh."""
  size, num_registers = program.memory_size, program.num_registers
  move = rng.random()
  if move < 0.8:  # a line's instruction or one of its registers
    line = rng.randrange(size)
    field = rng.choice(("instruction", "a", "b", "o"))
    value = rng.randrange(isa.NUM_INSTRUCTIONS if field == "instruction"
                          else num_registers)
    operations = list(program.operations)
    operations[line] = dataclasses.replace(operations[line],
                                           **{field: value})
    return dataclasses.replace(program, operations=tuple(operations))
  if move < 0.95:  # a register's initial value
    registers = list(program.registers)
    index = rng.randrange(num_registers)
    registers[index] = dataclasses.replace(registers[index],
                                           initial=rng.randrange(size))
    return dataclasses.replace(program, registers=tuple(registers))
  return dataclasses.replace(program, start=rng.randrange(size))


def anneal(program: ir.Program, examples, max_steps, steps, seed,
           faster_than, temperature=0.7,
           wrong_cell_cost=100.0) -> Optional[Found]:
  """The fastest program `steps` of annealing from `program` meet that is
  right on every one of `examples` (inputs, targets, masks) and takes
  fewer mean steps than `faster_than`; None if none does."""
  rng = random.Random(seed)
  current = padded(program)

  def energy(scores):
    wrong, mean_steps = scores
    return wrong_cell_cost * wrong + mean_steps

  current_scores = score(current, examples, max_steps)
  best = None
  for step in range(steps + 1):
    if step:
      candidate = _neighbour(current, rng)
      # Linear cooling to a floor: late on, only rarely uphill.
      cooled = temperature * (1 - step / steps) + 0.05
      # Metropolis: accept when energy(candidate) - energy(current) <
      # -cooled * log(u); drawn first, so that a candidate's run stops as
      # soon as it cannot be accepted.
      limit = energy(current_scores) - cooled * math.log(1.0 - rng.random())
      candidate_scores = _score_within(candidate, examples, max_steps, limit,
                                       wrong_cell_cost)
      if candidate_scores is None:
        continue
      current, current_scores = candidate, candidate_scores
    wrong, mean_steps = current_scores
    if (not wrong and mean_steps < faster_than and
        (best is None or mean_steps < best.mean_steps)):
      best = Found(current, mean_steps)
  return best
