"""`AncModel`: the restarts as a keras.Model that stock `fit` trains."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_cli import REPO
from tests.test_training import access_config
from tf_anc import tasks
from tf_anc.training.model import AncModel
from tf_anc.training.trainer import Trainer

MULTIPLY = os.path.join(REPO, "docs", "examples", "multiply.anc")
DOUBLES = [[a, 2, 0, 0, 0, 0, 0, 0, 0, 0] for a in range(10)] * 3


@pytest.fixture(scope="module", name="task")
def _task():
  return tasks.Task.from_inputs(MULTIPLY, DOUBLES)


def _fit(model, task, epochs, callbacks=(), steps=4):
  model.compile(optimizer=keras.optimizers.Adam(0.1), steps_per_execution=2)
  return model.fit(task.dataset("train").repeat().batch(3), epochs=epochs,
                   steps_per_epoch=steps, verbose=0, callbacks=list(callbacks))


def test_fit_trains_every_restart_and_reports_accuracy_and_steps(task):
  model = AncModel(task, restarts=3, seed=1)
  before = model.machine.controller.instruction_logits.numpy()
  history = _fit(model, task, epochs=2)
  assert set(history.history) == {"loss", "accuracy", "steps"}
  after = model.machine.controller.instruction_logits.numpy()
  assert all(not np.array_equal(before[k], after[k]) for k in range(3))


def test_a_fit_step_is_the_command_line_trainers_step(tmp_path):
  trainer = Trainer(access_config(tmp_path / "run", str(tmp_path / "tfds"),
                                  train_steps=3), log=lambda line: None)
  model = AncModel(trainer.program, trainer.config.max_steps,
                   restarts=2, sharpness=3.0,
                   loss_weights=trainer.config.loss_weights)
  batches = list(trainer.batches(0))
  trainer.train()
  model.compile(optimizer=keras.optimizers.Adam(0.1))
  dataset = tf.data.Dataset.from_tensor_slices(
      {name: tf.stack([batch[name] for batch in batches])
       for name in ("input", "target", "mask")})
  model.fit(dataset, epochs=1, verbose=0)
  for ours, theirs in zip(model.machine.trainable_variables,
                          trainer.machine.trainable_variables):
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_tensorboard_callback_writes_the_metrics(task, tmp_path):
  _fit(AncModel(task, restarts=2), task, epochs=1,
       callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "logs"))])
  assert any(name.startswith("events.out") for _, _, names in
             os.walk(tmp_path / "logs") for name in names)


class _Interrupt(keras.callbacks.Callback):
  """Stops a fit after an epoch, as a kill would, keeping the weights."""

  def __init__(self, epoch):
    super().__init__()
    self.epoch = epoch
    self.weights = None

  def on_epoch_end(self, epoch, logs=None):
    if epoch == self.epoch:
      self.weights = [v.numpy() for v in self.model.trainable_variables]
      raise RuntimeError("interrupted")


class _StartingWeights(keras.callbacks.Callback):

  def on_train_batch_begin(self, batch, logs=None):
    if not hasattr(self, "weights"):
      self.weights = [v.numpy() for v in self.model.trainable_variables]


def test_backup_and_restore_resumes_a_killed_fit_where_it_stopped(task,
                                                                  tmp_path):
  backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
  interrupt = _Interrupt(epoch=1)
  with pytest.raises(RuntimeError, match="interrupted"):
    _fit(AncModel(task, restarts=2), task, epochs=4,
         callbacks=[backup, interrupt])
  resumed, starting = AncModel(task, restarts=2), _StartingWeights()
  history = _fit(resumed, task, epochs=4, callbacks=[
      keras.callbacks.BackupAndRestore(str(tmp_path / "backup")), starting])
  assert len(history.history["loss"]) == 2  # epochs 3 and 4
  for saved, restored in zip(interrupt.weights, starting.weights):
    np.testing.assert_array_equal(saved, restored)


def test_restart_results_judge_each_restart_on_the_test_split(task):
  model = AncModel(task, restarts=2, sharpness=20.0, init_noise=0.0)
  results = model.restart_results(task)
  assert [r["restart"] for r in results] == [0, 1]
  # The compiled program itself: right, at its own speed, so no success.
  assert all(r["accuracy"] == 1.0 and not r["success"] for r in results)
  assert results[0]["interpretability"] == 1


def test_the_exported_restart_serves_the_program(task, tmp_path):
  model = AncModel(task, restarts=1, sharpness=20.0, init_noise=0.0)
  served = tf.saved_model.load(model.export(tmp_path / "saved_model", 0))
  outputs = served.signatures["serving_default"](
      memory=tf.constant([[4, 2, 0, 0, 0, 0, 0, 0, 0, 0]]))
  assert outputs["memory"].numpy()[0, 2] == 8


def test_get_config_makes_the_same_model(task):
  model = AncModel(task, restarts=2, sharpness=6.0, seed=3)
  again = AncModel.from_config(model.get_config())
  assert again.settings == model.settings
  for ours, theirs in zip(model.machine.trainable_variables,
                          again.machine.trainable_variables):
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_sharpness_none_picks_the_soft_start_on_the_task(task):
  assert AncModel(task, restarts=1, sharpness=None).settings.sharpness == 7.0


def test_an_unknown_setting_is_refused():
  with pytest.raises(TypeError, match="unknown settings train_steps"):
    AncModel(tasks.Task.from_inputs(MULTIPLY, DOUBLES), train_steps=3)


def test_a_non_finite_setting_is_refused(task):
  with pytest.raises(ValueError, match="sharpness must be a finite number"):
    AncModel(task, sharpness=float("nan"))


@pytest.mark.parametrize("setting, words", [
    (dict(restarts=0), "restarts must be at least 1"),
    (dict(padding="zeros"), "unknown padding 'zeros'"),
    (dict(max_steps=0), "max_steps must be a whole number of steps"),
])
def test_a_setting_outside_its_bounds_is_refused(task, setting, words):
  with pytest.raises(ValueError, match=words):
    AncModel(task, **setting)
