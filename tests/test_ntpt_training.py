"""Training NTPT models: solving, results.json, resuming, the library."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import plugin_data_pb2

from ntpt_keras import summaries
from ntpt_keras import training
from ntpt_keras.config import Curriculum, NtptConfig
from ntpt_keras.lang import compiler
from ntpt_keras.lang import listing
from ntpt_keras.library import NeuralLibrary
from ntpt_keras.model import NeuralProgram
from tests.events import summaries_of
from tests.variables import assert_same_variables
from tests.variables import assert_restores_every_variable

MODELS = "ntpt_keras/models"
DATA = f"{MODELS}/instances"


def _turing_invert(model_dir, **overrides):
  return NtptConfig(model_file=f"{MODELS}/turing.py",
                    hypers_file=f"{DATA}/turing_invert_hypers.json",
                    data_file=f"{DATA}/turing_invert_data.json",
                    model_dir=str(model_dir), **overrides)


@pytest.fixture(scope="module", name="invert_run")
def _invert_run(tmp_path_factory):
  """Turing invert trained and evaluated: (its trainer, the report)."""
  trainer = training.Trainer(_turing_invert(
      tmp_path_factory.mktemp("invert"), restarts=6, train_steps=300),
      log=lambda _: None)
  trainer.train()
  return trainer, trainer.evaluate()


def test_turing_invert_is_solved_and_reported(invert_run):
  trainer, report = invert_run
  assert report["solved_restarts"] >= 1
  assert report["test_accuracy"] == 1.0
  with open(os.path.join(trainer.config.model_dir, "results.json")) as f:
    written = json.load(f)
  assert {"restarts", "solved_restarts", "test_accuracy", "program",
          "params"} <= set(written)
  assert written["restarts"] == 6
  # Invert: in state 1, write the other bit and move right; halt on blank.
  params = written["params"]
  assert [params["write"][1][0], params["write"][1][1]] == [1, 0]
  assert "write = " in written["program"]


def test_every_ntpt_run_writes_hparams(invert_run):
  trainer, report = invert_run
  found = summaries_of(trainer.config.model_dir)
  (_, start), = found["_hparams_/session_start_info"]
  hparams = plugin_data_pb2.HParamsPluginData.FromString(
      start.metadata.plugin_data.content).session_start_info.hparams
  assert hparams["restarts"].number_value == 6
  assert hparams["model_file"].string_value.endswith("turing.py")
  (_, accuracy), = found["hparams/test_accuracy"]
  assert tf.make_ndarray(accuracy.tensor) == report["test_accuracy"]
  assert "hparams/solved_rate" in found


def test_an_ntpt_run_draws_its_params_at_every_summary_interval(invert_run):
  trainer, _ = invert_run  # 300 steps, a summary every 250, 4 drawn
  found = summaries_of(trainer.config.model_dir)
  for restart in range(4):
    assert [step for step, _ in found[f"restart_{restart}/params"]] == [
        250, 300]
  assert "restart_4/params" not in found


def test_param_heatmaps_have_a_row_per_cell_and_a_column_per_value(
    invert_run):
  trainer, _ = invert_run
  write, _, new_state = summaries.param_panels(trainer.model, 1)
  assert (write.title, new_state.title) == ("write", "newState")
  assert write.row_labels[:2] == ["write[0,0]", "write[0,1]"]
  assert list(write.column_labels) == ["0", "1", "2"]
  assert new_state.probabilities.shape == (6, 2)


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
  first = training.Trainer(_turing_invert(tmp_path, restarts=2,
                                          train_steps=40,
                                          checkpoint_every=20),
                           log=lambda _: None)
  first.train()
  logits = first.model.param_logits["write"].numpy()
  messages = []
  resumed = training.Trainer(_turing_invert(tmp_path, restarts=2,
                                            train_steps=60),
                             log=messages.append)
  assert resumed.restore() == 40
  np.testing.assert_array_equal(resumed.model.param_logits["write"].numpy(),
                                logits)
  assert any("resumed from" in m for m in messages)


_USES_NET = """\
images = InputTensor(4, 4)[2]
choice = Param(2)
answer = Output(3)

@Learn([Tensor(4, 4)], 3, hid_sizes=[8])
def net(image):
    pass

with choice as i:
    answer.set_to(net(images[i]))
"""


def _net_model(tmp_path, name, restarts):
  path = tmp_path / f"{name}.py"
  path.write_text(_USES_NET)
  return NeuralProgram(compiler.compile_model(str(path)), restarts=restarts,
                       seed=len(name))


def _net_run(tmp_path, run, **overrides):
  """`_USES_NET`, a program calling the network `net`, on random images."""
  model_file, data_file = tmp_path / "uses_net.py", tmp_path / "data.json"
  model_file.write_text(_USES_NET)
  rng = np.random.default_rng(0)
  instances = [{"images": rng.random((2, 4, 4)).round(3).tolist(),
                "answer": int(rng.integers(3))} for _ in range(16)]
  data_file.write_text(json.dumps([{"batch_name": "train",
                                    "instances": instances}]))
  return NtptConfig(model_file=str(model_file), data_file=str(data_file),
                    model_dir=str(tmp_path / run), restarts=2, batch_size=4,
                    neural_learning_rate=1e-3, **overrides)


def test_a_resumed_run_ends_with_every_variable_networks_included(tmp_path):
  straight = training.Trainer(_net_run(tmp_path, "straight", train_steps=6),
                              log=lambda _: None)
  straight.train()
  interrupted = training.Trainer(_net_run(tmp_path, "split", train_steps=3),
                                 log=lambda _: None)
  interrupted.train()
  resumed = training.Trainer(_net_run(tmp_path, "split", train_steps=6),
                             log=lambda _: None)
  assert_restores_every_variable(interrupted, resumed)
  resumed.train()
  assert resumed.model.networks["net"][0].variables
  assert_same_variables(straight, resumed)


def test_the_library_shares_a_network_between_models(tmp_path):
  library = NeuralLibrary(str(tmp_path / "library"))
  first = _net_model(tmp_path, "first", restarts=2)
  library.save(first, restart=1)
  second = _net_model(tmp_path, "second_model", restarts=3)
  assert library.bind(second) == ["net"]
  for network in second.networks["net"]:
    for mine, theirs in zip(network.get_weights(),
                            first.networks["net"][1].get_weights()):
      np.testing.assert_array_equal(mine, theirs)


def test_the_library_refuses_a_function_with_another_signature(tmp_path):
  library = NeuralLibrary(str(tmp_path / "library"))
  library.save(_net_model(tmp_path, "first", restarts=1), restart=0)
  path = tmp_path / "other.py"
  path.write_text(_USES_NET.replace("hid_sizes=[8]", "hid_sizes=[16]"))
  other = NeuralProgram(compiler.compile_model(str(path)))
  try:
    library.bind(other)
  except ValueError as error:
    assert "library function net" in str(error)
  else:
    raise AssertionError("bound a network of another shape")


def test_the_maze_solution_lists_like_figure_1():
  program = compiler.compile_model(f"{MODELS}/maze.py")
  text = listing.listing(program, {"instr": [3, 2, 0], "goto": [1, 2, 0]},
                         {"instr": [1.0, 0.99, 0.98], "goto": [1.0] * 3})
  assert "instr = [3, 2, 0]  # p = [1.0, 0.99, 0.98]" in text
  blocks = text.split("if instr_ptr[t] == ")[1:]
  assert [b.split(":")[0] for b in blocks] == ["0", "1", "2"]
  assert "LOOK(img_grid[y, x])" in blocks[0]
  assert "instr_ptr[t + 1].set_to(1)" in blocks[0]
  assert "MOVE_X(X[t], dir[t])" in blocks[1]
  assert "INC(reg[t])" in blocks[2] and "set_to(0)" in blocks[2]
  assert "DEC" not in text


def _maze(tmp_path, run, **overrides):
  """The maze (a program calling the network LOOK) on a few sign grids."""
  values = dict(model_file=f"{MODELS}/maze.py",
                dataset="sign_grids/maze_5x3_small",
                data_dir=str(tmp_path / "data"), train_examples=16,
                test_examples=8, tensor_labels=(("img_grid", "signs"),),
                restarts=2, train_steps=2, batch_size=4,
                neural_learning_rate=1e-3, model_dir=str(tmp_path / run))
  return NtptConfig(**{**values, **overrides})


# 30 s: out of the default run (pytest -m slow). The default run trains from
# a tfds dataset in tests/test_ntpt_cli.py (grids2x2) and generates the
# sign grids in tests/test_sign_grids_dataset.py.
@pytest.mark.slow
def test_the_maze_trains_from_the_sign_grid_dataset(tmp_path):
  trainer = training.Trainer(_maze(tmp_path, "run"), log=lambda _: None)
  trainer.train()
  report = trainer.evaluate()
  assert report["train_examples"] == 16 and report["test_examples"] == 8
  assert 0.0 <= report["network_test_accuracy"]["LOOK/img_grid"] <= 1.0
  assert os.path.exists(tmp_path / "run" / "results.json")


def _add2x2_ints(model_dir, **overrides):
  return NtptConfig(model_file=f"{MODELS}/add2x2_ints.py",
                    data_file=f"{DATA}/add2x2_ints_data.json",
                    train_batch="top_train", test_batch="top_test",
                    model_dir=str(model_dir), restarts=1, batch_size=8,
                    **overrides)


def test_a_curriculum_stage_draws_only_instances_up_to_its_value(tmp_path):
  trainer = training.Trainer(_add2x2_ints(
      tmp_path, curriculum=Curriculum("answer", (2, 5)), curriculum_steps=10),
                             log=lambda _: None)
  answers = trainer.train_data.outputs["answer"]
  drawn = [outputs["answer"].numpy()
           for _, outputs in trainer.batches(0).take(60)]
  for step, most in ((0, 2), (9, 2), (10, 5), (19, 5)):
    assert np.all(drawn[step] <= most)
  later = np.concatenate(drawn[20:])
  assert later.max() > 5 and answers.max() == later.max()


def test_without_a_curriculum_batches_draw_from_every_instance(tmp_path):
  trainer = training.Trainer(_add2x2_ints(tmp_path), log=lambda _: None)
  drawn = np.concatenate([outputs["answer"].numpy()
                          for _, outputs in trainer.batches(0).take(40)])
  assert drawn.max() > 5
