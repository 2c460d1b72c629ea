"""The compiler: IR -> controller logits (docs/anc-machine.md)."""

import numpy as np
import pytest

from tf_anc import isa
from tf_anc import lang
from tf_anc import tasks
from tf_anc.lang.compiler import compile_program



@pytest.fixture(name="weights")
def _weights():
  program = lang.load_program(tasks.program_path("listk"), 20)
  return compile_program(program, sharpness=5.0)


def test_weight_shapes_follow_memory_size_and_registers(weights):
  assert weights.shapes() == {
      "instruction_logits": (20, 11),
      "first_argument_logits": (20, 7),
      "second_argument_logits": (20, 7),
      "output_logits": (20, 7),
      "initial_register_logits": (7, 20),
      "initial_ir_logits": (20,),
  }


def test_each_row_is_sharpness_times_one_hot_of_its_command(weights):
  # Row 4 is `JEZ(k, found)`: x = k (r1), y = the constant 6 (r3).
  assert weights.instruction_logits[4].tolist() == [0.0] * 10 + [5.0]
  assert np.argmax(weights.first_argument_logits[4]) == 1
  assert np.argmax(weights.second_argument_logits[4]) == 3
  assert weights.first_argument_logits[4].max() == 5.0


def test_ignored_arguments_are_flat(weights):
  # Row 0 is `k = READ(k)`: READ ignores y.
  assert not weights.second_argument_logits[0].any()


def test_rows_past_the_program_are_stop(weights):
  stop_row = [5.0] + [0.0] * 10
  for row in range(10, 20):
    assert weights.instruction_logits[row].tolist() == stop_row


def test_discarded_results_go_to_the_scratch_register(weights):
  scratch = weights.num_registers - 1
  assert np.argmax(weights.output_logits[8]) == scratch  # WRITE(out, head)


def test_initial_registers_hold_their_values_and_scratch_is_uniform(weights):
  initial = weights.initial_register_logits
  assert [int(np.argmax(row)) for row in initial[:6]] == [0, 1, 2, 6, 0, 2]
  assert not initial[6].any()


def test_execution_starts_at_line_zero(weights):
  assert weights.initial_ir_logits.tolist() == [5.0] + [0.0] * 19


def test_weights_survive_save_and_load(weights, tmp_path):
  loaded = type(weights).load(weights.save(str(tmp_path / "w")))
  assert loaded.register_names == weights.register_names
  for name in weights.shapes():
    np.testing.assert_array_equal(getattr(loaded, name), getattr(weights, name))


def test_the_instruction_order_is_the_papers():
  assert [i.name for i in isa.INSTRUCTIONS] == [
      "STOP", "ZERO", "INC", "ADD", "SUB", "DEC", "MIN", "MAX", "READ",
      "WRITE", "JEZ"]
