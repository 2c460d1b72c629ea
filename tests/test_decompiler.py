"""The decompiler: controller weights back to `.anc` text, with levels."""

import numpy as np
import pytest

from tf_anc import lang
from tf_anc import reference
from tf_anc import tasks
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine
from tf_anc.lang.decompiler import (ALL_DIRAC, ONLY_JEZ_SOFT, SOFT,
                                    decompile)
from tf_anc_datasets import anc_distributions


def compiled(task_name, sharpness=100.0):
  task = tasks.TASKS[task_name]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  return program, compile_program(program, sharpness)


@pytest.mark.parametrize("task_name", sorted(tasks.TASKS))
def test_decompiled_text_recompiles_to_the_same_weights(task_name):
  program, weights = compiled(task_name)
  text = decompile(weights).text
  recompiled = compile_program(
      lang.parse_program(text, program.memory_size))
  assert recompiled.register_names == weights.register_names
  for name in weights.shapes():
    np.testing.assert_array_equal(getattr(recompiled, name),
                                  getattr(weights, name), err_msg=name)


@pytest.mark.parametrize("task_name", sorted(tasks.TASKS))
def test_decompiled_program_runs_identically(task_name):
  task = tasks.TASKS[task_name]
  program, weights = compiled(task_name)
  decompiled = decompile(weights).program
  inputs = anc_distributions.sample(task_name, task.distributions[0], 50, seed=1)[0]
  for memory in inputs:
    assert (reference.run(decompiled, memory, task.max_steps) ==
            reference.run(program, memory, task.max_steps))


def test_compiled_programs_are_all_dirac_even_at_low_sharpness():
  # Sharpness 6: the top choice holds >= 0.95 of a row of at most 20.
  _, weights = compiled("listk", sharpness=6.0)
  assert decompile(weights, dirac_tolerance=0.1).interpretability == ALL_DIRAC


def test_soft_jump_target_is_level_two():
  _, weights = compiled("listk")
  weights.second_argument_logits[4] = 0.0  # JEZ(k, found): target now soft
  assert decompile(weights).interpretability == ONLY_JEZ_SOFT


def test_soft_instruction_choice_is_level_three():
  _, weights = compiled("listk")
  weights.instruction_logits[3, 2] = 100.0  # DEC or INC, equally likely
  assert decompile(weights).interpretability == SOFT


def test_soft_initial_register_is_level_three():
  _, weights = compiled("listk")
  weights.initial_register_logits[1] = 0.0
  assert decompile(weights).interpretability == SOFT


def test_text_shows_each_choice_with_its_probability():
  _, weights = compiled("listk")
  text = decompile(weights).text
  assert "k = DEC(k);" in text
  assert "3: DEC 1.00, x k 1.00, -> k 1.00" in text
  assert "JEZ(k, const_6);" in text


def test_trailing_stop_rows_are_trimmed_to_one():
  program, weights = compiled("listk")
  assert len(decompile(weights).program.operations) == len(program.operations)


def test_unreachable_rows_neither_print_nor_lower_the_level():
  program, weights = compiled("listk")
  rng = np.random.default_rng(0)
  # Rows after the final STOP are never executed, whatever they hold.
  weights.instruction_logits[12:] = rng.normal(0, 1, [8, 11])
  decompiled = decompile(weights)
  assert decompiled.interpretability == ALL_DIRAC
  assert len(decompiled.program.operations) == len(program.operations)


def test_computed_jump_targets_make_every_row_reachable():
  program = lang.parse_program(
      "var t = READ(0); JEZ(0, t); STOP(); WRITE(1, 1); STOP();", 10)
  weights = compile_program(program)
  weights.instruction_logits[4, 2] = 100.0  # row 4: STOP or INC, soft
  assert decompile(weights).interpretability == SOFT


def test_initial_values_overwritten_before_any_read_do_not_count():
  _, weights = compiled("swap")
  # `var p = READ(0);` writes p before anything reads it.
  weights.initial_register_logits[0] = 0.0
  assert decompile(weights).interpretability == ALL_DIRAC


def test_a_soft_output_register_counts_only_while_registers_are_live():
  _, weights = compiled("listk")
  weights.output_logits[8] = 0.0  # WRITE(out, head): only STOP follows
  assert decompile(weights).interpretability == ALL_DIRAC
  weights.output_logits[3] = 0.0  # k = DEC(k): k is read next
  assert decompile(weights).interpretability == SOFT


def test_the_decompiled_program_starts_where_the_learned_one_does():
  program = lang.parse_program(
      "var a = 3; var b = 0; WRITE(b, a); STOP(); b = INC(a); WRITE(b, a);"
      " STOP();", 10)
  weights = compile_program(program)
  weights.initial_ir_logits[:] = 0.0
  weights.initial_ir_logits[2] = 100.0  # learned: start at `b = INC(a)`
  # ... and read the scratch register, whose learned value is 6.
  weights.first_argument_logits[2] = 0.0
  weights.first_argument_logits[2, program.scratch] = 100.0
  weights.initial_register_logits[program.scratch] = 0.0
  weights.initial_register_logits[program.scratch, 6] = 100.0
  decompiled = decompile(weights)
  assert decompiled.interpretability == ALL_DIRAC
  assert "Execution starts at line 2" in decompiled.text
  soft = SoftMachine.from_weights(weights, 10)(np.zeros([1, 10], np.int32))
  discrete = reference.run(decompiled.program, [0] * 10, 10)
  assert discrete.memory == [0] * 7 + [3, 0, 0]
  assert discrete.steps == int(soft["steps"][0])
  assert np.argmax(soft["memory"][0], axis=-1).tolist() == discrete.memory


def test_every_row_has_its_most_likely_statement_reachable_or_not():
  _, weights = compiled("listk")
  statements = decompile(weights).statements
  assert len(statements) == weights.memory_size
  assert statements[3] == "k = DEC(k);"
  assert statements[-1] == "STOP();"  # past the program's end


def test_the_code_is_the_text_without_its_probabilities():
  program, weights = compiled("access")
  assert decompile(weights).code == (
      "var v = 0;", "var const_0 = 0;", "0: v = READ(const_0);",
      "1: v = INC(v);", "2: v = READ(v);", "3: WRITE(const_0, v);",
      "4: STOP();")
