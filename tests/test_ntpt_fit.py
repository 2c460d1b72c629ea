"""NTPT through stock Keras: `NeuralProgram.compile` and `fit`."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import ntpt_keras
from ntpt_keras import evaluation
from ntpt_keras import training
from ntpt_keras.config import NtptConfig
from ntpt_keras.model import NeuralProgram
from tests.test_cli import REPO

MODELS = "ntpt_keras/models"
DATA = f"{MODELS}/instances"
TURING = f"{MODELS}/turing.py"
INVERT_HYPERS = f"{DATA}/turing_invert_hypers.json"
INVERT_DATA = f"{DATA}/turing_invert_data.json"
# The Turing machine that inverts a tape (TerpreT's solution: in state 1,
# write the other bit and move right; halt on the blank).
INVERT = {"write": [[1, 0, 2], [1, 0, 2]], "dir": [[1, 1, 2], [1, 1, 1]],
          "newState": [[0, 0, 0], [1, 1, 0]]}


def _turing(restarts, seed=0):
  model = ntpt_keras.NeuralProgram.from_file(TURING, hypers=INVERT_HYPERS,
                                             restarts=restarts, seed=seed)
  return model, ntpt_keras.read_terpret(model.program, INVERT_DATA, "train")


def test_fit_takes_the_steps_the_command_line_trainer_takes(tmp_path):
  # The CLI's batch is the 5 training instances (its batch size is larger)
  # and its two Adams (params, networks) update as one would.
  config = NtptConfig(model_file=TURING, hypers_file=INVERT_HYPERS,
                      data_file=INVERT_DATA, restarts=3, train_steps=10,
                      model_dir=str(tmp_path))
  trainer = training.Trainer(config, log=lambda _: None)
  trainer.train()
  model, train = _turing(restarts=3)
  model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
  model.fit(train.dataset().batch(5).repeat(), epochs=1, steps_per_epoch=10,
            verbose=0)
  for name, logits in trainer.model.param_logits.items():
    np.testing.assert_allclose(model.param_logits[name].numpy(),
                               logits.numpy(), rtol=1e-5, atol=1e-5)


# 18 s: out of the default run (pytest -m slow), which keeps the budget;
# there the test above holds fit to the command line's steps, and the
# command line's Turing-invert run is solved in tests/test_ntpt_training.py.
@pytest.mark.slow
def test_fit_solves_the_turing_invert_task_the_command_line_solves(tmp_path):
  model, train = _turing(restarts=4)
  model.compile(optimizer=keras.optimizers.Adam(0.1))
  history = model.fit(
      train.dataset().batch(5).repeat(), epochs=2, steps_per_epoch=60,
      verbose=0, callbacks=[keras.callbacks.TensorBoard(str(tmp_path))])
  results = model.restart_results(train)
  best = ntpt_keras.best_restart(results)
  assert results[best]["solved"]
  params = model.discrete_params(best)
  assert [params["write"][1][0], params["write"][1][1]] == [1, 0]
  assert history.history["best_accuracy"][-1] == 1.0
  assert os.listdir(tmp_path / "train")  # TensorBoard's event file


def test_evaluate_scores_the_best_restart_and_the_mean_of_all():
  model, train = _turing(restarts=2)
  model.set_params(INVERT, restart=1)
  model.compile()
  scores = model.evaluate(train.dataset().batch(5), verbose=0,
                          return_dict=True)
  per_restart = model.restart_losses(train)
  assert scores["best_accuracy"] == 1.0
  np.testing.assert_allclose(scores["best_loss"], per_restart[1], atol=1e-6)
  np.testing.assert_allclose(scores["loss"], np.mean(per_restart),
                             rtol=1e-5)


def test_the_accuracy_metric_is_the_python_runners_judgement():
  model, train = _turing(restarts=6, seed=3)
  model.set_params(INVERT, restart=0)
  batched = model.reproduced(train.inputs, train.outputs).numpy()
  for restart in range(model.restarts):
    np.testing.assert_array_equal(
        batched[restart], evaluation.reproduced(model, restart, train))
  assert batched[0].all() and not batched.all()


def test_get_config_makes_the_same_model_from_the_model_file_text():
  model, train = _turing(restarts=2, seed=5)
  again = NeuralProgram.from_config(model.get_config())
  assert again.get_config() == model.get_config()
  for name, marginal in model(train.inputs).items():
    np.testing.assert_allclose(again(train.inputs)[name].numpy(),
                               marginal.numpy())


def test_the_public_names_load_tensorflow_only_when_used():
  code = ("import sys, ntpt_keras; assert 'tensorflow' not in sys.modules; "
          "ntpt_keras.read_terpret; assert 'tensorflow' in sys.modules")
  subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
