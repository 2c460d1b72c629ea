"""The `.anc` parser: what programs mean, and where errors are reported."""

import pytest

from tf_anc import isa
from tf_anc.lang import AncSyntaxError, ir, load_program, parse_program

LISTK = """\
var head = 0; var k = 1; var out = 2;
k = READ(k);
out = READ(out);
loop: head = READ(head);
k = DEC(k);
JEZ(k, found);
JEZ(0, loop);
found: head = INC(head);
head = READ(head);
WRITE(out, head);
STOP();
"""

# Some of the generic programs of docs/anc-tasks.md, verbatim: (M, instructions,
# text). All of them live in programs/*.anc.
GENERIC_PROGRAMS = {
    "increment": (7, 7, """\
# Increment: add 1 to every element of the zero-terminated array at mem[0..].
var ptr = 0;
var v = 0;
loop: v = READ(ptr);
JEZ(v, end);
v = INC(v);
WRITE(ptr, v);
ptr = INC(ptr);
JEZ(0, loop);
end: STOP();
"""),
    "listk": (20, 10, "# ListK\n" + LISTK),
    "sort": (21, 21, """\
# Sort: bubble sort of the zero-terminated array at mem[0..].
# `clean` is 1 while the current pass has not swapped anything.
var addr = 0;
var clean = 1;
var first = 0; var second = 0; var diff = 0;
top: first = READ(addr);                 #  0
addr = INC(addr);                        #  1
second = READ(addr);                     #  2
JEZ(second, end_pass);                   #  3
diff = MIN(first, second);               #  4
diff = SUB(second, diff);                #  5  0 iff second <= first
JEZ(diff, maybe_swap);                   #  6
JEZ(0, top);                             #  7
maybe_swap: diff = SUB(first, second);   #  8
JEZ(diff, top);                          #  9  equal: nothing to do
WRITE(addr, first);                      # 10
addr = DEC(addr);                        # 11
WRITE(addr, second);                     # 12
addr = INC(addr);                        # 13
clean = ZERO();                          # 14
JEZ(0, top);                             # 15
end_pass: JEZ(clean, restart);           # 16
STOP();                                  # 17
restart: addr = ZERO();                  # 18
clean = INC(clean);                      # 19
JEZ(0, top);                             # 20
"""),
}


def parse_error(text, memory_size=10):
  with pytest.raises(AncSyntaxError) as caught:
    parse_program(text, memory_size)
  return caught.value


def assert_error_at(text, line, column, words, memory_size=10):
  error = parse_error(text, memory_size)
  assert (error.line, error.column) == (line, column), str(error)
  assert words in error.message, str(error)


def register_names(program):
  return [register.name for register in program.registers]


# What programs mean.


def test_listk_registers_are_variables_then_constants_then_scratch():
  program = parse_program(LISTK, 20)
  assert program.registers == (
      ir.Register("head", ir.VARIABLE, 0),
      ir.Register("k", ir.VARIABLE, 1),
      ir.Register("out", ir.VARIABLE, 2),
      ir.Register("const_6", ir.CONSTANT, 6),  # label `found`, first used
      ir.Register("const_0", ir.CONSTANT, 0),
      ir.Register("const_2", ir.CONSTANT, 2),  # label `loop`
      ir.Register("scratch", ir.SCRATCH, None),
  )
  assert program.scratch == 6
  assert program.memory_size == 20
  assert program.filename == "<string>"


def test_listk_operations():
  operations = parse_program(LISTK, 20).operations
  assert len(operations) == 10
  assert operations[0] == ir.Operation(isa.READ, 1, None, 1, None, 2)
  assert operations[2] == ir.Operation(isa.READ, 0, None, 0, "loop", 4)
  assert operations[4] == ir.Operation(isa.JEZ, 1, 3, 6, None, 6)
  assert operations[5] == ir.Operation(isa.JEZ, 4, 5, 6, None, 7)
  assert operations[6] == ir.Operation(isa.INC, 0, None, 0, "found", 8)
  assert operations[8] == ir.Operation(isa.WRITE, 2, 0, 6, None, 10)
  assert operations[9] == ir.Operation(isa.STOP, None, None, 6, None, 11)


def test_ignored_arguments_are_none():
  program = parse_program("var x = 0; x = ZERO(); x = INC(x); STOP();", 5)
  assert [(op.a, op.b) for op in program.operations] == [
      (None, None), (0, None), (None, None)]


def test_discarded_results_go_to_the_scratch_register():
  program = parse_program("var x = 1; WRITE(x, x); x = INC(x);", 5)
  assert register_names(program) == ["x", "scratch"]
  assert [op.o for op in program.operations] == [1, 0]


def test_scratch_register_exists_in_an_empty_program():
  program = parse_program("# nothing here\n", 5)
  assert program.registers == (ir.Register("scratch", ir.SCRATCH, None),)
  assert program.operations == ()


def test_labels_resolve_to_instruction_indices():
  program = parse_program(
      "var x = 0; JEZ(x, end); start: x = INC(x); JEZ(0, start); end: STOP();",
      5)
  constants = {register.name: register.initial
               for register in program.registers
               if register.kind == ir.CONSTANT}
  assert constants == {"const_3": 3, "const_0": 0, "const_1": 1}
  assert program.operations[0].b == register_names(program).index("const_3")
  assert program.operations[2].b == register_names(program).index("const_1")
  assert [op.label for op in program.operations] == [None, "start", None, "end"]


def test_literal_and_label_of_equal_value_share_a_register():
  program = parse_program("var x = 0; x = ADD(x, 1); l: JEZ(x, l);", 5)
  assert register_names(program) == ["x", "const_1", "scratch"]
  assert program.operations[0].b == 1
  assert program.operations[1].b == 1


def test_constants_are_numbered_in_order_of_first_use():
  program = parse_program("WRITE(3, 1); WRITE(1, 0);", 5)
  assert register_names(program) == [
      "const_3", "const_1", "const_0", "scratch"]


def test_var_with_an_op_declares_a_variable_starting_at_zero():
  program = parse_program("var x = READ(x);", 5)
  assert program.registers[0] == ir.Register("x", ir.VARIABLE, 0)
  assert program.operations == (ir.Operation(isa.READ, 0, None, 0, None, 1),)


def test_variables_are_allocated_in_declaration_order():
  program = parse_program("var b = 3; var a = READ(b); var c = 1;", 5)
  assert program.registers[:3] == (
      ir.Register("b", ir.VARIABLE, 3),
      ir.Register("a", ir.VARIABLE, 0),
      ir.Register("c", ir.VARIABLE, 1))


def test_names_may_be_used_before_their_declaration():
  program = parse_program("x = INC(y); JEZ(x, done); var x = 0; var y = 2;"
                          "done: STOP();", 5)
  assert register_names(program)[:2] == ["x", "y"]
  assert program.operations[0] == ir.Operation(isa.INC, 1, None, 0, None, 1)


def test_comments_whitespace_and_several_statements_per_line():
  program = parse_program(
      "# header\nvar x=0;x=INC(x);   # trailing\n\n\tWRITE( 0 ,\n x ) ;STOP();",
      5)
  assert [op.instruction for op in program.operations] == [
      isa.INC, isa.WRITE, isa.STOP]
  assert [op.line for op in program.operations] == [2, 4, 5]


def test_operation_line_is_the_line_of_the_statements_first_token():
  program = parse_program("var x = 0;\nlabel:\n x =\n INC(x);", 5)
  assert program.operations[0].line == 2


def test_label_may_stand_on_a_var_instruction():
  program = parse_program("start: var x = INC(x); JEZ(0, start);", 5)
  assert program.operations[0].label == "start"


@pytest.mark.parametrize("name", sorted(GENERIC_PROGRAMS))
def test_generic_programs_of_the_tasks_parse(name):
  memory_size, instructions, text = GENERIC_PROGRAMS[name]
  assert len(parse_program(text, memory_size).operations) == instructions


def test_a_program_of_exactly_m_instructions_fits():
  program = parse_program("ZERO(); ZERO(); STOP();", 3)
  assert len(program.operations) == 3


# Error reporting.


def test_error_string_is_file_line_column_message():
  error = parse_error("STOP();\n  FOO();")
  assert str(error) == "<string>:2:3: unknown op 'FOO'"


def test_load_program_reads_a_file_and_names_it_in_errors(tmp_path):
  path = tmp_path / "listk.anc"
  path.write_text(LISTK)
  assert load_program(path, 20) == parse_program(LISTK, 20, str(path))
  path.write_text("STOP();\nZERO(1);\n")
  with pytest.raises(AncSyntaxError) as caught:
    load_program(str(path), 20)
  assert caught.value.filename == str(path)
  assert str(caught.value).startswith(f"{path}:2:1: ")


def test_load_program_of_a_missing_file_raises_os_error(tmp_path):
  with pytest.raises(OSError):
    load_program(tmp_path / "missing.anc", 20)


def test_unknown_op_names_line_and_column():
  assert_error_at("STOP();\nvar x = 0; x = FOO(x);", 2, 16, "unknown op 'FOO'")


def test_lower_case_op_is_unknown():
  assert_error_at("var x = 0; x = read(x);", 1, 16, "unknown op 'read'")


def test_wrong_arity_at_the_op():
  assert_error_at("var x = 0;\n  x = ADD(x);", 2, 7,
                  "ADD takes 2 arguments, got 1")


def test_argument_to_a_nullary_op_is_wrong_arity():
  assert_error_at("STOP(0);", 1, 1, "STOP takes 0 arguments, got 1")


def test_undeclared_argument():
  assert_error_at("var x = 0;\nx = ADD(x, foo);", 2, 12,
                  "undeclared name 'foo'")


def test_undeclared_assignment_target():
  assert_error_at("var x = 0;\n  y = INC(x);", 2, 3, "undeclared name 'y'")


def test_duplicate_variable_at_the_second_declaration():
  error = parse_error("var x = 0;\nSTOP(); var x = READ(0);")
  assert (error.line, error.column) == (2, 13)
  assert "duplicate name 'x'" in error.message
  assert "1:5" in error.message


def test_duplicate_label_at_the_second_definition():
  assert_error_at("l: ZERO();\n l: STOP();", 2, 2, "duplicate name 'l'")


def test_label_named_like_a_variable_is_a_duplicate():
  assert_error_at("x: ZERO(); var x = 1;", 1, 16, "duplicate name 'x'")


def test_variable_named_like_an_earlier_label_is_a_duplicate():
  assert_error_at("var x = 1; x: ZERO();", 1, 12, "duplicate name 'x'")


def test_literal_outside_memory_range():
  assert_error_at("var x = 0; x = ADD(x, 25);", 1, 23,
                  "literal 25 outside [0, 20)", memory_size=20)


def test_a_literal_of_thousands_of_digits_is_a_located_error():
  # int() refuses strings of over 4,300 digits with an unlocated ValueError.
  error = parse_error("var x = 0;\nx = ADD(x, " + "7" * 5000 + ");")
  assert str(error) == ("<string>:2:12: literal 77777777...7777 (5000 digits) "
                        "outside [0, 10)")


def test_leading_zeros_do_not_change_a_literal():
  program = parse_program("var x = " + "0" * 5000 + "7;", 10)
  assert program.registers[0].initial == 7


def test_initial_value_outside_memory_range():
  assert_error_at("var x = 5;", 1, 9, "literal 5 outside [0, 5)", memory_size=5)


def test_program_longer_than_m_at_the_first_instruction_that_does_not_fit():
  assert_error_at("var x = 0;\nZERO(); ZERO();\n  x = INC(x); STOP();", 3, 3,
                  "program has 4 instructions, more than M = 2", memory_size=2)


def test_label_beyond_m_is_reported_as_program_too_long():
  assert_error_at("JEZ(0, end); ZERO(); end: STOP();", 1, 22,
                  "more than M = 2", memory_size=2)


@pytest.mark.parametrize("op", ["STOP", "WRITE", "JEZ"])
def test_result_of_a_side_effect_op_cannot_be_assigned(op):
  arguments = ", ".join(["0"] * isa.BY_NAME[op].arity)
  assert_error_at(f"var x = 0; x = {op}({arguments});", 1, 16,
                  f"{op} has no result to assign to 'x'")


def test_var_with_a_side_effect_op_cannot_be_assigned():
  assert_error_at("var x = STOP();", 1, 9, "STOP has no result")


def test_label_as_an_argument_where_a_value_is_needed():
  assert_error_at("var x = 0; l: x = ADD(x, l);", 1, 26,
                  "label 'l' used where a value is needed")


def test_label_as_jez_condition_is_not_a_value():
  assert_error_at("l: JEZ(l, l);", 1, 8, "label 'l'")


def test_label_as_assignment_target():
  assert_error_at("var x = 0; l: l = INC(x);", 1, 15, "label 'l'")


def test_assigning_a_literal_says_to_use_var():
  assert_error_at("var x = 0;\nx = 3;", 2, 5, "'var x = 3;'")


def test_empty_statement():
  assert_error_at("STOP();\n  ;", 2, 3, "empty statement")


def test_empty_statement_after_a_label():
  assert_error_at("l: ;", 1, 4, "empty statement")


def test_negative_literal_at_the_minus():
  assert_error_at("var x = 0; x = ADD(x, -1);", 1, 23, "negative literal")


def test_negative_initial_value():
  assert_error_at("var x = -1;", 1, 9, "negative literal")


def test_missing_semicolon_just_past_the_statement():
  assert_error_at("var x = 0\nSTOP();", 1, 10, "expected ';'")


def test_missing_semicolon_at_end_of_file():
  assert_error_at("STOP();\nZERO()  \n\n", 2, 7, "expected ';'")


def test_unexpected_token():
  assert_error_at("var x = 0; x = ADD(x x);", 1, 22, "found name 'x'")


def test_unexpected_end_of_file():
  assert_error_at("var x = 0;\nx = ADD(x,", 2, 11, "end of file")


def test_unknown_character():
  assert_error_at("var x = 0;\nx = INC(x) $;", 2, 12,
                  "unexpected character '$'")


def test_reserved_word_as_variable_name():
  assert_error_at("var ADD = 0;", 1, 5, "reserved word 'ADD'")


def test_var_as_label_is_reserved():
  assert_error_at("ZERO(); var: STOP();", 1, 9, "reserved word 'var'")


def test_reserved_word_as_argument():
  assert_error_at("var x = 0; x = INC(READ);", 1, 20, "reserved word 'READ'")


def test_label_on_a_declaration():
  assert_error_at("STOP();\nstart: var x = 3;", 2, 1, "not an instruction")


def test_two_labels_on_one_statement():
  assert_error_at("a: b: STOP();", 1, 4, "at most one label")


def test_first_syntax_error_wins():
  assert_error_at("x = FOO(1);\nADD(1);", 1, 5, "unknown op")


def test_first_name_error_wins():
  assert_error_at("INC(foo); INC(bar);", 1, 5, "undeclared name 'foo'")
