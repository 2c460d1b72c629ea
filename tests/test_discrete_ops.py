"""The native discrete machine and program search against their references.

AncDiscreteRun must run every program as tf_anc.reference does, and
AncProgramSearch must return, chain for chain, what the Python search
(program_search.anneal) returns for the same seed.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import isa
from tf_anc import kernels
from tf_anc import lang
from tf_anc import tasks
from tf_anc.lang import ir
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import discrete
from tf_anc.training import program_search
from tf_anc_datasets import anc_distributions

pytestmark = pytest.mark.skipif(not discrete.native(),
                                reason="the op library is not built here")


def random_program(rng, size, num_registers):
  """Any program the IR can hold: short ones (they halt off the end),
  ignored arguments, registers without a value, any start line."""
  registers = tuple(
      ir.Register(f"r{index}", ir.VARIABLE,
                  None if rng.random() < 0.2 else int(rng.integers(size)))
      for index in range(num_registers))

  def argument():
    return None if rng.random() < 0.2 else int(rng.integers(num_registers))

  length = int(rng.integers(1, size + 1))
  operations = tuple(
      ir.Operation(int(rng.integers(isa.NUM_INSTRUCTIONS)), argument(),
                   argument(), int(rng.integers(num_registers)))
      for _ in range(length))
  return ir.Program(size, registers, operations,
                    start=int(rng.integers(length)))


def test_the_native_machine_runs_every_program_as_the_reference_does():
  rng = np.random.default_rng(0)
  for size, num_registers in [(4, 1), (7, 3), (12, 5)]:
    programs = [random_program(rng, size, num_registers) for _ in range(100)]
    inputs = rng.integers(size, size=(8, size))
    native = discrete.run(programs, inputs, max_steps=30, use_native=True)
    python = discrete.run(programs, inputs, max_steps=30, use_native=False)
    for name, values in native._asdict().items():
      np.testing.assert_array_equal(values, getattr(python, name), name)
    assert native.halted.any() and not native.halted.all()


def test_the_native_machine_refuses_values_out_of_its_ranges():
  program = random_program(np.random.default_rng(1), 5, 2)
  rows, registers, starts = discrete.encode([program])
  memory = np.zeros([1, 5], np.int32)
  bad_rows = rows.copy()
  bad_rows[0, 2, 3] = 2
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"programs\[0, 2, 3\] is 2, outside \[0, 2\)"):
    kernels.load().anc_discrete_run(bad_rows, registers, starts, memory,
                                    max_steps=3)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"memories\[0, 4\] is outside \[0, 5\)"):
    kernels.load().anc_discrete_run(rows, registers, starts,
                                    np.array([[0, 0, 0, 0, 5]], np.int32),
                                    max_steps=3)
  with pytest.raises(ValueError, match="cell 4 holds 7, outside"):
    discrete.run([program], [[0, 0, 0, 0, 7]], max_steps=3)


def test_decoding_an_encoded_search_program_gives_it_back():
  task = tasks.TASKS["listk"]
  program = program_search.padded(
      lang.load_program(tasks.program_path(task), task.memory_size))
  assert discrete.decode(program, *(array[0] for array in
                                    discrete.encode([program]))) == program


def task_examples(name, count=20):
  return program_search.distinct_examples(
      *anc_distributions.sample(name, "biased", 60, seed=1), count)


@pytest.mark.parametrize("name", ["access", "increment", "listk", "sort"])
def test_native_annealing_returns_what_the_python_search_returns(name):
  task = tasks.TASKS[name]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  examples = task_examples(name)
  generic = program_search.score(program, examples, task.max_steps)[1]
  seeds = [f"7/{chain}" for chain in range(3)]
  bounds = [generic, generic, generic / 2]
  runs = [program_search.anneal_many([program] * 3, examples, task.max_steps,
                                     400, seeds, bounds, use_native=native)
          for native in (True, False)]
  assert runs[0] == runs[1]
  if name in ("access", "sort"):  # searches these steps improve
    assert runs[0][0] is not None


def test_guided_annealing_returns_what_the_python_search_returns():
  task = tasks.TASKS["access"]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  weights = compile_program(program, sharpness=3.0)
  noisy = dataclasses.replace(weights, instruction_logits=(
      weights.instruction_logits +
      np.random.default_rng(2).normal(size=weights.instruction_logits.shape)))
  proposals = [program_search.proposal_distributions(controller, 1.5)
               for controller in (weights, noisy)]
  examples = task_examples("access")
  runs = [program_search.anneal_many(
      [program] * 2, examples, task.max_steps, 400, ["1", "2"], [5.0, 5.0],
      proposals=proposals, use_native=native) for native in (True, False)]
  assert runs[0] == runs[1]


def test_proposals_follow_the_controller_and_end_at_one():
  task = tasks.TASKS["access"]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  table = program_search.proposal_distributions(
      compile_program(program, sharpness=10.0), temperature=1.0)
  size, num_registers = task.memory_size, program.num_registers
  assert table.shape == (4 * size + num_registers + 1,
                         max(isa.NUM_INSTRUCTIONS, num_registers, size))
  first_instruction = program.operations[0].instruction
  probabilities = np.diff(table[0, :isa.NUM_INSTRUCTIONS], prepend=0.0)
  assert np.argmax(probabilities) == first_instruction
  assert probabilities[first_instruction] > 0.99
  assert (table[:, -1] == 1.0).all()
  # A hot controller proposes every value about equally.
  hot = program_search.proposal_distributions(
      compile_program(program, sharpness=10.0), temperature=1e6)
  np.testing.assert_allclose(np.diff(hot[0, :isa.NUM_INSTRUCTIONS],
                                     prepend=0.0),
                             1 / isa.NUM_INSTRUCTIONS, rtol=1e-3)
