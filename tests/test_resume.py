"""Resuming only what fits: damaged checkpoints and changed settings are
one-line errors that leave the run's folder as it was."""

import os
import shutil

import pytest

from tests.test_cli import assert_usage_error, tool
from tests.test_train_command import TINY_ANC

CHECKPOINT = os.path.join("checkpoints", "ckpt-1")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  model_dir = tmp_path_factory.mktemp("finished") / "run"
  result = tool("train", *TINY_ANC, f"--model_dir={model_dir}")
  assert result.returncode == 0, result.stderr
  return model_dir


@pytest.fixture
def run_copy(finished, tmp_path):
  copy = tmp_path / "run"
  shutil.copytree(finished, copy)
  return copy


def _snapshot(directory):
  """Every file under `directory` with its size and modification time."""
  return {os.path.relpath(os.path.join(root, name), directory):
          (os.path.getsize(os.path.join(root, name)),
           os.path.getmtime(os.path.join(root, name)))
          for root, _, names in os.walk(directory) for name in names}


def _resume(model_dir, *flags):
  return tool("train", *TINY_ANC, f"--model_dir={model_dir}", *flags)


def test_the_settings_are_recorded_beside_the_checkpoints(finished):
  assert (finished / "checkpoints" / "settings.json").exists()


def test_a_resume_with_a_changed_setting_is_refused_naming_it(run_copy):
  before = _snapshot(run_copy)
  result = _resume(run_copy, "--learning_rate=0.05", "--train_steps=2")
  assert_usage_error(result, "trained with other settings",
                     "learning_rate 0.1 there, 0.05 now")
  assert _snapshot(run_copy) == before


def test_a_resume_with_more_steps_continues(run_copy):
  result = _resume(run_copy, "--train_steps=2", "--log_every=1")
  assert result.returncode == 0, result.stderr
  assert "resumed from" in result.stdout
  assert (run_copy / "checkpoints" / "ckpt-2.index").exists()


@pytest.mark.parametrize("damage,words", [
    (("checkpoints", "checkpoint"), ["checkpoint: not a checkpoint state "
                                     "file"]),
    (("checkpoints", "settings.json"), ["settings.json: unreadable"]),
    (("checkpoints", "ckpt-1.index"), ["cannot resume from", "ckpt-1"]),
    (("checkpoints", "ckpt-1.data-00000-of-00001"),
     ["cannot resume from", "ckpt-1"]),
])
def test_a_damaged_file_is_one_line_and_nothing_changes(run_copy, damage,
                                                        words):
  path = run_copy.joinpath(*damage)
  data = path.read_bytes()
  path.write_bytes(b"garbage{{" if len(data) < 200 else data[:len(data) // 2])
  before = _snapshot(run_copy)
  result = _resume(run_copy, "--train_steps=2")
  assert_usage_error(result, *words)
  assert _snapshot(run_copy) == before
