"""The `.anc` language: text -> Program (IR) -> controller logits -> text."""

from tf_anc.lang.errors import AncSyntaxError
from tf_anc.lang.ir import Operation, Program, Register
from tf_anc.lang.parser import load_program, parse, parse_program
