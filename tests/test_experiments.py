"""The experiment and benchmark commands produce their tables."""

import json
import os
import subprocess
import sys

import pytest

from tf_anc.benchmarks import machine as machine_benchmark
from tf_anc.common import cli
from tf_anc.experiments import table1
from tf_anc.experiments import task_runs
from tf_anc.machine import fused
from tf_anc.training import sweep_trials
from tf_anc.training import trainer
from tf_anc.training.config import METHODS
from tf_anc.training.config import TrainingConfig
from tf_anc.training.trainer import train_and_evaluate
from tests.test_plots import png_width

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def report(successes, iterations, programs=None, discrete=None,
           early_halting=()):
  """results.json of restarts with these successes and iterations; by
  default each argmax program does what its soft machine does.
  `discrete`: (accuracy, iterations) of each argmax program instead.
  `early_halting`: restarts right at the end but wrong at halting."""
  programs = programs or [f"program {i}" for i in range(len(successes))]
  discrete = discrete or [(1.0 if success else 0.5, iteration)
                          for success, iteration in zip(successes, iterations)]
  restarts = [{"success": success,
               "accuracy": 1.0 if success or index in early_halting else 0.5,
               "halted_accuracy": 0.0 if index in early_halting else
                                  1.0 if success else 0.5,
               "mean_iterations": iteration, "mean_steps": iteration - 1,
               "interpretability": 1, "program": program,
               "discrete_accuracy": discrete_accuracy,
               "discrete_mean_steps": discrete_iterations - 1}
              for index, (success, iteration, program,
                          (discrete_accuracy, discrete_iterations)) in
              enumerate(zip(successes, iterations, programs, discrete))]
  return {"distribution": "biased", "generic_mean_iterations": 6.0,
          "generic_mean_steps": 5.0, "restarts": restarts}


def test_table1_row_takes_the_fastest_successful_restart():
  row = task_runs.summarize("access", report([True, False, True], [5, 3, 4]))
  assert row["learned_iterations"] == 4
  assert row["success_rate"] == 2 / 3
  assert row["paper"]["success"] == 0.37


def test_table1_markdown_puts_ours_beside_the_papers():
  rows = [task_runs.summarize("access", report([True, False], [4, 6])),
          task_runs.summarize("swap", report([False], [10]))]
  text = table1.markdown(rows)
  assert ("| access | biased | 2 | 6.00 / 6 | 4.00 / 4 | 1 | 4 "
          "| 50% [9%-91%] / 37% | 0 | 1, 4.00 | - |") in text
  assert "10.00 (no success) / 6" in text


def made_up_rows():
  """Table 1 rows: a success, a task no restart succeeded at, and a task
  the paper does not have."""
  return [task_runs.summarize("access", report([True, False], [4, 6])),
          task_runs.summarize("swap", report([False], [10])),
          task_runs.summarize("mytask", report([True], [3]))]


def test_table1_figure_is_a_png_at_least_800_pixels_wide(tmp_path):
  path = tmp_path / "table1.png"
  table1.figure(made_up_rows(), str(path))
  assert png_width(path) >= 800


def test_table1_figure_draws_rows_run_by_several_methods(tmp_path):
  rows = [{**row, "methods": {"gradient": row, "search": {
      **row, **task_runs.summarize(row["task"], report([True], [5]))}}}
          for row in made_up_rows()]
  path = tmp_path / "table1.png"
  table1.figure(rows, str(path))
  assert png_width(path) >= 800


def test_the_export_check_runs_the_served_model_on_fresh_samples(tmp_path):
  # Two steps change no argmax: the generic program is what gets served.
  report = train_and_evaluate(TrainingConfig(
      task="access", model_dir=str(tmp_path / "run"),
      data_dir=str(tmp_path / "tfds"), restarts=2, train_steps=2,
      test_examples=20), log=lambda line: None)
  checked = task_runs.check_export(report, num_examples=50)
  assert report["exported_generic_program"]
  assert checked["export_accuracy"] == 1.0
  assert checked["export_iterations"] == checked["generic_iterations_fresh"]
  # The generic program is right off the bias too.
  assert checked["export_accuracy_unbiased"] == 1.0


def test_the_success_interval_is_wilsons():
  low, high = task_runs.wilson_interval(0, 20)
  assert low == 0.0 and high == pytest.approx(0.161, abs=1e-3)
  low, high = task_runs.wilson_interval(37, 100)
  assert (low, high) == (pytest.approx(0.2821, abs=1e-3),
                         pytest.approx(0.4671, abs=1e-3))


def test_a_task_spec_may_name_another_distribution():
  assert task_runs.task_and_distribution("listk@biased_k_upto_l") == (
      "listk", "biased_k_upto_l")
  assert task_runs.task_and_distribution("sort") == ("sort", None)


def test_a_task_spec_runs_its_own_flagfile_when_there_is_one(tmp_path):
  (tmp_path / "listk.flags").write_text("--task=listk\n")
  assert task_runs.flagfile(str(tmp_path), "listk@biased_k_upto_l") == str(
      tmp_path / "listk.flags")
  (tmp_path / "listk@biased_k_upto_l.flags").write_text("--task=listk\n")
  assert task_runs.flagfile(str(tmp_path), "listk@biased_k_upto_l") == str(
      tmp_path / "listk@biased_k_upto_l.flags")


SEARCHED = os.path.join(REPO, "configs", "anc", "searched")


@pytest.fixture(name="finished_access")
def fixture_finished_access(tmp_path):
  """The model_dir of a finished Access run of the searched config, seed 7
  (its results.json only: what run_task reads back)."""
  model_dir = str(tmp_path / "access")
  config = sweep_trials.training_config([f"--flagfile={SEARCHED}/access.flags",
                                   "--restarts=1", f"--model_dir={model_dir}",
                                   "--seed=7"])
  os.makedirs(model_dir)
  with open(os.path.join(model_dir, "results.json"), "w") as f:
    json.dump({**report([True], [4]), "config": trainer.config_json(config),
               "train_steps_done": config.train_steps}, f)
  return model_dir


def test_a_finished_run_with_the_settings_asked_is_read_back(finished_access):
  report_read = task_runs.run_task("access", 1, finished_access, None,
                                   SEARCHED, ["--seed=7"])
  # The fixture's own made-up program: nothing was trained.
  assert report_read["restarts"][0]["program"] == "program 0"


def test_a_run_finished_before_a_setting_existed_is_read_back_at_its_default(
    finished_access):
  path = os.path.join(finished_access, "results.json")
  with open(path) as f:
    older = json.load(f)
  del older["config"]["program_search_proposal_temperature"]
  with open(path, "w") as f:
    json.dump(older, f)
  assert task_runs.run_task("access", 1, finished_access, None, SEARCHED,
                            ["--seed=7"])["restarts"]
  with pytest.raises(cli.UsageError,
                     match=r"program_search_proposal_temperature None there, "
                           r"2.0 now"):
    task_runs.run_task("access", 1, finished_access, None, SEARCHED,
                       ["--seed=7", "--program_search_proposal_temperature=2"])


def test_a_finished_run_with_other_settings_is_refused(finished_access):
  # As when its flagfile has been edited since the run.
  with pytest.raises(cli.UsageError, match=r"seed 7 there, 8 now"):
    task_runs.run_task("access", 1, finished_access, None, SEARCHED,
                       ["--seed=8"])


def test_a_task_run_trains_as_the_train_command_does_in_this_process(
    tmp_path):
  arguments = ["--seed=3", "--train_steps=20", "--method=both",
               "--program_search_steps=200"]
  ours = task_runs.run_task("access", 2, str(tmp_path / "ours"), None,
                            SEARCHED, arguments)
  subprocess.run(
      [sys.executable, "-m", "tf_anc.train",
       f"--flagfile={SEARCHED}/access.flags", "--restarts=2",
       f"--model_dir={tmp_path / 'command'}", *arguments],
      capture_output=True, cwd=REPO, timeout=300, check=True)
  with open(tmp_path / "command" / "results.json") as f:
    command = json.load(f)
  assert ours["restarts"] == command["restarts"]
  assert ours["config"]["train_steps"] == 20


def test_restarts_that_reach_one_program_count_once_as_distinct():
  row = task_runs.summarize("access", report(
      [True, True, True, False], [4, 4, 5, 6],
      ["a = READ(b);  # p = 0.9", "a = READ(b);  # p = 0.7", "b", "c"]))
  assert row["successes"] == 3
  assert row["distinct_successful_programs"] == 2


def test_a_variant_is_a_name_and_the_flags_it_adds():
  assert task_runs.parse_variant("ours") == ("ours", [])
  assert task_runs.parse_variant("authors:--init_noise=0 --padding=random") == (
      "authors", ["--init_noise=0", "--padding=random"])
  with pytest.raises(ValueError, match="not a --flag"):
    task_runs.parse_variant("bad:init_noise=0")


def test_a_variant_pools_the_restarts_of_its_seeds():
  row = task_runs.pooled("access", "ours", [
      report([True, False], [4, 6]), report([False, False], [6, 6])])
  assert (row["restarts"], row["successes"], row["runs_with_success"]) == (
      4, 1, 1)
  assert row["learned_iterations"] == 4
  assert ("| access | ours | 4 | 25% [5%-70%] | 1 of 2 | 1 | 4.00 (6.00) "
          "| 0 | 1 |") in task_runs.variants_markdown([row])


def test_a_soft_success_whose_argmax_program_is_wrong_is_no_program_success():
  row = task_runs.summarize("access", report(
      [True, True, False], [4, 4, 6],
      discrete=[(1.0, 5), (0.0, 2), (1.0, 6)]))
  assert row["successes"] == 2
  assert row["program_successes"] == 1
  assert row["program_learned_iterations"] == 5


def test_a_restart_right_only_at_the_end_counts_as_early_halting():
  row = task_runs.summarize("increment", report(
      [False, True, False], [3, 4, 3], early_halting=(0,)))
  assert row["successes"] == 1
  assert row["early_halting"] == 1
  assert "| 1 | 1, 4.00 |" in table1.markdown([row])


def fake_run_task(calls, seconds):
  """A run_task that records (model_dir, flags) and trains nothing: its
  report says the stages took `seconds[method]`."""
  def run(spec, restarts, model_dir, data_dir, configs, extra_flags=()):
    del data_dir, configs
    method = os.path.basename(model_dir)
    calls.append((method, list(extra_flags), sorted(os.listdir(model_dir))
                  if os.path.exists(model_dir) else None))
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "ckpt-1"), "w") as f:
      f.write(method)
    return {**report([True] * restarts, [4] * restarts), "task": spec,
            "seconds": seconds[method]}
  return run


def test_methods_share_the_gradients_training_time(tmp_path, monkeypatch):
  calls = []
  monkeypatch.setattr(task_runs, "run_task", fake_run_task(calls, {
      "gradient": {"train": 30.0, "program_search": None},
      "search": {"train": None, "program_search": 29.0},
      "both": {"train": None, "program_search": 28.0},
      "guided": {"train": None, "program_search": 27.0}}))
  budgets = []
  monkeypatch.setattr(task_runs, "search_steps_matching",
                      lambda report, seconds: budgets.append(seconds) or 1234)
  reports = task_runs.method_runs("access", 2, str(tmp_path), None, SEARCHED,
                                  ["--seed=3"], METHODS)
  assert budgets == [30.0]
  assert calls == [
      ("gradient", ["--seed=3", "--method=gradient"], None),
      ("search", ["--seed=3", "--method=search",
                  "--program_search_steps=1234"], None),
      # Both and guided go on from a copy of the gradient's training.
      ("both", ["--seed=3", "--method=both", "--program_search_steps=1234"],
       ["ckpt-1"]),
      ("guided", ["--seed=3", "--method=guided",
                  "--program_search_steps=1234"], ["ckpt-1"])]
  assert {method: report["wall_seconds"]
          for method, report in reports.items()} == {
              "gradient": 30.0, "search": 29.0, "both": 58.0, "guided": 57.0}
  assert [report["search_steps"] for report in reports.values()] == [
      0, 1234, 1234, 1234]


class FakeClock:
  """A perf_counter that a fake search moves on: `seconds_per_step` a step,
  each run's rate scaled by the next of `slowdowns` (1 after them)."""

  def __init__(self, seconds_per_step, slowdowns=()):
    self.now, self.seconds_per_step = 0.0, seconds_per_step
    self.slowdowns, self.runs = list(slowdowns), []

  def perf_counter(self):
    return self.now

  def search(self, steps):
    self.runs.append(steps)
    slowdown = self.slowdowns.pop(0) if self.slowdowns else 1.0
    self.now += steps * self.seconds_per_step * slowdown


def test_search_rate_doubles_the_probe_until_it_lasts_then_times_it_thrice(
    monkeypatch):
  clock = FakeClock(seconds_per_step=1e-4)
  monkeypatch.setattr(task_runs.time, "perf_counter", clock.perf_counter)
  assert task_runs.search_rate(clock.search, probe_seconds=0.5) == (
      pytest.approx(1e4))
  assert clock.runs == [1000, 2000, 4000, 8000, 8000, 8000]


def test_search_rate_ignores_one_window_at_half_speed(monkeypatch):
  # Runs of 1,000-4,000 steps are too short; the first of 8,000 is slowed.
  clock = FakeClock(seconds_per_step=1e-4, slowdowns=[1, 1, 1, 2])
  monkeypatch.setattr(task_runs.time, "perf_counter", clock.perf_counter)
  assert task_runs.search_rate(clock.search, probe_seconds=0.5) == (
      pytest.approx(1e4))


def test_the_table_by_method_has_a_line_per_task_and_method():
  row = task_runs.summarize("access", report([True, False], [4, 6]))
  methods = {"gradient": {**row, "wall_seconds": 12.3, "search_steps": 0},
             "search": {**task_runs.summarize("access", report([True], [4])),
                        "wall_seconds": 11.9, "search_steps": 5000}}
  text = table1.methods_markdown([{**row, "methods": methods}])
  assert "| access | gradient | 50% [9%-91%] (37%) | 4.00 (6.00) |" in text
  assert "| access | search | 100% [21%-100%] (37%) |" in text
  assert text.rstrip().endswith("| - | 5000 | 12 |")


def test_search_benchmark_prints_and_writes_both_machines(tmp_path):
  output = tmp_path / "search.json"
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.benchmarks.search", "--tasks=access",
       "--candidates=5", "--examples=3", "--search_steps=50", "--chains=2",
       "--min_seconds=0", f"--output={output}"],
      capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
  if "no native machine" in result.stderr:
    pytest.skip("the op library is not built here")
  assert result.returncode == 0, result.stderr
  assert "batched c*e/s" in result.stdout
  row = json.loads(output.read_text())["access"]
  assert row["python"] > 0 and row["batched"] > 0
  assert row["candidates"] == 5 and row["examples"] == 3
  assert row["search"]["same_programs"]


def _machine_benchmark(*flags):
  """`tf_anc.benchmarks.machine` at a tiny shape (M 5, batch 2, 3 steps)."""
  return subprocess.run(
      [sys.executable, "-m", "tf_anc.benchmarks.machine",
       "--memory_sizes=5", "--batches=2", "--steps=3", "--min_seconds=0",
       *flags],
      capture_output=True, text=True, cwd=REPO, timeout=300, check=True)


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built")
def test_training_step_benchmark_times_libraries_in_turn(tmp_path):
  from tf_anc.kernels import build  # pylint: disable=g-import-not-at-top
  library = str(build.ensure_built())
  copy = tmp_path / "copy.so"
  copy.write_bytes(open(library, "rb").read())
  output = tmp_path / "times.json"
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.benchmarks.training_step",
       "--task=access", "--restarts=2", "--batch_size=4",
       "--timed_batches=2", f"--libraries={library},{copy}", "--rounds=1",
       f"--output={output}"],
      capture_output=True, text=True, cwd=REPO, timeout=300, check=True)
  times = json.loads(output.read_text())
  assert list(times["rounds"]) == [library, str(copy)]
  calls = {"train_step", "train_step_from_pipeline",
           "machine_forward_and_gradient", "machine_forward"}
  for (round_times,) in times["rounds"].values():
    assert all(round_times[call] > 0 for call in calls)
  assert set(times["speedups"][str(copy)]) == calls
  assert f"train_step: {library} / {copy} = " in result.stdout


def test_machine_benchmark_prints_and_writes_rows(tmp_path):
  output = tmp_path / "rows.json"
  # XLA (compiled, slower to start) is the next test's.
  impls = ["tf"] + (["fused"] if fused.fused_available() else [])
  result = _machine_benchmark("--rounds=1", f"--impls={','.join(impls)}",
                              f"--output={output}")
  assert "examples/s" in result.stdout
  rows = json.loads(output.read_text())
  assert [row["impl"] for row in rows] == impls
  assert set(rows[0]) == {"impl", "memory_size", "registers", "steps",
                          "batch", "examples_per_second",
                          "rounds_examples_per_second"}
  assert all(row["examples_per_second"] > 0 for row in rows)


def test_machine_benchmark_gives_the_median_of_its_rounds(tmp_path):
  output = tmp_path / "rows.json"
  impls = ["xla"] + (["fused"] if fused.fused_available() else [])
  result = _machine_benchmark("--rounds=3", f"--impls={','.join(impls)}",
                              f"--output={output}")
  rows = json.loads(output.read_text())
  for row in rows:
    assert len(row["rounds_examples_per_second"]) == 3
    assert row["examples_per_second"] == sorted(
        row["rounds_examples_per_second"])[1]
  if "fused" in impls:
    assert "fused/xla" in result.stdout
    xla, fused_row = rows
    ratios = sorted(
        fused_speed / xla_speed for fused_speed, xla_speed in zip(
            fused_row["rounds_examples_per_second"],
            xla["rounds_examples_per_second"]))
    assert fused_row["fused_over_xla"] == pytest.approx(ratios[1])


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built")
def test_machine_benchmark_breakdown_splits_the_fused_call(tmp_path):
  output = tmp_path / "rows.json"
  result = _machine_benchmark("--rounds=1", "--impls=xla,fused",
                              "--breakdown", f"--output={output}")
  split, peak = result.stdout.splitlines()[-2:]
  assert "TensorFlow's floor" in split and "op fixed" in split
  assert "3 steps x" in split
  assert "an op of zero cost would be" in split
  assert "of 1 core's peak (measured here:" in peak
  parts = json.loads(output.read_text())[-1]["breakdown"]
  assert parts["cores"] == 1  # batch 2: one group of lanes
  # (At this tiny shape the timings are noise; the share is their ratio.)
  _, share, _ = machine_benchmark.peak_share(
      5, 2, 7, "train", parts["per_step_ms"],
      parts["peak_vector_multiply_adds_per_second"], parts["lanes"], 1)
  assert parts["steps_peak_share"] == pytest.approx(share)


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built")
def test_machine_benchmark_breakdown_takes_the_median_of_its_rounds(
    tmp_path):
  output = tmp_path / "rows.json"
  _machine_benchmark("--rounds=3", "--impls=fused", "--breakdown",
                     f"--output={output}")
  parts = json.loads(output.read_text())[-1]["breakdown"]
  assert len(parts["rounds_per_step_ms"]) == 3
  assert parts["per_step_ms"] == pytest.approx(
      sorted(parts["rounds_per_step_ms"])[1])
  assert parts["total_ms"] == pytest.approx(
      parts["floor_ms"] + parts["op_fixed_ms"] + parts["steps_ms"])


def test_a_training_step_takes_three_forward_steps_and_the_writes_again():
  # M 20, R 7: forward 20 * 32 + 280 + 800 + (800 + 280) = 2800.
  assert machine_benchmark.multiply_adds_per_step(20, 7, "forward") == 2800
  assert machine_benchmark.multiply_adds_per_step(20, 7, "train") == (
      3 * 2800 + 1080)


def test_peak_share_counts_a_vector_per_group_of_lanes_on_its_own_core():
  per_step = machine_benchmark.multiply_adds_per_step(20, 7, "train")
  # Batch 20 on 16 lanes: two groups (the second 4/16 full) on two of
  # four cores, each step in 1 us.
  rate, share, cores = machine_benchmark.peak_share(
      20, 20, 7, "train", per_step_ms=1e-3, vector_rate=1e10, lanes=16,
      cores=4)
  assert cores == 2
  assert rate == pytest.approx(2 * per_step * 1e6 * 16)
  assert share == pytest.approx(2 * per_step * 1e6 / (2 * 1e10))


def test_peak_share_counts_one_example_at_a_time_as_vectorised_values():
  per_step = machine_benchmark.multiply_adds_per_step(20, 7, "forward")
  rate, share, cores = machine_benchmark.peak_share(
      20, 2, 7, "forward", per_step_ms=1e-3, vector_rate=1e10, lanes=16,
      cores=2)
  assert cores == 1
  assert rate == pytest.approx(2 * per_step * 1e6)
  assert share == pytest.approx(2 / 16 * per_step * 1e6 / 1e10)
