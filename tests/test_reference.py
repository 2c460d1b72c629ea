"""The discrete machine follows docs/anc-machine.md instruction by instruction."""

import pytest

from tf_anc import lang
from tf_anc import reference


def run(source, memory, memory_size=10, max_steps=50):
  program = lang.parse_program(source, memory_size)
  memory = list(memory) + [0] * (memory_size - len(memory))
  return reference.run(program, memory, max_steps)


@pytest.mark.parametrize("op, x, y, expected", [
    ("ADD", 7, 5, 2), ("SUB", 2, 5, 7), ("MIN", 3, 8, 3), ("MAX", 3, 8, 8),
])
def test_binary_arithmetic_is_modulo_m(op, x, y, expected):
  execution = run(f"var r = {op}({x}, {y}); WRITE(0, r); STOP();", [])
  assert execution.memory[0] == expected


@pytest.mark.parametrize("op, x, expected", [
    ("INC", 9, 0), ("DEC", 0, 9), ("READ", 2, 7),
])
def test_unary_instructions(op, x, expected):
  execution = run(f"var r = {op}({x}); WRITE(0, r); STOP();", [0, 0, 7])
  assert execution.memory[0] == expected


def test_write_stores_y_at_address_x():
  assert run("WRITE(3, 4); STOP();", []).memory[3] == 4


def test_arguments_are_read_before_the_result_is_written():
  execution = run("var r = 4; r = SUB(r, r); WRITE(1, r); STOP();", [])
  assert execution.memory[1] == 0


def test_jez_jumps_when_x_is_zero_and_falls_through_otherwise():
  source = """
  var v = READ(0);
  JEZ(v, zero);
  WRITE(1, 2);
  STOP();
  zero: WRITE(1, 3);
  STOP();
  """
  assert run(source, [0]).memory[1] == 3
  assert run(source, [1]).memory[1] == 2


def test_steps_count_the_final_stop():
  assert run("WRITE(1, 1); STOP();", []).steps == 2


def test_running_off_the_end_halts_on_an_implicit_stop():
  execution = run("WRITE(1, 1);", [])
  assert (execution.steps, execution.halted) == (2, True)


def test_max_steps_ends_an_endless_loop_unhalted():
  execution = run("loop: JEZ(0, loop);", [], max_steps=7)
  assert (execution.steps, execution.halted) == (7, False)


def test_the_instruction_register_wraps_modulo_m():
  # M = 3: INC, INC, INC then IR wraps to 0; the loop never halts.
  execution = run("var r = INC(r); r = INC(r); r = INC(r);", [],
                  memory_size=3, max_steps=6)
  assert (execution.steps, execution.halted) == (6, False)


def test_memory_values_outside_the_range_are_rejected():
  with pytest.raises(ValueError, match="outside"):
    run("STOP();", [10])
