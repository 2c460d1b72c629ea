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

A changed choice's new value is drawn uniformly, or from a trained
controller's own distributions over that choice (`proposal_distributions`:
the gradient's guess at what each line should do, at a temperature).

`anneal` is the search in Python, the reference; `anneal_many` runs many
chains at once in native code (the AncProgramSearch op, on the CPU's
threads) when the op library loads, drawing from the same random numbers
in the same order, so that it returns exactly what `anneal` returns for each
chain (tests/test_discrete_ops.py).
"""

import bisect
import dataclasses
import math
import random
from typing import List, NamedTuple, Optional, Sequence

import numpy as np

from tf_anc import isa
from tf_anc import kernels
from tf_anc import reference
from tf_anc.lang import ir
from tf_anc.machine import discrete
from tf_anc.weights import ControllerWeights

# A line's choices in the order the search draws them (a choice of this
# tuple), and their columns in discrete.encode's rows.
_FIELDS = ("instruction", "a", "b", "o")


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
  # A register without a value (the scratch) starts uniform on the soft
  # machine and 0 on the discrete one: a program that reads it must say
  # what it holds.
  registers = tuple(dataclasses.replace(register, initial=register.initial or 0)
                    for register in program.registers)
  return dataclasses.replace(program, operations=tuple(operations),
                             registers=registers)


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


def proposal_distributions(weights: ControllerWeights,
                           temperature: float) -> np.ndarray:
  """A trained controller's choices as the search's proposals: for each
  line's instruction and registers, each register's initial value and the
  start line (rows in that order), the cumulative softmax of its logits
  divided by `temperature`, padded with ones to one width; `[4M + R + 1,
  max(11, R, M)]` float64, each row's last value exactly 1."""
  logits = []
  for line in range(weights.memory_size):
    logits += [weights.instruction_logits[line],
               weights.first_argument_logits[line],
               weights.second_argument_logits[line],
               weights.output_logits[line]]
  logits += list(weights.initial_register_logits) + [weights.initial_ir_logits]
  return _cumulative_softmaxes(logits, weights.memory_size,
                               weights.num_registers, temperature)


def uniform_proposals(memory_size: int, num_registers: int) -> np.ndarray:
  """`proposal_distributions`' table for proposals drawn uniformly."""
  counts = ([isa.NUM_INSTRUCTIONS] + [num_registers] * 3) * memory_size + (
      [memory_size] * (num_registers + 1))
  return _cumulative_softmaxes([np.zeros(count) for count in counts],
                               memory_size, num_registers, 1.0)


def _cumulative_softmaxes(logits, memory_size: int, num_registers: int,
                          temperature: float) -> np.ndarray:
  """The proposal table's rows: each of `logits`' cumulative softmax at
  `temperature`, padded with ones."""
  width = max(isa.NUM_INSTRUCTIONS, num_registers, memory_size)
  table = np.ones([len(logits), width])
  for row, values in enumerate(logits):
    scaled = np.asarray(values, np.float64) / temperature
    cumulative = np.cumsum(np.exp(scaled - scaled.max()))
    cumulative /= cumulative[-1]
    cumulative[-1] = 1.0  # a draw in [0, 1) never passes the last value
    table[row, :len(cumulative)] = cumulative
  return table


def _draw(rng: random.Random, count: int, proposals, row: int) -> int:
  """A value in [0, count): uniform, or from row `row` of `proposals`."""
  if proposals is None:
    return rng.randrange(count)
  return bisect.bisect_right(proposals[row], rng.random())


def _neighbour(program: ir.Program, rng: random.Random,
               proposals=None) -> ir.Program:
  """`program` with one choice drawn afresh."""
  size, num_registers = program.memory_size, program.num_registers
  move = rng.random()
  if move < 0.8:  # a line's instruction or one of its registers
    line = rng.randrange(size)
    field = rng.choice(_FIELDS)
    value = _draw(rng, isa.NUM_INSTRUCTIONS if field == "instruction"
                  else num_registers, proposals,
                  line * len(_FIELDS) + _FIELDS.index(field))
    operations = list(program.operations)
    operations[line] = dataclasses.replace(operations[line],
                                           **{field: value})
    return dataclasses.replace(program, operations=tuple(operations))
  if move < 0.95:  # a register's initial value
    registers = list(program.registers)
    index = rng.randrange(num_registers)
    registers[index] = dataclasses.replace(
        registers[index],
        initial=_draw(rng, size, proposals, size * len(_FIELDS) + index))
    return dataclasses.replace(program, registers=tuple(registers))
  return dataclasses.replace(
      program, start=_draw(rng, size, proposals,
                           size * len(_FIELDS) + num_registers))


def anneal(program: ir.Program, examples, max_steps, steps, seed,
           faster_than, temperature=0.7, wrong_cell_cost=100.0,
           proposals=None) -> Optional[Found]:
  """The fastest program `steps` of annealing from `program` meet that is
  right on every one of `examples` (inputs, targets, masks) and takes
  fewer mean steps than `faster_than`; None if none does. `proposals`:
  `proposal_distributions`' table, or None for uniform proposals."""
  rng = random.Random(seed)
  current = padded(program)

  def energy(scores):
    wrong, mean_steps = scores
    return wrong_cell_cost * wrong + mean_steps

  current_scores = score(current, examples, max_steps)
  best = None
  for step in range(steps + 1):
    if step:
      candidate = _neighbour(current, rng, proposals)
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


def anneal_many(programs: Sequence[ir.Program], examples, max_steps, steps,
                seeds, faster_than, temperature=0.7, wrong_cell_cost=100.0,
                proposals=None, use_native=None) -> List[Optional[Found]]:
  """`anneal` from each of `programs`, chain `i` with `seeds[i]`,
  `faster_than[i]` and `proposals[i]` (None: uniform proposals for all; a
  None entry: `uniform_proposals` for that chain), every chain on the same
  `examples`. Native (`use_native` None: when the op library loads) or
  `anneal` one chain after another: the same results."""
  if not programs:
    return []
  if proposals is not None:
    proposals = [table if table is not None
                 else uniform_proposals(program.memory_size,
                                        program.num_registers)
                 for program, table in zip(programs, proposals)]
  if use_native is None:
    use_native = discrete.native()
  if not use_native:
    return [anneal(program, examples, max_steps, steps, seed, bound,
                   temperature, wrong_cell_cost,
                   None if proposals is None else proposals[index])
            for index, (program, seed, bound) in enumerate(
                zip(programs, seeds, faster_than))]
  starts = [padded(program) for program in programs]
  inputs, targets, masks = examples
  outputs = kernels.load().anc_program_search(
      *discrete.encode(starts),
      np.array([random.Random(seed).getstate()[1] for seed in seeds],
               np.int64),
      np.asarray(faster_than, np.float64),
      np.asarray(inputs, np.int32), np.asarray(targets, np.int32),
      np.asarray(masks, bool),
      (np.zeros([0, 0, 0]) if proposals is None
       else np.asarray(proposals, np.float64)),
      float(temperature), float(wrong_cell_cost),
      max_steps=int(max_steps), steps=int(steps))
  found, rows, initial_registers, start_lines, mean_steps = (
      output.numpy() for output in outputs)
  return [Found(discrete.decode(start, rows[index],
                                initial_registers[index],
                                start_lines[index]),
                float(mean_steps[index])) if found[index] else None
          for index, start in enumerate(starts)]
