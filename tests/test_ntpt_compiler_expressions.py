"""Expressions: static int arithmetic, bounded, and reading cells."""

import pytest

from tests.model_texts import compile_body, error_of

_compile, _error = compile_body, error_of


def _output_constant(body) -> int:
  program = _compile(body)
  return program.nodes[program.outputs[("y", ())]].value


def test_static_arithmetic_is_python_int_arithmetic():
  assert _output_constant("y.set_to((7 // 2 + 2 ** 2 - (5 % 3)) % n)\n") == (
      (7 // 2 + 2 ** 2 - (5 % 3)) % 3)


def test_comparisons_and_boolean_operators_give_0_or_1():
  assert _output_constant("y.set_to((1 < 2 <= 2) + (n == 4 or 0))\n") == 1


def test_a_division_by_zero_is_located_at_the_operator():
  assert _error("y.set_to(1 // (n - 3))\n") == (
      "m.py:5:10: division by zero in 1 // (n - 3)")


def test_in_is_not_a_comparison_of_the_language():
  assert _error("y.set_to(1 in 2)\n") == (
      "m.py:5:10: 1 in 2: `in` is not a comparison of the language (its "
      "comparisons are == != < <= > >=)")


@pytest.mark.parametrize("operator", ["is", "is not", "not in"])
def test_identity_and_membership_are_not_comparisons(operator):
  assert f"`{operator}` is not a comparison of the language" in _error(
      f"y.set_to(1 {operator} 2)\n")


def test_true_division_is_not_an_operator_of_the_language():
  assert _error("y.set_to(4 / 2)\n") == (
      "m.py:5:10: 4 / 2: `/` is not an operator of the language (its "
      "operators are + - * // % ** & | ^ << >>)")


def test_a_negative_exponent_is_refused():
  assert _error("y.set_to(2 ** -1)\n") == (
      "m.py:5:10: negative exponent in 2 ** (-1): static values are ints")


def test_a_negative_shift_count_is_refused():
  assert _error("y.set_to(1 << -1)\n") == (
      "m.py:5:10: negative shift count in 1 << -1")


def test_a_power_too_large_for_a_static_int_is_refused_without_computing_it():
  assert _error("y.set_to(10 ** 10 ** 10)\n") == (
      "m.py:5:10: 10 ** 10 ** 10 is outside the static ints "
      "[-(2**63 - 1), 2**63 - 1]")


def test_a_result_over_the_static_int_range_names_its_bits():
  assert _error("y.set_to(2 ** 62 * 4)\n") == (
      "m.py:5:10: 2 ** 62 * 4 has 65 bits, outside the static ints "
      "[-(2**63 - 1), 2**63 - 1]")


def test_an_integer_literal_over_the_static_int_range_is_refused():
  assert _error(f"y.set_to({'9' * 4000})\n") == (
      "m.py:5:10: the integer literal has 13288 bits, outside the static "
      "ints [-(2**63 - 1), 2**63 - 1]")


def test_a_float_literal_is_not_a_value():
  assert _error("y.set_to(1.5)\n") == (
      "m.py:5:10: only integer literals are values, not 1.5")


def test_quoted_code_in_a_message_is_shortened():
  assert _error("y.set_to((" + " + ".join(["1"] * 40) + ") / 2)\n") == (
      "m.py:5:10: (1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + "
      "...: `/` is not an operator of the language (its operators are + - "
      "* // % ** & | ^ << >>)")


def test_a_random_operand_asks_for_with():
  assert _error("y.set_to(x + 1)\n") == (
      "m.py:5:10: an operand of x + 1 must be a constant int, but x is "
      "random (bind it with `with x as i:`)")


def test_an_index_must_be_within_the_array():
  assert _error("y.set_to(v[n + 1])\n") == (
      "m.py:5:12: index 4 of v is outside [0, 4)")


def test_a_fixed_param_reads_as_its_int():
  program = _compile("""\
      p = Param(n)
      p.set_to_constant(2)
      y.set_to(p)
      """)
  assert program.nodes[program.outputs[("y", ())]].value == 2
