"""A user's program on the memories it sees: `tf_anc.tasks.Task`."""

import os

import numpy as np
import pytest

from tf_anc import lang, reference, tasks
from tf_anc.lang import AncSyntaxError
from tf_anc.memories import MemoriesError
from tests.test_cli import REPO

EXAMPLES = os.path.join(REPO, "docs", "examples")
MULTIPLY = os.path.join(EXAMPLES, "multiply.anc")
# Doubles mem[0] into mem[2] when mem[1] = 2 (docs/examples/multiply.anc).
DOUBLE_INPUTS = [[a, 2, 0, 0, 0, 0, 0, 0, 0, 0] for a in range(10)]
LOOP_FOREVER = "var x = 0; loop: JEZ(x, loop);"


def test_the_targets_are_the_programs_own_results_on_the_discrete_machine():
  task = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS)
  program = lang.load_program(MULTIPLY, 10)
  for split in tasks.SPLITS:
    examples = task.examples(split)
    for memory, target in zip(examples["input"], examples["target"]):
      np.testing.assert_array_equal(
          target, reference.run(program, memory, 100).memory)


def test_the_cells_that_count_are_those_the_program_writes():
  task = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS)
  assert task.output_cells == (2,)
  assert np.all(task.examples("train")["mask"] == (np.arange(10) == 2))


def test_output_cells_can_be_named():
  task = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS, output_cells=[2, 0])
  assert task.output_cells == (0, 2)


@pytest.mark.parametrize("cells,words", [
    ([10], "output cell 10 is outside"), ([], "none given"),
    ([2, 2], "named twice")])
def test_bad_output_cells_are_refused(cells, words):
  with pytest.raises(ValueError, match=words):
    tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS, output_cells=cells)


def test_memory_size_is_the_inputs_width_and_t_max_the_longest_run_plus_margin():
  task = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS)
  longest = max(reference.run(task.program, memory, 100).steps
                for memory in DOUBLE_INPUTS)
  assert task.memory_size == 10
  assert task.max_steps == tasks.step_budget(longest) == longest + 4


def test_step_budget_adds_a_quarter_and_at_least_two():
  assert [tasks.step_budget(n) for n in (1, 8, 9, 40)] == [3, 10, 12, 50]


@pytest.mark.parametrize("max_steps", [0, -3, 2.5, float("nan")])
def test_a_max_steps_that_is_not_a_positive_whole_number_is_refused(
    max_steps):
  with pytest.raises(ValueError, match="max_steps must be a whole number"):
    tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS, max_steps=max_steps)


def test_a_fifth_of_the_inputs_is_held_out_by_a_fixed_permutation():
  first = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS)
  second = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS)
  train, test = first.examples("train")["input"], first.examples("test")["input"]
  assert (len(train), len(test)) == (8, 2)
  assert not {tuple(row) for row in train} & {tuple(row) for row in test}
  np.testing.assert_array_equal(test, second.examples("test")["input"])


def test_test_inputs_when_given_are_the_test_split():
  task = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS[:6],
                                test_inputs=DOUBLE_INPUTS[6:])
  assert len(task.examples("train")["input"]) == 6
  np.testing.assert_array_equal(task.examples("test")["input"],
                                DOUBLE_INPUTS[6:])


def test_test_inputs_of_another_width_are_refused():
  with pytest.raises(MemoriesError, match="memories of 3 cells, the inputs' "
                     "have 10"):
    tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS, test_inputs=[[0, 1, 2]])


def test_an_input_on_which_the_program_does_not_halt_is_named():
  with pytest.raises(MemoriesError, match="memory 0: the program does not "
                     "halt within 30 steps"):
    tasks.Task.from_inputs(LOOP_FOREVER, [[0, 0], [0, 1]], max_steps=30)


def test_a_program_too_large_for_the_inputs_width_is_a_located_error():
  with pytest.raises(AncSyntaxError, match=r"multiply.anc:\d+:\d+: program "
                     r"has 8 instructions, more than M = 4"):
    tasks.Task.from_inputs(MULTIPLY, [[1, 2, 0, 0], [3, 2, 0, 0]])


def test_a_program_that_writes_nothing_needs_output_cells():
  with pytest.raises(ValueError, match="writes no cell"):
    tasks.Task.from_inputs("STOP();", [[0, 1], [1, 0]])


def test_a_program_may_be_source_text_or_a_parsed_program():
  with open(MULTIPLY) as f:
    text = f.read()
  from_text = tasks.Task.from_inputs(text, DOUBLE_INPUTS)
  from_ir = tasks.Task.from_inputs(lang.parse(MULTIPLY, 10), DOUBLE_INPUTS)
  assert from_text.program.operations == from_ir.program.operations
  assert from_text.program.registers == from_ir.program.registers
  assert from_text.program_text == text
  with pytest.raises(ValueError, match="compiled for M = 10"):
    tasks.Task.from_inputs(from_ir.program, [[0, 1, 0], [1, 1, 0]])


def test_from_sampler_draws_train_and_test_memories_from_its_seed():
  def sample(rng):
    return [int(rng.integers(10)), 2] + [0] * 8

  task = tasks.Task.from_sampler(MULTIPLY, sample, num_train=30, num_test=5,
                                 seed=3)
  again = tasks.Task.from_sampler(MULTIPLY, sample, num_train=30, num_test=5,
                                  seed=3)
  assert len(task.examples("train")["input"]) == 30
  assert len(task.examples("test")["input"]) == 5
  np.testing.assert_array_equal(task.examples("train")["input"],
                                again.examples("train")["input"])


def test_dataset_yields_the_splits_examples_as_tensors():
  task = tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS)
  element = next(iter(task.dataset("train")))
  assert set(element) == {"input", "target", "mask"}
  assert element["input"].shape == (10,)
  assert element["mask"].dtype.name == "bool"
  assert len(list(task.dataset("train", num_examples=3))) == 3


def test_an_unknown_split_is_refused():
  with pytest.raises(ValueError, match="unknown split 'validation'"):
    tasks.Task.from_inputs(MULTIPLY, DOUBLE_INPUTS).examples("validation")


def test_a_shipped_task_with_its_generic_program_passes_the_target_check():
  tasks.check_targets(tasks.Task.shipped("access"), num_examples=200)


def test_a_shipped_tasks_split_is_read_once_a_process_and_kept_read_only(
    tmp_path, monkeypatch):
  from tf_anc_datasets import anc_tasks  # pylint: disable=g-import-not-at-top
  reads = []
  load = anc_tasks.load
  monkeypatch.setattr(anc_tasks, "load",
                      lambda *args, **kwargs: reads.append(args) or load(
                          *args, **kwargs))
  data_dir = str(tmp_path / "tfds")
  first, second = (tasks.Task.shipped("swap", data_dir=data_dir)
                   .examples("train", 30) for _ in range(2))
  assert len(reads) == 1
  np.testing.assert_array_equal(first["input"], second["input"])
  with pytest.raises(ValueError, match="read-only"):
    second["input"][0, 0] = 1


def test_a_program_that_misses_a_shipped_tasks_targets_is_named(tmp_path):
  path = tmp_path / "zero.anc"
  path.write_text("var zero = 0; WRITE(zero, zero); STOP();")
  task = tasks.Task.shipped("access", program=str(path))
  with pytest.raises(ValueError, match=r"zero.anc: does not compute task "
                     r"access \(biased\)'s targets: on train example \d+ it "
                     r"leaves cell \d+ = \d+, the task's target is \d+"):
    tasks.check_targets(task, num_examples=200)


def test_a_program_that_does_not_halt_on_a_shipped_task_is_named(tmp_path):
  path = tmp_path / "forever.anc"
  path.write_text(LOOP_FOREVER)
  task = tasks.Task.shipped("access", program=str(path))
  with pytest.raises(ValueError, match=r"forever.anc: does not halt within "
                     r"T_max = 10 steps on task access \(biased\)'s train "
                     r"example 0"):
    tasks.check_targets(task, num_examples=200)
