"""`python -m tf_anc.compile` and `python -m tf_anc.run` from a shell."""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from tf_anc.common import cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTK = os.path.join(REPO, "programs", "listk.anc")
# Biased ListK: nodes at 3, 5, 7, 9 with values 11, 12, 4, 8; k = 3.
LISTK_INPUT = "3,3,2,5,11,7,12,9,4,0,8"
LISTK_RESULT = {"memory": [3, 3, 4, 5, 11, 7, 12, 9, 4, 0, 8] + [0] * 9,
                "steps": 17, "halted": True}


def tool(name, *args, cwd=REPO):
  return subprocess.run([sys.executable, "-m", f"tf_anc.{name}", *args],
                        capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_usage_error(result, *words):
  assert result.returncode == 2, result.stderr
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1, result.stderr
  for word in words:
    assert word in lines[0]


def test_run_prints_the_soft_machines_result_as_json():
  result = tool("run", f"--program={LISTK}", "--memory_size=20",
                "--max_steps=75", f"--input={LISTK_INPUT}")
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout) == LISTK_RESULT


def test_run_discrete_prints_the_same_result():
  result = tool("run", f"--program={LISTK}", "--memory_size=20",
                "--max_steps=75", f"--input={LISTK_INPUT}", "--discrete")
  assert json.loads(result.stdout) == LISTK_RESULT


def test_run_inputs_file_prints_a_list_in_order(tmp_path):
  memories = [[int(v) for v in LISTK_INPUT.split(",")], [3, 1, 2, 5, 9]]
  inputs = tmp_path / "inputs.json"
  inputs.write_text(json.dumps(memories))
  result = tool("run", f"--program={LISTK}", "--memory_size=20",
                "--max_steps=75", f"--inputs_file={inputs}")
  outputs = json.loads(result.stdout)
  assert outputs[0] == LISTK_RESULT
  assert outputs[1]["memory"][2] == 9 and outputs[1]["steps"] == 9


def test_run_reports_when_max_steps_runs_out():
  result = tool("run", f"--program={LISTK}", "--memory_size=20",
                "--max_steps=5", f"--input={LISTK_INPUT}", "--discrete")
  assert json.loads(result.stdout)["halted"] is False


def test_compile_prints_the_listing_and_writes_the_weights(tmp_path):
  result = tool("compile", LISTK, "--memory_size=20",
                f"--output={tmp_path / 'w'}")
  assert result.returncode == 0, result.stderr
  assert "JEZ    r1(k)          r3(const_6)" in result.stdout
  assert "instruction_logits       [20, 11]" in result.stdout
  with np.load(tmp_path / "w" / "controller.npz") as weights:
    assert weights["output_logits"].shape == (20, 7)


def test_unknown_flag_is_a_one_line_usage_error():
  assert_usage_error(tool("run", f"--program={LISTK}", "--memory_size=20",
                          "--input=1", "--bogus=3"), "bogus")


def test_missing_program_file_is_a_one_line_usage_error():
  assert_usage_error(tool("run", "--program=nowhere.anc", "--memory_size=20",
                          "--input=1"), "nowhere.anc")


def test_syntax_error_names_file_line_and_column(tmp_path):
  bad = tmp_path / "bad.anc"
  bad.write_text("var x = 0;\nx = INC(x)\nSTOP();\n")
  assert_usage_error(tool("compile", str(bad), "--memory_size=10"),
                     f"{bad}:2:11:", "expected ';'")


def test_input_value_outside_the_range_is_a_usage_error():
  assert_usage_error(tool("run", f"--program={LISTK}", "--memory_size=20",
                          "--input=3,25"), "cell 1 holds 25")


def test_input_and_inputs_file_are_exclusive():
  assert_usage_error(tool("run", f"--program={LISTK}", "--memory_size=20",
                          "--input=3", "--inputs_file=x.json"))


def test_program_longer_than_memory_is_a_usage_error():
  assert_usage_error(tool("compile", LISTK, "--memory_size=8"), "listk.anc:")


@pytest.mark.parametrize("content,words", [
    (b"[[1, 2]\xff]", "not UTF-8 text (byte 7)"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"[[1, 2],\n [3", "memories.json:2:4: not JSON"),
])
def test_a_malformed_inputs_file_is_one_line(tmp_path, content, words):
  path = tmp_path / "memories.json"
  path.write_bytes(content)
  result = tool("run", f"--program={LISTK}", "--memory_size=20",
                f"--inputs_file={path}", "--discrete")
  assert_usage_error(result, "memories.json", words)


@pytest.mark.parametrize("path, level, shown", [
    ("/x/tensorflow_datasets/core/dataset_builder.py", logging.WARNING,
     False),
    ("/x/tensorflow_datasets/core/dataset_builder.py", logging.ERROR, True),
    ("/x/tf_anc/training/trainer.py", logging.WARNING, True),
])
def test_tfds_warnings_are_kept_off_the_console(path, level, shown):
  record = logging.LogRecord("absl", level, path, 1, "Using custom data "
                             "configuration", None, None)
  assert cli.hide_tfds_notices(record) is shown
