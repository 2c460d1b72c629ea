"""`python -m tf_anc.train --model_file=...` from a shell."""

import json
import os

from tests.test_cli import REPO, assert_usage_error, tool

DATA = os.path.join(REPO, "ntpt_keras", "models", "instances")
CIRCUIT = os.path.join(REPO, "ntpt_keras", "models", "circuit.py")


def _circuit_flags(model_dir):
  return [f"--model_file={CIRCUIT}",
          f"--hypers_file={DATA}/circuit_swap_hypers.json",
          "--hypers=W3_G3_O2", f"--data_file={DATA}/circuit_swap_data.json",
          "--train_batch=train", "--test_batch=train", "--restarts=4",
          "--train_steps=300", f"--model_dir={model_dir}"]


def test_train_with_a_model_file_writes_results(tmp_path):
  result = tool("train", *_circuit_flags(tmp_path))
  assert result.returncode == 0, result.stderr
  with open(tmp_path / "results.json") as f:
    report = json.load(f)
  assert report["restarts"] == 4
  assert 0 <= report["solved_restarts"] <= 4
  assert set(report["params"]) == {"gate", "in1", "in2", "out"}
  assert "restarts solved the training instances" in result.stdout


def test_a_flagfile_runs_a_pure_model(tmp_path):
  result = tool("train", "--flagfile=configs/ntpt/turing_invert.flags",
                "--restarts=2", "--train_steps=100",
                f"--model_dir={tmp_path}")
  assert result.returncode == 0, result.stderr
  assert os.path.exists(tmp_path / "results.json")


def test_a_model_file_error_is_one_line_with_its_position(tmp_path):
  model = tmp_path / "bad.py"
  model.write_text("x = Input(2)\ny = Output(2)\ny.set_to(z)\n")
  result = tool("train", f"--model_file={model}",
                f"--data_file={DATA}/circuit_swap_data.json",
                f"--model_dir={tmp_path}/run")
  assert_usage_error(result, f"{model}:3:10:", "unknown name 'z'")


def test_anc_flags_with_a_model_file_are_refused(tmp_path):
  result = tool("train", *_circuit_flags(tmp_path), "--sharpness=3")
  assert_usage_error(result, "--sharpness", "ANC flags")


def test_ntpt_flags_without_a_model_file_are_refused():
  result = tool("train", f"--data_file={DATA}/circuit_swap_data.json")
  assert_usage_error(result, "--data_file", "without --model_file")


def test_a_missing_batch_is_one_line(tmp_path):
  result = tool("train", *_circuit_flags(tmp_path), "--test_batch=nope")
  assert_usage_error(result, "no batch 'nope'")


def test_a_model_bringing_two_untrained_networks_is_refused(tmp_path):
  result = tool("train", "--model_file=ntpt_keras/models/add2x2.py",
                f"--hypers_file={DATA}/2x2_hypers.json", "--hypers=choice",
                "--dataset=grids2x2/add2x2_top", f"--model_dir={tmp_path}")
  assert_usage_error(result, "2 untrained networks (net_0, net_1)")


def test_a_malformed_curriculum_is_one_line(tmp_path):
  result = tool("train", *_circuit_flags(tmp_path), "--curriculum=path_len")
  assert_usage_error(result, "--curriculum takes output:v1,v2")


def test_train_prints_the_saved_model_version_it_wrote(tmp_path):
  result = tool("train", "--flagfile=configs/ntpt/turing_invert.flags",
                "--restarts=1", "--train_steps=1", f"--model_dir={tmp_path}")
  assert result.returncode == 0, result.stderr
  assert f"SavedModel: {tmp_path / 'saved_model' / '1'}," in result.stdout
