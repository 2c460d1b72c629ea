"""Branch mixtures: random if chains and with blocks join their branches."""

from tests.model_texts import compile_body, error_of

_compile, _error = compile_body, error_of


def _output(program):
  return program.nodes[program.outputs[("y", ())]]


def test_a_cell_set_in_every_branch_is_their_mixture_by_the_selector():
  program = _compile("""\
      if x == 0:
          y.set_to(1)
      elif x == 1:
          y.set_to(2)
      else:
          y.set_to(0)
      """)
  mix = _output(program)
  assert type(mix).__name__ == "Mix"
  assert type(program.nodes[mix.selector]).__name__ == "InputCell"
  assert [values for values, _ in mix.cases] == [(0,), (1,), (2,)]


def test_the_else_branch_takes_the_values_no_test_covers():
  program = _compile("""\
      if x == 1:
          y.set_to(1)
      else:
          y.set_to(0)
      """)
  assert [values for values, _ in _output(program).cases] == [(1,), (0, 2)]


def test_a_cell_set_to_the_same_node_in_every_branch_is_that_node():
  program = _compile("""\
      if x == 0:
          y.set_to(x)
      else:
          y.set_to(x)
      """)
  assert type(_output(program)).__name__ == "InputCell"


def test_a_cell_set_in_some_branches_cannot_be_set_again():
  assert _error("""\
      if x == 0:
          v[0].set_to(1)
      else:
          pass
      v[0].set_to(2)
      """) == ("m.py:9:1: v[0] is set twice (first in some branches of line "
               "5)")


def test_nested_branches_join_inner_first():
  program = _compile("""\
      with x as i:
          if x == 0:
              y.set_to(i)
          else:
              y.set_to(0)
      """)
  outer = _output(program)
  assert all(type(program.nodes[case]).__name__ in ("Mix", "Constant")
             for _, case in outer.cases)


def test_an_elif_on_another_cell_starts_its_own_chain():
  program = _compile("""\
      z = Input(2)
      if x == 0:
          y.set_to(0)
      elif z == 1:
          y.set_to(1)
      else:
          y.set_to(2)
      """)
  outer = _output(program)
  assert [values for values, _ in outer.cases] == [(0,), (1, 2)]
  assert type(program.nodes[outer.cases[1][1]]).__name__ == "Mix"


def test_a_value_tested_twice_in_a_chain_is_refused():
  assert _error("""\
      if x == 0:
          y.set_to(0)
      elif x == 0:
          y.set_to(1)
      else:
          y.set_to(2)
      """) == "m.py:7:6: x == 0 is tested twice in one chain"


def test_the_random_cell_goes_on_the_left():
  assert _error("if 0 == x:\n    y.set_to(0)\nelse:\n    y.set_to(1)\n") == (
      "m.py:5:4: write the random cell on the left: `cell == constant`")
