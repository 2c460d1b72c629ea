"""Fuzzing the `.anc` front end and compiler against the discrete machine.

Every program text, generated from the language's grammar
(docs/anc-language.md) or mutated from a shipped program (programs/*.anc),
has one of two outcomes, within a time bound:

- accepted: compiled at the default sharpness, the soft machine runs it as
  the discrete machine (tf_anc/reference.py) does on random memories:
  same final memory, registers, steps and halting;
- a located error: an AncSyntaxError whose one-line message starts with
  `file:line:col:`, a line and column that exist in the text.

Anything else (another exception, a hang, an unlocated or multi-line
error, a disagreement) is a bug. `--hypothesis-show-statistics` counts the
two outcomes (tests/conftest.py has the profiles).
"""

import functools
import re
import time

import hypothesis
from hypothesis import strategies as st
import numpy as np

from tf_anc import isa
from tf_anc import reference
from tf_anc import tasks
from tf_anc.lang import AncSyntaxError, parse_program
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine
from tests.test_soft_machine import assert_same_executions

FILENAME = "fuzzed.anc"
# Parsing and compiling take milliseconds; a case over this is a hang. CPU
# seconds of this thread, which other processes on the machine do not
# lengthen.
PARSE_CPU_SECONDS = 2.0
# Running a few memories for at most MAX_STEPS steps, both machines (wall
# clock, as the op runs on TF's threads).
RUN_SECONDS = 20.0
MAX_STEPS = 100
NUM_MEMORIES = 3

VARIABLES = ("a", "b", "c", "d")
LABELS = ("top", "next", "end")


@functools.lru_cache(maxsize=None)
def machine_for(memory_size, num_registers, max_steps):
  """One machine per shape, reused by the programs that fit it (building a
  layer costs more than running it)."""
  return SoftMachine(memory_size, [f"r{i}" for i in range(num_registers)],
                     max_steps)


def parse_or_locate(text, memory_size):
  """The program in `text`, or None after checking that its error is
  located; either way within PARSE_CPU_SECONDS."""
  start = time.thread_time()
  try:
    program = parse_program(text, memory_size, filename=FILENAME)
    weights = compile_program(program)
  except AncSyntaxError as error:
    assert_located(error, text)
    hypothesis.event("located error")
    return None
  finally:
    assert time.thread_time() - start < PARSE_CPU_SECONDS, "parsing hangs"
  hypothesis.event("accepted")
  return program, weights


def assert_located(error, text):
  lines = text.split("\n")
  assert error.filename == FILENAME
  assert 1 <= error.line <= len(lines), str(error)
  assert 1 <= error.column <= len(lines[error.line - 1]) + 1, str(error)
  assert str(error) == (f"{FILENAME}:{error.line}:{error.column}: "
                        f"{error.message}")
  assert "\n" not in str(error) and error.message.strip(), repr(str(error))


def assert_runs_like_the_discrete_machine(program, weights, seed, max_steps):
  start = time.monotonic()
  size = program.memory_size
  memories = np.random.default_rng(seed).integers(
      0, size, [NUM_MEMORIES, size]).astype(np.int32)
  machine = machine_for(size, program.num_registers, max_steps)
  machine.controller.set_controller_weights(weights)
  outputs = machine(memories)
  discrete = [reference.run(program, memory, max_steps)
              for memory in memories]
  assert_same_executions((np.argmax(outputs["memory"], -1),
                          outputs["steps"].numpy(),
                          outputs["halted"].numpy()), discrete)
  # The scratch register starts uniform in the soft machine; no program
  # reads it.
  registers = np.argmax(outputs["registers"][:, :-1], -1)
  assert registers.tolist() == [execution.registers[:-1]
                                for execution in discrete]
  np.testing.assert_allclose(np.max(outputs["memory"], -1), 1.0, atol=1e-6)
  assert time.monotonic() - start < RUN_SECONDS, "running hangs"


# Generated programs: the grammar's statements over a few names, with
# literals a little beyond M and arguments that are sometimes the wrong
# kind, so that most programs are accepted and the rest fail every way.


def sometimes(usual, rare):
  """`usual` 29 times in 30, else `rare`: a program makes a few dozen such
  choices, so that about half the programs make no rare one."""
  return st.sampled_from([True] * 29 + [False]).flatmap(
      lambda is_usual: usual if is_usual else rare)


def literals(memory_size):
  """Values in [0, M), or now and then M."""
  return sometimes(st.integers(0, memory_size - 1), st.just(memory_size))


@st.composite
def instruction_statement(draw, memory_size, variables, labels, label):
  """`[label:] [[var] NAME =] OP(ARGS);`: mostly with declared names, the
  right arity and a value where one is needed."""
  instruction = draw(st.sampled_from(isa.INSTRUCTIONS))
  count = draw(sometimes(st.just(instruction.arity), st.integers(0, 3)))
  any_name = st.sampled_from(VARIABLES + LABELS)
  values = st.one_of(st.sampled_from(variables),
                     literals(memory_size).map(str))
  targets = st.one_of(values, st.sampled_from(labels)) if labels else values
  argument_texts = [
      draw(sometimes(targets if (instruction.name, position) == ("JEZ", 1)
                     else values, any_name))
      for position in range(count)]
  call = f"{instruction.name}({', '.join(argument_texts)})"
  if instruction.has_result and draw(st.booleans()):
    declares = draw(sometimes(st.just(""), st.just("var ")))
    target = draw(sometimes(st.sampled_from(variables), any_name))
    call = f"{declares}{target} = {call}"
  return f"{label}: {call};" if label else f"{call};"


@st.composite
def generated_programs(draw):
  """(text, M): declarations and instructions in a random order, laid out
  with random spaces, line breaks and comments."""
  memory_size = draw(st.integers(1, 12))
  variables = draw(st.lists(st.sampled_from(VARIABLES), min_size=1,
                            max_size=4, unique=True))
  statements = [f"var {name} = {draw(literals(memory_size))};"
                for name in variables]
  num_instructions = draw(sometimes(st.integers(0, memory_size),
                                    st.just(memory_size + 1)))
  labels = draw(st.lists(st.sampled_from(LABELS), max_size=3, unique=True))
  label_at = {draw(st.integers(0, max(num_instructions - 1, 0))): label
              for label in labels}
  defined_labels = [label_at[index] for index in sorted(label_at)
                    if index < num_instructions]
  statements += [draw(instruction_statement(
      memory_size, variables, defined_labels, label_at.get(index)))
                 for index in range(num_instructions)]
  order = draw(st.permutations(range(len(statements))))
  separators = st.sampled_from([" ", "\n", "  ", "\t", "\r\n",
                                "  # a comment; (x)\n"])
  return "".join(statements[index] + draw(separators)
                 for index in order), memory_size


@hypothesis.given(program=generated_programs(), seed=st.integers(0, 2**32))
def test_a_generated_program_runs_as_the_discrete_machine_or_is_located(
    program, seed):
  text, memory_size = program
  parsed = parse_or_locate(text, memory_size)
  if parsed is not None:
    assert_runs_like_the_discrete_machine(*parsed, seed,
                                          max_steps=3 * memory_size + 4)


# Mutated programs: the shipped programs, edited a few times by characters,
# tokens and lines.

SHIPPED = {name: (tasks.program_path(task).read_text(), task.memory_size,
                  min(task.max_steps, MAX_STEPS))
           for name, task in sorted(tasks.TASKS.items())}
TOKEN = re.compile(r"\w+|[^\w\s]")
REPLACEMENT_TOKENS = st.one_of(
    st.sampled_from([instruction.name for instruction in isa.INSTRUCTIONS] +
                    ["var", "x", "loop", "read", "=", ";", ":", "(", ")",
                     ",", "-", "#", "0", "1", "9" * 5000, "0" * 30 + "3"]),
    st.integers(0, 10**30).map(str),
    st.text(min_size=1, max_size=3))


@st.composite
def edited(draw, text):
  """`text` with one edit: a character or token inserted, deleted or
  replaced, or a line deleted, duplicated or moved."""
  edit = draw(st.sampled_from(["insert character", "delete character",
                               "replace token", "delete token",
                               "delete line", "duplicate line",
                               "move line"]))
  if edit.endswith("character"):
    position = draw(st.integers(0, len(text)))
    if edit == "insert character":
      character = draw(st.one_of(st.sampled_from(list("=;:(),-#_ \n\t09az")),
                                 st.characters()))
      return text[:position] + character + text[position:]
    return text[:position] + text[position + 1:]
  if edit.endswith("token"):
    tokens = list(TOKEN.finditer(text))
    if not tokens:
      return text
    token = draw(st.sampled_from(tokens))
    replacement = (draw(REPLACEMENT_TOKENS) if edit == "replace token"
                   else "")
    return text[:token.start()] + replacement + text[token.end():]
  lines = text.split("\n")
  index = draw(st.integers(0, len(lines) - 1))
  if edit == "delete line":
    del lines[index]
  elif edit == "duplicate line":
    lines.insert(index, lines[index])
  else:
    lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(index))
  return "\n".join(lines)


@st.composite
def mutated_programs(draw):
  """(text, M, T_max) of a shipped program edited one to three times."""
  text, memory_size, max_steps = SHIPPED[draw(st.sampled_from(
      sorted(SHIPPED)))]
  for _ in range(draw(st.integers(1, 3))):
    text = draw(edited(text))
  return text, memory_size, max_steps


@hypothesis.given(program=mutated_programs(), seed=st.integers(0, 2**32))
def test_a_mutated_program_runs_as_the_discrete_machine_or_is_located(
    program, seed):
  text, memory_size, max_steps = program
  parsed = parse_or_locate(text, memory_size)
  if parsed is not None:
    assert_runs_like_the_discrete_machine(*parsed, seed, max_steps)
