"""The trainer: restarts, checkpoints and resuming, results, summaries, export."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import plugin_data_pb2

from tf_anc import lang
from tf_anc import reference
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import fused
from tf_anc.training import evaluation
from tf_anc.training import summaries
from tf_anc.training.config import LossWeights, TrainingConfig
from tf_anc.training.trainer import Trainer, resolve
from tf_anc.training.trainer import train_and_evaluate
from tests.events import summaries_of
from tests.variables import assert_same_variables
from tests.variables import assert_restores_every_variable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module", name="data_dir")
def _data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def access_config(model_dir, data_dir, **overrides):
  fields = dict(task="access", model_dir=str(model_dir), data_dir=data_dir,
                optimizer="adam", learning_rate=0.1, batch_size=2,
                sharpness=3.0, restarts=2, train_steps=6,
                checkpoint_every=3, log_every=3, test_examples=50,
                loss_weights=LossWeights(correctness=10.0, halting=1.0,
                                         efficiency=0.1, confidence=1.0))
  fields.update(overrides)
  return TrainingConfig(**fields)


@pytest.fixture(scope="module", name="trained")
def _trained(tmp_path_factory, data_dir):
  model_dir = tmp_path_factory.mktemp("run")
  config = access_config(model_dir, data_dir, export_all_restarts=True,
                         summary_every=3)
  report = train_and_evaluate(config, log=lambda line: None)
  return model_dir, report


def controller_values(trainer):
  return [variable.numpy() for variable in trainer.machine.trainable_variables]


def test_each_restart_draws_its_own_examples(tmp_path, data_dir):
  trainer = Trainer(access_config(tmp_path, data_dir, batch_size=8),
                    log=lambda line: None)
  inputs = next(iter(trainer.batches(0)))["input"].numpy()
  assert inputs.shape == (2, 8, 10)
  assert not np.array_equal(inputs[0], inputs[1])


def test_a_restarts_examples_at_a_step_are_drawn_by_numpys_default_rng(
    tmp_path, data_dir):
  """The draw published results were trained on: NumPy's default generator
  seeded by (seed, restart, step)."""
  config = access_config(tmp_path, data_dir, batch_size=8)
  trainer = Trainer(config, log=lambda line: None)
  inputs = list(trainer.batches(0).take(3))[2]["input"].numpy()
  examples = trainer.train_data["input"]
  for restart in range(config.restarts):
    drawn = np.random.default_rng([config.seed, restart, 2]).integers(
        0, len(examples), 8)
    np.testing.assert_array_equal(inputs[restart],
                                  np.asarray(examples)[drawn])


def test_restarts_train_independently(tmp_path, data_dir):
  config = access_config(tmp_path, data_dir, init_noise=0.5)
  trainer = Trainer(config, log=lambda line: None)
  before = controller_values(trainer)
  trainer.train()
  after = controller_values(trainer)
  assert not np.allclose(before[0][0], after[0][0])
  assert not np.allclose(after[0][0], after[0][1])


def test_training_between_logs_in_one_call_equals_a_call_a_step(
    tmp_path, data_dir):
  config = access_config(tmp_path / "chunks", data_dir, log_every=5,
                         checkpoint_every=5, init_noise=0.5)
  chunked = Trainer(config, log=lambda line: None)
  chunked.train()  # 6 steps: calls of 5 and 1
  stepped = Trainer(dataclasses.replace(
      config, model_dir=str(tmp_path / "steps")), log=lambda line: None)
  for batch in stepped.batches(0):
    stepped._train_step(batch["input"], batch["target"], batch["mask"])  # pylint: disable=protected-access
  assert int(chunked.step.numpy()) == int(stepped.step.numpy()) == 6
  for chunked_values, stepped_values in zip(controller_values(chunked),
                                            controller_values(stepped)):
    np.testing.assert_array_equal(chunked_values, stepped_values)


def test_a_resumed_run_ends_with_every_variable_of_an_uninterrupted_one(
    tmp_path, data_dir):
  straight = Trainer(access_config(tmp_path / "straight", data_dir),
                     log=lambda line: None)
  straight.train()
  interrupted = Trainer(access_config(tmp_path / "split", data_dir,
                                      train_steps=3), log=lambda line: None)
  interrupted.train()
  logs = []
  resumed = Trainer(access_config(tmp_path / "split", data_dir),
                    log=logs.append)
  assert_restores_every_variable(interrupted, resumed)
  resumed.train()
  assert "at step 3" in logs[0]
  assert int(resumed.step.numpy()) == 6
  assert_same_variables(straight, resumed, rtol=1e-4, atol=1e-5)


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path, data_dir):
  model_dir = tmp_path / "killed"
  command = [sys.executable, "-u", "-m", "tf_anc.train", "--task=access",
             f"--model_dir={model_dir}", f"--data_dir={data_dir}",
             "--restarts=2", "--batch_size=2", "--train_steps=100000",
             "--checkpoint_every=5", "--log_every=1", "--test_examples=20"]
  process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
  logged = 0
  deadline = time.time() + 240
  for line in process.stdout:
    if line.startswith("step "):
      logged = int(line.split()[1].split("/")[0])
    if logged >= 12 or time.time() > deadline:
      break
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert logged >= 12

  checkpoint = tf.train.latest_checkpoint(model_dir / "checkpoints")
  saved_step = int(checkpoint.rsplit("-", 1)[1])
  assert logged - saved_step <= 5  # at most one checkpoint interval lost
  # The killed command's settings, with more steps (a resume may change
  # only those).
  trainer = Trainer(TrainingConfig(
      task="access", model_dir=str(model_dir), data_dir=str(data_dir),
      restarts=2, batch_size=2, train_steps=saved_step + 2,
      checkpoint_every=5, log_every=1, test_examples=20),
                    log=lambda line: None)
  assert trainer.restore() == saved_step
  reader = tf.train.load_checkpoint(checkpoint)
  saved_logits = reader.get_tensor(
      "controller/instruction_logits/.ATTRIBUTES/VARIABLE_VALUE")
  np.testing.assert_array_equal(
      trainer.machine.controller.instruction_logits.numpy(), saved_logits)


def test_results_json_reports_every_restart(trained):
  model_dir, report = trained
  with open(model_dir / "results.json") as f:
    saved = json.load(f)
  assert saved == json.loads(json.dumps(report))
  assert len(saved["restarts"]) == 2
  assert saved["generic_mean_iterations"] == 6.0
  for restart in saved["restarts"]:
    assert {"accuracy", "halted_accuracy", "mean_steps", "mean_iterations",
            "success", "interpretability", "program"} <= set(restart)
    assert "WRITE(" in restart["program"]


def test_tensorboard_events_hold_losses_evaluation_images_and_programs(
    trained):
  model_dir, _ = trained
  assert {"loss/total", "loss/correctness", "loss/confidence",
          "loss/efficiency", "loss/halting", "eval/success_count",
          "restart_0/accuracy", "restart_0/mean_steps",
          "restart_1/controller", "restart_0/program",
          "program/learned_beside_given"} <= set(summaries_of(model_dir))


def test_a_run_writes_labelled_heatmaps_at_every_summary_interval(trained):
  model_dir, _ = trained  # 6 steps, a summary every 3
  found = summaries_of(model_dir)
  for restart in (0, 1):
    images = found[f"restart_{restart}/controller"]
    assert [step for step, _ in images] == [3, 6]
    for _, value in images:
      width, height, png = value.tensor.string_val
      assert int(width) >= 300 and png.startswith(b"\x89PNG")
    assert [step for step, _ in found[f"restart_{restart}/accuracy"]] == [
        3, 6]


def test_controller_heatmaps_label_rows_with_their_lines_and_registers():
  weights = compile_program(lang.load_program(
      os.path.join(REPO, "programs", "access.anc"), 10))
  instruction, first, _, output = summaries.controller_panels(weights)
  assert instruction.row_labels[:3] == [
      "0: v = READ(const_0);", "1: v = INC(v);", "2: v = READ(v);"]
  assert list(instruction.column_labels) == [
      "STOP", "ZERO", "INC", "ADD", "SUB", "DEC", "MIN", "MAX", "READ",
      "WRITE", "JEZ"]
  assert list(first.column_labels) == list(weights.register_names)
  assert output.probabilities.shape == (10, len(weights.register_names))
  np.testing.assert_allclose(output.probabilities.sum(axis=1), 1.0,
                             rtol=1e-5)


def test_every_run_writes_hparams(trained):
  model_dir, report = trained
  found = summaries_of(model_dir)
  (_, start), = found["_hparams_/session_start_info"]
  hparams = plugin_data_pb2.HParamsPluginData.FromString(
      start.metadata.plugin_data.content).session_start_info.hparams
  assert hparams["learning_rate"].number_value == pytest.approx(0.1)
  assert hparams["task"].string_value == "access"
  assert hparams["loss_weights.correctness"].number_value == 10.0
  (_, rate), = found["hparams/success_rate"]
  assert tf.make_ndarray(rate.tensor) == report["success_rate"]
  assert {"hparams/best_accuracy", "hparams/best_mean_iterations"} <= set(
      found)


MEMORIES = np.random.default_rng(0).integers(0, 10, [6, 10])


def _serve_without_tf_anc(saved_model):
  """The SavedModel's outputs on MEMORIES, in a process without tf_anc."""
  script = f"""
import json, sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load({str(saved_model)!r}).signatures["serving_default"]
out = serve(memory=tf.constant({MEMORIES.tolist()!r}, tf.int32))
assert not any(name.startswith("tf_anc") for name in sys.modules)
print(json.dumps({{name: value.numpy().tolist() for name, value in out.items()}}))
"""
  result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=300, check=True)
  return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_faster_right_restart_the_generic_program_is_exported(
    trained):
  model_dir, report = trained
  # Six steps of training beat the generic program nowhere.
  assert report["exported_restart"] is None
  assert report["exported_generic_program"]
  exported = _serve_without_tf_anc(model_dir / "saved_model" / "1")
  program = lang.load_program(report["program"], 10)
  runs = [reference.run(program, memory, report["config"]["max_steps"])
          for memory in MEMORIES]
  np.testing.assert_array_equal(
      np.argmax(exported["memory_probabilities"], axis=-1),
      [run.memory for run in runs])
  assert exported["steps"] == [run.steps for run in runs]


def test_every_restart_is_exported_and_runs_without_tf_anc(trained):
  model_dir, report = trained
  trainer = Trainer(access_config(model_dir, report["config"]["data_dir"]),
                    log=lambda line: None)
  trainer.restore()
  outputs = trainer.machine(np.stack([MEMORIES] * 2))
  for restart in range(2):
    exported = _serve_without_tf_anc(
        model_dir / "saved_models" / f"restart_{restart}" / "1")
    np.testing.assert_allclose(exported["memory_probabilities"],
                               outputs["memory"][restart], atol=1e-5)
    assert exported["steps"] == outputs["steps"][restart].numpy().tolist()


def soft_scores(accuracy, mean_steps, halted_accuracy=None):
  return evaluation.SoftScores(
      np.array(accuracy), np.array(
          accuracy if halted_accuracy is None else halted_accuracy),
      np.array(mean_steps))


def test_the_fastest_restart_right_everywhere_and_faster_is_exported():
  soft = soft_scores([1.0, 1.0, 0.99, 1.0], [4.0, 3.0, 1.0, 6.0])
  wrong = ([0.5] * 4, [1.0] * 4)
  assert evaluation.exported_restart(soft, wrong, 5.0) == (1, False)
  assert evaluation.exported_restart(soft, wrong, 3.0) is None
  assert evaluation.exported_restart(soft_scores([0.9, 0.5], [1.0, 1.0]),
                                     wrong, 5.0) is None


def test_a_soft_machine_wrong_at_halting_is_not_exported():
  # Restart 1 is right at the end but its halting probability stopped it
  # before the work was done.
  soft = soft_scores([1.0, 1.0], [4.0, 2.0], halted_accuracy=[1.0, 0.0])
  assert evaluation.exported_restart(soft, ([0.5] * 2, [1.0] * 2),
                                     5.0) == (0, False)


def test_an_argmax_program_right_everywhere_and_fastest_is_exported():
  soft = soft_scores([1.0, 1.0], [4.0, 3.0])
  assert evaluation.exported_restart(soft, ([1.0, 0.2], [2.0, 1.0]),
                                     5.0) == (0, True)
  # At equal speed the exact program wins over the soft machine.
  assert evaluation.exported_restart(soft, ([0.2, 1.0], [2.0, 3.0]),
                                     5.0) == (1, True)
  assert evaluation.exported_restart(soft, ([1.0, 1.0], [6.0, 3.5]),
                                     5.0) == (1, False)


def test_a_restart_whose_argmax_program_is_faster_serves_it_exactly(
    tmp_path, data_dir):
  trainer = Trainer(access_config(tmp_path, data_dir), log=lambda line: None)
  # Biased Access always reads A[3] (cell 4): a 4-step program, soft.
  faster = lang.parse_program(
      "var v = 4; v = READ(v); WRITE(0, v); STOP();", 10)
  trainer.machine.controller.set_controller_weights(
      compile_program(faster, 3.0), restart=1)
  report = trainer.evaluate()
  assert (report["exported_restart"], report["exported_argmax_program"]) == (
      1, True)
  exported = _serve_without_tf_anc(trainer.export(report))
  runs = [reference.run(faster, memory, trainer.config.max_steps)
          for memory in MEMORIES]
  assert exported["steps"] == [run.steps for run in runs]
  np.testing.assert_allclose(exported["memory_probabilities"],
                             np.eye(10)[[run.memory for run in runs]],
                             atol=1e-6)


def test_a_finished_run_started_again_exports_the_next_version(
    tmp_path, data_dir):
  config = access_config(tmp_path, data_dir, train_steps=3)
  train_and_evaluate(config, log=lambda line: None)
  first = sorted(os.listdir(tmp_path / "saved_model" / "1"))
  train_and_evaluate(config, log=lambda line: None)
  assert sorted(os.listdir(tmp_path / "saved_model")) == ["1", "2"]
  assert sorted(os.listdir(tmp_path / "saved_model" / "1")) == first


def test_a_memory_size_that_does_not_match_the_task_is_refused(tmp_path):
  with pytest.raises(ValueError, match="M = 10"):
    resolve(TrainingConfig(task="access", model_dir=str(tmp_path),
                           memory_size=12))


@pytest.mark.parametrize("method", ["search", "guided"])
def test_a_searching_method_without_search_steps_is_refused(tmp_path, method):
  with pytest.raises(ValueError, match=f"method {method} searches programs"):
    resolve(TrainingConfig(task="access", model_dir=str(tmp_path),
                           method=method))


def test_a_run_records_what_its_method_leaves_out(tmp_path):
  config = TrainingConfig(task="access", model_dir=str(tmp_path),
                          train_steps=300, program_search_steps=500)
  searched = resolve(dataclasses.replace(config, method="search"))
  assert (searched.train_steps, searched.program_search_steps) == (0, 500)
  trained = resolve(dataclasses.replace(config, method="gradient"))
  assert (trained.train_steps, trained.program_search_steps) == (300, 0)
  assert resolve(config).train_steps == 300


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built")
def test_the_training_step_runs_the_fused_op_unless_told_otherwise(
    tmp_path, monkeypatch):
  monkeypatch.delenv(fused.ENV_VAR, raising=False)
  config = TrainingConfig(task="access", model_dir=str(tmp_path))
  # The fused op has no XLA kernel: by default the step is not XLA-compiled.
  assert resolve(config).jit_compile is False
  assert resolve(dataclasses.replace(config, jit_compile=True)).jit_compile
  monkeypatch.setenv(fused.ENV_VAR, "tf")
  assert resolve(config).jit_compile is True  # the plain-TF machine: XLA


@pytest.mark.parametrize("args, words", [
    (["--bogus=1"], ["bogus"]),
    (["--program=missing.anc"], ["missing.anc"]),
    (["--task=access", "--memory_size=12"], ["memory size 12", "M = 10"]),
    (["--task=access", "--program=programs/sort.anc"], ["sort.anc:", "M = 10"]),
    (["--task=nothing"], ["unknown task"]),
    (["--task=access", "--program_search_steps=-1"],
     ["program_search_steps"]),
])
def test_bad_training_input_is_a_one_line_error(tmp_path, args, words):
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.train", f"--model_dir={tmp_path}", *args],
      capture_output=True, text=True, cwd=REPO, timeout=300)
  assert result.returncode == 2, result.stderr
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1, result.stderr
  for word in words:
    assert word in lines[0]


def test_an_unknown_flag_in_a_flagfile_is_a_one_line_error(tmp_path):
  flagfile = tmp_path / "bad.flags"
  flagfile.write_text("--task=access\n--no_such_flag=3\n")
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.train", f"--flagfile={flagfile}"],
      capture_output=True, text=True, cwd=REPO, timeout=300)
  assert result.returncode == 2
  assert "no_such_flag" in result.stderr.strip()
  assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("settings,field", [
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"loss_weights": LossWeights(efficiency=float("inf"))},
     "loss_weights.efficiency"),
])
def test_a_config_with_a_non_finite_number_is_refused(tmp_path, settings,
                                                      field):
  with pytest.raises(ValueError, match=f"{field} must be a finite number"):
    resolve(TrainingConfig(task="access", model_dir=str(tmp_path),
                           **settings))


def test_a_restart_that_diverges_is_reported_and_left_out(tmp_path, data_dir):
  lines = []
  trainer = Trainer(access_config(tmp_path, data_dir, restarts=3,
                                  train_steps=4, log_every=2,
                                  export_all_restarts=True),
                    log=lines.append)
  logits = trainer.machine.controller.instruction_logits

  def poison_restart_1_at_step_1(batches=trainer.batches):
    for step, batch in enumerate(batches(0)):
      if step == 1:
        logits[1, 0, 0].assign(float("nan"))
      yield batch

  trainer.batches = lambda start: poison_restart_1_at_step_1()
  trainer.train()
  assert trainer.diverged_restarts() == [1]
  assert any("restart 1 diverged" in line and "by step 2" in line
             for line in lines)
  # The other restarts trained on: no NaN reached them.
  assert np.all(np.isfinite(logits.numpy()[[0, 2]]))
  report = trainer.evaluate()
  trainer.export(report)
  assert report["diverged_restarts"] == [1]
  diverged = report["restarts"][1]
  assert diverged["diverged"] and not diverged["success"]
  assert diverged["program"] is None
  assert report["best_restart"] != 1 and report["exported_restart"] != 1
  assert not (tmp_path / "saved_models" / "restart_1").exists()
  assert (tmp_path / "saved_models" / "restart_2").exists() or (
      report["exported_restart"] == 2)
