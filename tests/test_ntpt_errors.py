"""Every model-file error names file:line:col and what is wrong."""

import ast
import json
import textwrap

import pytest

from ntpt_keras import instances as instances_lib
from ntpt_keras.lang import compiler
from ntpt_keras.lang import source
from ntpt_keras.lang.errors import ModelError

_HEADER = """\
n = 3
x = Input(n)
y = Output(n)
v = Var(n)[4]
p = Param(n)[2]


@Runtime([n], n)
def inc(a):
    return (a + 1) % n
"""


def _compile(tmp_path, body, header=_HEADER, hypers=None):
  path = tmp_path / "model.py"
  path.write_text(header + textwrap.dedent(body))
  return compiler.compile_model(str(path), hypers)


def _error(tmp_path, body, **kwargs) -> ModelError:
  with pytest.raises(ModelError) as raised:
    _compile(tmp_path, body, **kwargs)
  return raised.value


def _line_of(body_line: int) -> int:
  """Line numbers in the file: the header comes first."""
  return _HEADER.count("\n") + body_line


def test_a_well_formed_model_compiles(tmp_path):
  program = _compile(tmp_path, """\
      v[0].set_to(inc(x))
      y.set_to(v[0])
      """)
  assert ("y", ()) in program.outputs


def test_unknown_name_is_named_with_its_position(tmp_path):
  error = _error(tmp_path, """\
      v[0].set_to(inc(z))
      y.set_to(v[0])
      """)
  assert str(error).startswith(f"{tmp_path}/model.py:{_line_of(1)}:17: ")
  assert "unknown name 'z'" in str(error)


def test_unknown_function_is_named(tmp_path):
  error = _error(tmp_path, "y.set_to(dec(x))\n")
  assert "unknown function 'dec'" in str(error)
  assert (error.line, error.column) == (_line_of(1), 10)


def test_runtime_argument_with_the_wrong_range_gives_both_sizes(tmp_path):
  error = _error(tmp_path, """\
      w = Input(5)
      y.set_to(inc(w))
      """)
  assert (error.line, error.column) == (_line_of(2), 14)
  assert ("size mismatch: argument 1 of inc has range 5 but inc declares "
          "domain 3") in str(error)


def test_runtime_result_outside_its_range_names_the_arguments(tmp_path):
  error = _error(tmp_path, """\
      @Runtime([n, n], n)
      def add(a, b):
          return a + b
      y.set_to(add(x, x))
      """)
  assert error.line == _line_of(1) + 1  # the def, after its decorator
  assert ("Runtime function add returned 3 for arguments (1, 2), outside "
          "its range [0, 3)") in str(error)


def test_setting_an_input_is_an_error(tmp_path):
  error = _error(tmp_path, "x.set_to(1)\n")
  assert (error.line, error.column) == (_line_of(1), 1)
  assert "cannot set Input x: only Vars and Outputs are set" in str(error)


def test_setting_a_param_points_to_set_to_constant(tmp_path):
  error = _error(tmp_path, "p[0].set_to(1)\n")
  assert "cannot set Param p[0]" in str(error)
  assert "set_to_constant" in str(error)


def test_a_var_set_twice_at_one_index_names_both_lines(tmp_path):
  error = _error(tmp_path, """\
      v[1].set_to(x)
      y.set_to(x)
      v[1].set_to(0)
      """)
  assert (error.line, error.column) == (_line_of(3), 1)
  assert f"v[1] is set twice (first at line {_line_of(1)})" in str(error)


def test_reading_a_var_before_it_is_set_is_an_error(tmp_path):
  error = _error(tmp_path, "y.set_to(v[2])\n")
  assert (error.line, error.column) == (_line_of(1), 10)
  assert "v[2] is read before it is set" in str(error)


def test_an_index_outside_the_array_names_the_value(tmp_path):
  error = _error(tmp_path, "y.set_to(v[4])\n")
  assert "index 4 of v is outside [0, 4)" in str(error)
  assert (error.line, error.column) == (_line_of(1), 12)


def test_a_negative_index_does_not_wrap_around(tmp_path):
  error = _error(tmp_path, "y.set_to(v[0 - 1])\n")
  assert "index -1 of v is outside [0, 4)" in str(error)


def test_a_random_index_asks_for_with(tmp_path):
  error = _error(tmp_path, "y.set_to(p[x])\n")
  assert "the index x of p is random; bind it first with `with x as i:`" in (
      str(error))


def test_an_if_chain_without_else_lists_the_uncovered_values(tmp_path):
  error = _error(tmp_path, """\
      if x == 0:
          y.set_to(1)
      elif x == 2:
          y.set_to(0)
      """)
  assert (error.line, error.column) == (_line_of(1), 1)
  assert ("the if chain on x has no else and does not cover 1 of its range "
          "[0, 3)") in str(error)


def test_a_value_outside_the_tested_cell_range_is_an_error(tmp_path):
  error = _error(tmp_path, """\
      if x == 3:
          y.set_to(1)
      else:
          y.set_to(0)
      """)
  assert "x is compared with 3, outside its range [0, 3)" in str(error)


def test_a_cell_set_in_some_branches_cannot_be_read_after_them(tmp_path):
  error = _error(tmp_path, """\
      if x == 0:
          v[0].set_to(1)
      else:
          v[1].set_to(1)
      y.set_to(v[0])
      """)
  assert (error.line, error.column) == (_line_of(5), 10)
  assert (f"v[0] is read where it may be unset: it is set only in some "
          f"branches of line {_line_of(1)}") in str(error)


def test_a_cell_set_in_every_branch_is_their_mixture(tmp_path):
  program = _compile(tmp_path, """\
      if x == 0:
          v[0].set_to(1)
      else:
          v[0].set_to(2)
      y.set_to(v[0])
      """)
  assert type(program.nodes[program.outputs[("y", ())]]).__name__ == "Mix"


def test_set_to_with_unequal_ranges_gives_both_sizes(tmp_path):
  error = _error(tmp_path, """\
      w = Input(4)
      y.set_to(w)
      """)
  assert "size mismatch: the value of y has range 3 but w has range 4" in (
      str(error))


def test_an_integer_outside_a_cell_range_is_an_error(tmp_path):
  error = _error(tmp_path, "y.set_to(7)\n")
  assert "the value of y is 7, outside the range [0, 3)" in str(error)


def test_an_output_never_set_is_an_error_at_its_declaration(tmp_path):
  error = _error(tmp_path, "v[0].set_to(x)\n")
  assert (error.line, error.column) == (3, 1)
  assert "Output y is never set" in str(error)


def test_a_learned_function_checks_its_tensor_shape(tmp_path):
  error = _error(tmp_path, """\
      images = InputTensor(4, 4)[2]
      @Learn([Tensor(8, 8)], n, hid_sizes=[5])
      def look(image):
          pass
      y.set_to(look(images[1]))
      """)
  assert ("size mismatch: argument 1 of look is a tensor of shape (4, 4) but "
          "look declares Tensor(8, 8)") in str(error)


def test_a_missing_hyper_is_an_error_naming_it(tmp_path):
  error = _error(tmp_path, "m = Hyper()\ny.set_to(x)\n")
  assert (error.line, error.column) == (_line_of(1), 1)
  assert "hyper 'm' has no value" in str(error)


def test_hypers_bind_sizes(tmp_path):
  program = _compile(tmp_path, """\
      m = Hyper()
      w = Var(n)[m]
      w[m - 1].set_to(x)
      y.set_to(w[m - 1])
      """, hypers={"m": 6})
  assert program.declarations["w"].shape == (6,)


def test_a_hyper_chooses_between_variants_of_declarations_and_functions(
    tmp_path):
  body = """\
      wide = Hyper()
      if wide == 1:
          w = Var(n)[4]

          @Runtime([n], n)
          def step(a):
              return (a + 2) % n
      else:
          w = Var(n)[2]

          @Runtime([n], n)
          def step(a):
              return a
      w[1].set_to(step(x))
      y.set_to(w[1])
      """
  for wide, size, result in ((1, 4, 2), (0, 2, 0)):
    program = _compile(tmp_path, body, hypers={"wide": wide})
    assert program.declarations["w"].shape == (size,)
    assert program.runtime_functions["step"].function(0) == result
    # The tree the runner and the listing read holds the branch taken.
    assert not any(isinstance(s, ast.If) for s in program.tree.body)


def test_syntax_errors_have_positions(tmp_path):
  error = _error(tmp_path, "y.set_to(x\n")
  assert error.line == _line_of(1)
  assert "invalid syntax" in str(error)


def test_the_dummy_import_header_is_ignored(tmp_path):
  program = _compile(tmp_path, "y.set_to(x)\n", header=(
      "from dummy import Hyper, Param, Var, Runtime, Input, Output, Inline\n"
      + _HEADER))
  assert ("y", ()) in program.outputs


def test_a_data_batch_for_other_hypers_is_refused(tmp_path):
  program = _compile(tmp_path, "y.set_to(x)\n")
  data = tmp_path / "data.json"
  data.write_text(json.dumps([{"batch_name": "train", "hypers": "big",
                               "instances": [{"x": 1, "y": 1}]}]))
  with pytest.raises(ValueError, match="batch 'train' is for hypers 'big', "
                     "not 'small'"):
    instances_lib.read_terpret(program, str(data), "train", "small")


def test_a_data_value_outside_its_range_is_refused(tmp_path):
  program = _compile(tmp_path, "y.set_to(x)\n")
  with pytest.raises(ValueError, match=r"instance 1: x = 3 is outside its "
                     r"range \[0, 3\)"):
    instances_lib.from_records(program, [{"x": 1, "y": 1}, {"x": 3, "y": 1}], "d")


def test_a_null_output_is_unobserved(tmp_path):
  program = _compile(tmp_path, "y.set_to(x)\n")
  instances = instances_lib.from_records(program, [{"x": 1, "y": None}], "d")
  assert instances.outputs["y"].tolist() == [instances_lib.UNOBSERVED]


def test_a_hypers_file_without_the_chosen_config_is_refused(tmp_path):
  hypers = tmp_path / "hypers.json"
  hypers.write_text(json.dumps({"a": {"m": 1}, "b": {"m": 2}}))
  assert source.read_hypers(str(hypers), "b")["values"] == {"m": 2}
  with pytest.raises(ModelError, match="no hypers config 'c'"):
    source.read_hypers(str(hypers), "c")
  with pytest.raises(ModelError, match="choose one with --hypers"):
    source.read_hypers(str(hypers), None)


def test_an_inline_function_is_expanded_at_its_call_site(tmp_path):
  program = _compile(tmp_path, """\
      @Inline()
      def twice(a):
          return inc(inc(a))
      y.set_to(twice(x))
      """)
  node = program.nodes[program.outputs[("y", ())]]
  assert type(node).__name__ == "Apply" and node.function == "inc"


def test_set_to_constant_fixes_a_param(tmp_path):
  program = _compile(tmp_path, """\
      p[1].set_to_constant(2)
      y.set_to(x)
      """)
  assert program.fixed_params == {("p", (1,)): 2}


def test_a_zero_argument_runtime_function_is_a_constant(tmp_path):
  program = _compile(tmp_path, """\
      @Runtime([], n)
      def two():
          return 2
      y.set_to(two())
      """)
  node = program.nodes[program.outputs[("y", ())]]
  assert (type(node).__name__, node.value) == ("Constant", 2)


def test_an_if_on_a_random_value_compares_with_equals_only(tmp_path):
  error = _error(tmp_path, """\
      if x != 0:
          y.set_to(1)
      else:
          y.set_to(0)
      """)
  assert "tests `cell == constant` (only ==)" in str(error)


def test_an_if_on_a_random_value_tests_one_cell_at_a_time(tmp_path):
  error = _error(tmp_path, """\
      if x == 0 or x == 1:
          y.set_to(1)
      else:
          y.set_to(0)
      """)
  assert "`cell == constant`, one cell at a time" in str(error)


def test_an_integer_literal_python_cannot_read_is_located_at_it(tmp_path):
  error = _error(tmp_path, "y.set_to(" + "1" * 5000 + ")\n")
  assert str(error) == (f"{tmp_path}/model.py:{_line_of(1)}:10: invalid "
                        "syntax: an integer literal has more than 4300 digits")


def test_a_null_character_is_located(tmp_path):
  error = _error(tmp_path, "y.set_to(x)\0\n")
  assert (error.line, error.column) == (_line_of(1), 12)
  assert "invalid syntax" in str(error)


def test_a_file_that_is_not_utf8_is_located_at_the_byte(tmp_path):
  path = tmp_path / "model.py"
  path.write_bytes(b"n = 3\ny = \xff\n")
  with pytest.raises(ModelError) as raised:
    compiler.compile_model(str(path))
  assert str(raised.value) == f"{path}:2:5: not UTF-8 text: byte 0xff"


def test_a_hypers_file_with_a_number_python_cannot_read_is_refused(tmp_path):
  hypers = tmp_path / "hypers.json"
  hypers.write_text('{"a": {"m": ' + "1" * 5000 + "}}")
  with pytest.raises(ModelError, match="not valid JSON"):
    source.read_hypers(str(hypers), "a")
