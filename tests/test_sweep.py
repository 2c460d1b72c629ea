"""tf_anc.sweep (and tf_anc.training.sweep_trials): ANC searches on Ray Tune."""

import glob
import json
import os

import pytest
import tensorflow as tf

from tf_anc.training import sweep_trials
from tests.test_cli import REPO, assert_usage_error, tool

BASE = os.path.join(REPO, "configs", "anc", "tuned", "access.flags")
TINY = ["--grid=restarts=2", "--grid=train_steps=3", "--grid=batch_size=1",
        "--grid=test_examples=20"]


def test_grid_and_sample_flags_parse_into_a_space():
  space = sweep_trials.parse_space(
      ["learning_rate=0.1,0.3", "restarts=4"],
      ["sharpness=log_uniform:1:10", "optimizer=choice:adam,sgd"])
  assert space.grid == {"learning_rate": ("0.1", "0.3"), "restarts": ("4",)}
  assert space.samples == {"sharpness": ("log_uniform", ("1", "10")),
                           "optimizer": ("choice", ("adam", "sgd"))}


@pytest.mark.parametrize("grid, samples, words", [
    (["learning_rate"], [], "expected FLAG="),
    (["learning_rate="], [], "no values"),
    ([], ["gamma=normal:0:1"], "unknown distribution 'normal'"),
    ([], ["gamma=uniform:1"], "two numbers"),
    ([], ["gamma=log_uniform:0:1"], "0 < LO < HI"),
    (["gamma=0.1"], ["gamma=uniform:0:1"], "both on a grid and sampled"),
])
def test_a_malformed_search_space_is_refused_naming_the_flag(grid, samples,
                                                             words):
  with pytest.raises(ValueError, match=words):
    sweep_trials.parse_space(grid, samples)


def test_trial_folders_are_named_by_their_values():
  first = sweep_trials.trial_name({"learning_rate": 0.1, "gamma": "0.5"})
  assert first == sweep_trials.trial_name({"gamma": "0.5", "learning_rate": 0.1})
  assert first.startswith("gamma=0.5,learning_rate=0.1_")
  assert first != sweep_trials.trial_name({"learning_rate": 0.3, "gamma": "0.5"})


def test_a_trial_folder_spells_out_only_the_varying_flags():
  values = {"learning_rate": 0.1, "padding": "random"}
  name = sweep_trials.trial_name(values, varying=["learning_rate"])
  assert name.startswith("learning_rate=0.1_") and "padding" not in name
  assert name != sweep_trials.trial_name({**values, "padding": "stop"},
                                   varying=["learning_rate"])


def test_a_sweep_without_a_base_flagfile_is_a_one_line_error():
  assert_usage_error(tool("sweep", "--grid=learning_rate=1"),
                     "--base_flagfile is required")


def test_a_bad_trial_flag_is_a_one_line_error(tmp_path):
  assert_usage_error(tool("sweep", f"--base_flagfile={BASE}",
                          "--grid=learning_rat=1",
                          f"--output_dir={tmp_path}"), "learning_rat")


def _trial_checkpoints(output_dir):
  pattern = os.path.join(output_dir, "trials", "*", "checkpoints",
                         "ckpt-*.index")
  return {path: os.path.getmtime(path) for path in glob.glob(pattern)}


# Starts a Ray cluster and trains four runs (~40 s): `pytest -m slow`.
@pytest.mark.slow
def test_a_two_trial_sweep_on_local_ray_writes_its_results_and_resumes(
    tmp_path):
  output_dir = tmp_path / "sweep"
  arguments = [f"--base_flagfile={BASE}", "--grid=learning_rate=0.5,1",
               *TINY, f"--output_dir={output_dir}",
               f"--data_dir={tmp_path / 'data'}"]
  result = tool("sweep", *arguments)
  assert result.returncode == 0, result.stderr[-3000:]
  with open(output_dir / "sweep.json") as f:
    rows = json.load(f)
  assert sorted(row["config"]["learning_rate"] for row in rows) == [
      "0.5", "1"]
  for row in rows:
    assert {"success_rate", "restarts", "learned_iterations",
            "interpretability"} <= set(row)
    assert row["restarts"] == 2
  # The best trial's flagfile is one the trainer accepts as it is.
  config = sweep_trials.training_config([f"--flagfile={output_dir / 'best.flags'}"])
  assert config.learning_rate == float(rows[0]["config"]["learning_rate"])
  assert config.restarts == 2
  assert config.model_dir == str(output_dir / "best")
  # Every trial is on TensorBoard's HParams dashboard.
  logged = set()
  for path in glob.glob(str(output_dir / "hparams" / "*" / "events.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        logged.add(value.metadata.plugin_data.plugin_name)
  assert "hparams" in logged
  assert len(glob.glob(str(output_dir / "hparams" / "*"))) == 2

  # Run again, the finished trials are not trained again.
  checkpoints = _trial_checkpoints(output_dir)
  assert len(checkpoints) == 2
  again = tool("sweep", *arguments)
  assert again.returncode == 0, again.stderr[-3000:]
  assert _trial_checkpoints(output_dir) == checkpoints
