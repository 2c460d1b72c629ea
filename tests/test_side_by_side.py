"""Two programs side by side, line by line, marking what changed."""

from tf_anc.lang.side_by_side import side_by_side

GIVEN = ["var a = 0;", "0: a = READ(a);", "1: a = INC(a);", "2: STOP();",
         "3: STOP();"]


def test_the_same_program_is_two_equal_columns_and_no_change():
  assert side_by_side(GIVEN[:2], GIVEN[:2], ("given", "learned")) == (
      "given             learned\n"
      "---------------   ---------------\n"
      "var a = 0;        var a = 0;\n"
      "0: a = READ(a);   0: a = READ(a);\n"
      "lines changed: 0 (|), dropped: 0 (<), added: 0 (>)")


def test_changed_dropped_and_added_lines_are_marked_as_diff_does():
  learned = ["var a = 0;", "var b = 1;", "0: a = READ(a);", "1: a = DEC(a);",
             "2: STOP();"]
  lines = side_by_side(GIVEN, learned, ("given", "learned")).splitlines()
  assert lines[2:] == [
      "var a = 0;        var a = 0;",
      "                > var b = 1;",
      "0: a = READ(a);   0: a = READ(a);",
      "1: a = INC(a);  | 1: a = DEC(a);",
      "2: STOP();        2: STOP();",
      "3: STOP();      <",
      "lines changed: 1 (|), dropped: 1 (<), added: 1 (>)"]
