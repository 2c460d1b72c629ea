"""Statements: set_to, names, for loops, with blocks and static ifs."""

from tests.model_texts import compile_body, error_of

_compile, _error = compile_body, error_of


def test_set_to_records_the_value_of_a_cell():
  program = _compile("v[0].set_to(x)\ny.set_to(v[0])\n")
  assert type(program.nodes[program.outputs[("y", ())]]).__name__ == (
      "InputCell")


def test_a_cell_is_set_once():
  assert _error("y.set_to(x)\ny.set_to(1)\n") == (
      "m.py:6:1: y is set twice (first at line 5)")


def test_a_for_loop_unrolls_over_its_range():
  program = _compile("""\
      for t in range(3, -1, -1):
          v[t].set_to(t % n)
      y.set_to(v[3])
      """)
  assert program.nodes[program.outputs[("y", ())]].value == 0


def test_a_range_with_step_zero_is_refused_at_the_step():
  assert _error("for t in range(2, 5, 0):\n    pass\n") == (
      "m.py:5:22: the step of range(...) is 0")


def test_a_with_block_on_an_int_binds_it():
  program = _compile("with 2 as i:\n    y.set_to(i)\n")
  assert program.nodes[program.outputs[("y", ())]].value == 2


def test_a_with_block_on_a_random_cell_mixes_its_values():
  program = _compile("with x as i:\n    y.set_to(2 - i)\n")
  assert type(program.nodes[program.outputs[("y", ())]]).__name__ == "Mix"


def test_a_static_if_compiles_the_branch_taken():
  program = _compile("if n > 2:\n    y.set_to(1)\nelse:\n    y.set_to(x)\n")
  assert program.nodes[program.outputs[("y", ())]].value == 1


def test_a_name_bound_in_a_random_branch_is_local_to_it():
  program = _compile("""\
      if x == 0:
          a = 1
          y.set_to(a)
      else:
          y.set_to(0)
      """)
  assert type(program.nodes[program.outputs[("y", ())]]).__name__ == "Mix"


def test_a_name_bound_in_a_random_branch_is_unknown_after_it():
  assert _error("""\
      if x == 0:
          a = 1
      else:
          pass
      y.set_to(a)
      """) == "m.py:9:10: unknown name 'a'"


def test_statements_outside_the_language_are_named():
  assert _error("while 1:\n    pass\n") == (
      "m.py:5:1: While statements are not part of the language")


def test_functions_are_defined_at_the_top_level_only():
  assert _error("for t in range(1):\n    def f():\n        pass\n") == (
      "m.py:6:5: functions are defined at the top level")
