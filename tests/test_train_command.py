"""`python -m tf_anc.train`: one command, three systems, each its own flags."""

import json
import os
import re

import pytest

from tests.test_cli import REPO, assert_usage_error, tool
from tf_anc import lang
from tf_anc.lang.compiler import compile_program
from tf_anc.lang.decompiler import decompile

DATA = os.path.join(REPO, "ntpt_keras", "models", "instances")
CIRCUIT = [f"--model_file={REPO}/ntpt_keras/models/circuit.py",
           f"--hypers_file={DATA}/circuit_swap_hypers.json",
           "--hypers=W3_G3_O2", f"--data_file={DATA}/circuit_swap_data.json"]
TINY_ANC = ["--task=access", "--restarts=1", "--batch_size=2",
            "--train_steps=1", "--test_examples=10"]


def _sections(help_text):
  """{system: {flag: default}} from the command's help."""
  sections = {}
  for block in help_text.split("\n\n"):
    heading = re.match(r"(\w+) flags \(", block)
    if heading:
      sections[heading.group(1)] = dict(re.findall(
          r"--(?:\[no\])?(\w+):.*?\(default: (.*?)\)", block, re.S))
  return sections


@pytest.fixture(scope="module")
def full_help():
  result = tool("train", "--helpfull")
  assert result.returncode == 0, result.stderr
  return result.stdout


@pytest.mark.parametrize("system,flag,default", [
    ("ANC", "restarts", "'8'"), ("NTPT", "restarts", "'20'"),
    ("lifelong", "restarts", "'8'"),
    ("ANC", "model_dir", "'runs/anc'"), ("NTPT", "model_dir", "'runs/ntpt'"),
    ("lifelong", "model_dir", "'runs/ntpt/lifelong'"),
    ("ANC", "batch_size", "'5'"), ("NTPT", "batch_size", "'50'"),
    ("lifelong", "batch_size", "'32'"),
    ("ANC", "train_steps", "'2000'"), ("NTPT", "train_steps", "'1000'"),
])
def test_helpfull_shows_each_systems_own_defaults(full_help, system, flag,
                                                  default):
  assert _sections(full_help)[system][flag] == default


def test_helpfull_lists_only_the_flags_a_system_has(full_help):
  sections = _sections(full_help)
  assert "train_steps" not in sections["lifelong"]
  assert "sharpness" in sections["ANC"]
  assert "sharpness" not in sections["NTPT"]


def test_helpfull_lists_the_logging_flags(full_help):
  assert "--verbosity" in full_help


def test_a_selected_systems_help_shows_that_system_only():
  result = tool("train", "--lifelong", "--help")
  assert result.returncode == 0, result.stderr
  assert set(_sections(result.stdout)) == {"lifelong"}


def test_another_systems_flag_says_whose_it_is():
  result = tool("train", "--lifelong", "--sharpness=2")
  assert_usage_error(result, "--sharpness", "ANC flags", "not for --lifelong")


def test_lifelong_and_a_model_file_together_are_refused():
  result = tool("train", "--lifelong", *CIRCUIT)
  assert_usage_error(result, "--lifelong trains its own models")


def test_the_math_experiments_help_shows_its_flags_only():
  result = tool("train", "--math", "--help")
  assert result.returncode == 0, result.stderr
  assert set(_sections(result.stdout)) == {"MATH"}
  assert "--math_variant" in result.stdout


def test_two_experiments_at_once_are_refused():
  result = tool("train", "--math", "--lifelong")
  assert_usage_error(result, "--lifelong and --math: pick one experiment")


def test_a_lifelong_flag_given_to_math_says_whose_it_is():
  result = tool("train", "--math", "--lifelong_examples=10")
  assert_usage_error(result, "--lifelong_examples", "lifelong flags")


def test_a_malformed_tensor_label_is_one_line(tmp_path):
  result = tool("train", *CIRCUIT, "--tensor_labels=img_grid",
                f"--model_dir={tmp_path}")
  assert_usage_error(result, "--tensor_labels takes tensor:feature")


def test_a_bad_flag_value_is_one_line():
  result = tool("train", "--restarts=0")
  assert_usage_error(result, "--restarts")


def test_verbosity_one_logs_the_resolved_config(tmp_path):
  result = tool("train", *TINY_ANC, f"--model_dir={tmp_path}", "-v", "1")
  assert result.returncode == 0, result.stderr
  assert "ANC training: TrainingConfig(task='access'" in result.stderr


def test_without_verbosity_the_config_is_not_logged(tmp_path):
  result = tool("train", *TINY_ANC, f"--model_dir={tmp_path}")
  assert result.returncode == 0, result.stderr
  assert "TrainingConfig(" not in result.stderr


def test_a_failed_ntpt_restore_is_one_line(tmp_path):
  first = tool("train", *CIRCUIT, "--restarts=2", "--train_steps=2",
               f"--model_dir={tmp_path}")
  assert first.returncode == 0, first.stderr
  # The same directory, another number of restarts: variables of other
  # shapes than those checkpointed.
  result = tool("train", *CIRCUIT, "--restarts=3", "--train_steps=4",
                f"--model_dir={tmp_path}")
  assert_usage_error(result, "cannot resume from", "ckpt-2",
                     "give a new --model_dir")


def test_a_failed_anc_restore_is_one_line(tmp_path):
  first = tool("train", *TINY_ANC, f"--model_dir={tmp_path}")
  assert first.returncode == 0, first.stderr
  result = tool("train", *TINY_ANC, "--restarts=2", "--train_steps=2",
                f"--model_dir={tmp_path}")
  assert_usage_error(result, "cannot resume from")


# --- a user's program on recorded inputs (--inputs_file) ------------------

EXAMPLES = os.path.join(REPO, "docs", "examples")
TINY_USER = [f"--program={EXAMPLES}/multiply.anc",
             f"--inputs_file={EXAMPLES}/multiply_inputs.json",
             "--restarts=1", "--batch_size=2", "--train_steps=1",
             "--test_examples=10"]


@pytest.fixture(scope="module", name="user_run")
def _user_run(tmp_path_factory):
  """A user's program trained on its inputs: (model_dir, the command)."""
  model_dir = tmp_path_factory.mktemp("user_run")
  result = tool("train", *TINY_USER, f"--model_dir={model_dir}")
  assert result.returncode == 0, result.stderr
  return model_dir, result


def test_inputs_file_trains_the_program_on_its_own_results(user_run):
  tmp_path, result = user_run
  assert "multiply_inputs: " in result.stdout
  assert "soft start: sharpness" in result.stdout
  with open(tmp_path / "results.json") as f:
    report = json.load(f)
  assert report["task"] == "multiply_inputs"
  assert report["distribution"] is None
  assert report["output_cells"] == [2]
  assert report["config"]["inputs_file"].endswith("multiply_inputs.json")
  assert report["config"]["memory_size"] == 10
  assert os.path.isdir(tmp_path / "saved_model" / "1")


def test_the_cli_prints_the_learned_program_beside_the_users(user_run):
  _, result = user_run
  lines = result.stdout.splitlines()
  header = next(i for i, line in enumerate(lines)
                if line.startswith("given (multiply.anc)"))
  assert lines[header].split() == ["given", "(multiply.anc)", "learned",
                                   "(restart", "0)"]
  end = next(i for i, line in enumerate(lines)
             if line.startswith("lines changed: "))
  width = len(lines[header + 1].split()[0])  # the left column's ruler
  rows = lines[header + 2:end]
  given = decompile(compile_program(lang.load_program(
      os.path.join(EXAMPLES, "multiply.anc"), 10))).code
  assert [row[:width].rstrip() for row in rows
          if row[:width].strip()] == list(given)
  assert all(row[width + 1] in " |<>" for row in rows)
  learned = [row[width + 3:] for row in rows if row[width + 3:]]
  assert all(re.fullmatch(r"var \w+ = \d+;|# Execution starts at line "
                          r"\d+\.|\d+: .+;", line) for line in learned)


def test_tensorflows_start_up_logs_are_hidden_by_default(user_run):
  _, result = user_run
  for chatter in ("I0000", "W0000", "E0000", "oneDNN", "cuda",
                  "absl::InitializeLog"):
    assert chatter not in result.stderr


def test_a_program_that_misses_a_shipped_tasks_targets_is_refused(tmp_path):
  result = tool("train", "--task=access", f"--program={EXAMPLES}/find.anc",
                f"--model_dir={tmp_path}")
  assert_usage_error(result, "find.anc", "task access (biased)",
                     "train example 0")
  assert not os.listdir(tmp_path)


@pytest.mark.parametrize("flags,words", [
    (["--task=access"], ["--inputs_file and --task", "drop --task"]),
    (["--memory_size=10"], ["--memory_size"]),
])
def test_inputs_file_with_a_shipped_tasks_flags_is_refused(tmp_path, flags,
                                                          words):
  result = tool("train", *TINY_USER, *flags, f"--model_dir={tmp_path}")
  assert_usage_error(result, *words)


def test_inputs_file_without_a_program_is_refused(tmp_path):
  result = tool("train", f"--inputs_file={EXAMPLES}/multiply_inputs.json",
                f"--model_dir={tmp_path}")
  assert_usage_error(result, "--inputs_file needs --program")


def test_output_cells_without_inputs_file_are_refused(tmp_path):
  result = tool("train", "--output_cells=0", f"--model_dir={tmp_path}")
  assert_usage_error(result, "go with --inputs_file")


@pytest.mark.parametrize("content,words", [
    ("[[0, 1], [0]]", ["bad.json: memory 1 has 1 cells"]),
    ("[[0, 1], [0, 2]]", ["bad.json: memory 1, cell 1 holds 2"]),
    ("[[0, 1],", ["bad.json:1:9: not JSON"]),
])
def test_a_bad_inputs_file_is_one_line_naming_the_row(tmp_path, content,
                                                       words):
  path = tmp_path / "bad.json"
  path.write_text(content)
  result = tool("train", f"--program={EXAMPLES}/multiply.anc",
                f"--inputs_file={path}", f"--model_dir={tmp_path}/run")
  assert_usage_error(result, *words)


def test_inputs_on_which_the_program_does_not_halt_are_one_line(tmp_path):
  program = tmp_path / "forever.anc"
  program.write_text("var x = 0; loop: JEZ(x, loop);")
  inputs = tmp_path / "inputs.json"
  inputs.write_text("[[0, 0], [1, 0]]")
  result = tool("train", f"--program={program}", f"--inputs_file={inputs}",
                "--max_steps=50", f"--model_dir={tmp_path}/run")
  assert_usage_error(result, "inputs.json: memory 0: the program does not "
                     "halt within 50 steps")


def test_a_program_too_large_for_the_inputs_is_one_located_line(tmp_path):
  inputs = tmp_path / "inputs.json"
  inputs.write_text("[[0, 0, 0], [1, 0, 0]]")
  result = tool("train", f"--program={EXAMPLES}/multiply.anc",
                f"--inputs_file={inputs}", f"--model_dir={tmp_path}/run")
  assert_usage_error(result, "multiply.anc:", "more than M = 3")


# --- non-finite numbers ----------------------------------------------------

@pytest.mark.parametrize("tool_name,flag", [
    ("train", "--learning_rate=nan"), ("train", "--sharpness=nan"),
    ("train", "--gamma=inf"), ("run", "--sharpness=nan"),
])
def test_a_non_finite_float_flag_is_one_line(tool_name, flag):
  extra = (["--program=listk", "--memory_size=20", "--input=0"]
           if tool_name == "run" else [])
  result = tool(tool_name, *extra, flag)
  assert_usage_error(result, flag, "not a finite number")


def test_a_non_finite_ntpt_flag_is_one_line():
  result = tool("train", *CIRCUIT, "--learning_rate=nan")
  assert_usage_error(result, "--learning_rate=nan", "not a finite number")


@pytest.mark.parametrize("where", ["a_file", "a_file/under"])
def test_a_model_dir_that_is_or_is_under_a_file_is_one_line(tmp_path, where):
  (tmp_path / "a_file").write_text("not a folder")
  result = tool("train", *TINY_ANC, f"--model_dir={tmp_path / where}")
  assert_usage_error(result, "Not a directory", str(tmp_path / "a_file"))
  assert (tmp_path / "a_file").read_text() == "not a folder"


def test_an_ntpt_resume_with_a_changed_setting_is_refused_naming_it(tmp_path):
  first = tool("train", *CIRCUIT, "--restarts=2", "--train_steps=2",
               f"--model_dir={tmp_path}")
  assert first.returncode == 0, first.stderr
  result = tool("train", *CIRCUIT, "--restarts=2", "--train_steps=4",
                "--learning_rate=0.05", f"--model_dir={tmp_path}")
  assert_usage_error(result, "trained with other settings",
                     "learning_rate 0.1 there, 0.05 now")
