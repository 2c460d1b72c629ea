"""Programs and flagfiles ship with the package and are found through it."""

import json
import os

import pytest

from ntpt_keras import config as ntpt_config
from tf_anc import shipped
from tf_anc import tasks
from tf_anc.experiments import task_runs
from tf_anc.training import sweep_trials
from tests.test_cli import LISTK_INPUT, LISTK_RESULT, assert_usage_error, tool

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_program_name_names_the_shipped_program(monkeypatch, tmp_path):
  monkeypatch.chdir(tmp_path)
  assert shipped.program_path("listk") == shipped.programs_dir() / "listk.anc"
  assert shipped.program_path("listk.anc") == shipped.programs_dir() / "listk.anc"


def test_a_file_in_the_working_directory_wins_over_a_shipped_name(
    monkeypatch, tmp_path):
  monkeypatch.chdir(tmp_path)
  (tmp_path / "listk.anc").write_text("STOP();\n")
  assert shipped.program_path("listk.anc").resolve() == tmp_path / "listk.anc"


def test_an_unknown_name_is_returned_as_given(monkeypatch, tmp_path):
  monkeypatch.chdir(tmp_path)
  assert str(shipped.program_path("nowhere.anc")) == "nowhere.anc"
  assert str(shipped.program_path("sub/listk.anc")) == "sub/listk.anc"


def test_every_task_program_is_shipped():
  assert set(shipped.program_names()) >= {
      tasks.get(name).program[:-len(shipped.PROGRAM_SUFFIX)]
      for name in tasks.TASKS}


def test_the_shipped_flagfiles_hold_one_flag_a_line():
  files = shipped.flagfiles()
  assert shipped.configs_dir() / "anc" / "tuned" / "listk.flags" in files
  for path in files:
    for line in path.read_text().splitlines():
      assert not line or line.startswith(("#", "--")), (path, line)


def test_the_configs_tool_lists_each_flagfile_with_its_path():
  result = tool("configs")
  assert result.returncode == 0, result.stderr
  listing = dict(line.split() for line in result.stdout.splitlines())
  assert listing["anc/listk"] == str(shipped.configs_dir() / "anc" /
                                     "listk.flags")
  assert len(listing) == len(shipped.flagfiles())


def test_the_configs_tool_prints_the_path_of_a_named_flagfile():
  result = tool("configs", "anc/tuned/listk")
  assert result.returncode == 0, result.stderr
  assert result.stdout.strip() == str(shipped.configs_dir() / "anc" / "tuned" /
                                      "listk.flags")


def test_the_configs_tool_refuses_an_unknown_name_in_one_line():
  assert_usage_error(tool("configs", "anc/nothing"), "anc/nothing")


def test_run_takes_a_shipped_programs_name_from_any_directory(tmp_path):
  result = tool("run", "--program=listk", "--memory_size=20",
                "--max_steps=75", f"--input={LISTK_INPUT}", cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout) == LISTK_RESULT


def test_an_ntpt_flagfiles_model_path_names_the_installed_copy_anywhere(
    monkeypatch, tmp_path):
  monkeypatch.chdir(tmp_path)
  path = ntpt_config.shipped_file("ntpt_keras/models/turing.py")
  assert os.path.isfile(path)
  assert path.endswith(os.path.join("ntpt_keras", "models", "turing.py"))


def test_an_ntpt_path_that_exists_here_is_kept(monkeypatch, tmp_path):
  monkeypatch.chdir(tmp_path)
  (tmp_path / "ntpt_keras" / "models").mkdir(parents=True)
  (tmp_path / "ntpt_keras" / "models" / "turing.py").write_text("")
  assert ntpt_config.shipped_file("ntpt_keras/models/turing.py") == (
      "ntpt_keras/models/turing.py")


ANC_RUNS = sorted(
    str(path.relative_to(shipped.configs_dir()))
    for folder in ("anc", "anc/tuned", "anc/searched")
    for path in (shipped.configs_dir() / folder).glob("*.flags"))
SWEEPS = sorted(str(path.relative_to(shipped.configs_dir()))
                for path in (shipped.configs_dir() / "anc/sweep").glob("*.flags"))


def flag_lines(path):
  with open(path) as f:
    return [line.strip() for line in f if line.startswith("--")]


@pytest.mark.parametrize("name", ANC_RUNS)
def test_every_shipped_anc_flagfile_is_a_valid_run(name, monkeypatch):
  monkeypatch.chdir(REPO)
  sweep_trials.training_config([f"--flagfile={shipped.configs_dir() / name}"])


@pytest.mark.parametrize("name", SWEEPS)
def test_every_value_of_every_shipped_sweep_is_a_valid_run(name, monkeypatch):
  monkeypatch.chdir(REPO)  # the sweep files name their base from the repo
  lines = flag_lines(shipped.configs_dir() / name)
  base = [line.split("=", 1)[1] for line in lines
          if line.startswith("--base_flagfile=")][0]
  space = sweep_trials.parse_space(
      [line.split("=", 1)[1] for line in lines if line.startswith("--grid=")],
      [line.split("=", 1)[1] for line in lines
       if line.startswith("--sample=")])
  for flag, choices in space.grid.items():
    for choice in choices:
      sweep_trials.training_config([f"--flagfile={base}", f"--{flag}={choice}"])


def test_the_experiment_flagfiles_name_valid_variants(monkeypatch):
  monkeypatch.chdir(REPO)
  for path in (shipped.configs_dir() / "anc/experiments").glob("*.flags"):
    lines = flag_lines(path)
    configs = [line.split("=", 1)[1] for line in lines
               if line.startswith("--configs=")][0]
    first_task = [line.split("=", 1)[1].split(",")[0] for line in lines
                  if line.startswith("--tasks=")] or ["access"]
    for line in lines:
      if line.startswith("--variant="):
        _, added = task_runs.parse_variant(line.split("=", 1)[1])
        sweep_trials.training_config(
            [f"--flagfile={task_runs.flagfile(configs, first_task[0])}",
             *added])
