"""The audit's switches and the population search (docs/reproduction.md)."""

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import lang
from tf_anc import tasks
from tf_anc.lang.compiler import compile_program
from tf_anc.machine.controller import Controller
from tf_anc.machine.step import Command, MachineState, machine_step
from tf_anc.training import initialization
from tf_anc.common.population import Population, ranking
from tf_anc.training.priors import Prior
from tf_anc.training.trainer import Trainer, resolve
from tests.test_training import access_config
from tests.variables import assert_restores_every_variable
from tests.variables import assert_same_variables

LINE_FIELDS = ("instruction_logits", "first_argument_logits",
               "second_argument_logits", "output_logits")


@pytest.fixture(scope="module", name="data_dir")
def _data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(name="access")
def _access():
  return lang.load_program(str(tasks.program_path("access")), 10)


def test_stop_padding_without_noise_starts_from_the_compiled_program(access):
  compiled = compile_program(access, 2.0)
  start = initialization.initial_weights(compiled, len(access.operations),
                                         restart=3, seed=0)
  for name in LINE_FIELDS + ("initial_register_logits", "initial_ir_logits"):
    np.testing.assert_array_equal(getattr(start, name),
                                  getattr(compiled, name))


def test_random_padding_replaces_only_the_rows_past_the_program(access):
  compiled = compile_program(access, 2.0)
  length = len(access.operations)
  starts = [initialization.initial_weights(compiled, length, restart, 0,
                                           padding="random")
            for restart in (0, 1)]
  bound = 1 / np.sqrt(10)
  for name in LINE_FIELDS:
    value = getattr(starts[0], name)
    np.testing.assert_array_equal(value[:length],
                                  getattr(compiled, name)[:length])
    assert np.all(np.abs(value[length:]) < bound)
    assert not np.array_equal(value[length:],
                              getattr(starts[1], name)[length:])


def controller_holding(weights, num_restarts=1):
  controller = Controller(10, weights.register_names, num_restarts)
  controller.set_controller_weights(weights)
  return controller


def test_infinity_prior_pushes_chosen_logits_up_and_others_down(access):
  compiled = compile_program(access, 2.0)
  prior = Prior("infinity", access, weight=3.0, annealing=0.5)
  controller = controller_holding(compiled)
  with tf.GradientTape() as tape:
    value = prior(controller, update=2)
  gradient = tape.gradient(value, controller.instruction_logits)[0].numpy()
  weight = 3.0 / (1 + 0.5 * 2)
  length = len(access.operations)
  chosen = np.argmax(compiled.instruction_logits[:length], axis=-1)
  expected = np.full((length, gradient.shape[-1]), weight, np.float32)
  expected[np.arange(length), chosen] = -weight
  np.testing.assert_allclose(gradient[:length], expected)
  np.testing.assert_array_equal(gradient[length:], 0.0)  # past the end


def test_softmax_prior_vanishes_at_the_compiled_program(access):
  prior = Prior("softmax", access, weight=1.0, annealing=0.0)
  exact = float(prior(controller_holding(compile_program(access, 100.0)),
                      1)[0])
  soft = float(prior(controller_holding(compile_program(access, 2.0)),
                     1)[0])
  assert exact < 1e-6 < soft


def test_softmax_prior_gradient_matches_finite_differences(access):
  prior = Prior("softmax", access, weight=1.0, annealing=0.0)
  controller = controller_holding(compile_program(access, 2.0))
  variable = controller.first_argument_logits
  with tf.GradientTape() as tape:
    value = prior(controller, 1)[0]
  gradient = tape.gradient(value, variable).numpy()
  base = variable.numpy()
  for index in [(0, 0, 0), (0, 1, 2), (0, 3, 1)]:
    epsilon = 1e-2
    for sign in (1, -1):
      shifted = base.copy()
      shifted[index] += sign * epsilon
      variable.assign(shifted)
      if sign == 1:
        above = float(prior(controller, 1)[0])
      else:
        below = float(prior(controller, 1)[0])
    variable.assign(base)
    np.testing.assert_allclose(gradient[index],
                               (above - below) / (2 * epsilon), atol=1e-3)


def test_the_ranking_puts_accuracy_first_then_steps_then_loss():
  order = ranking(accuracies=[0.5, 1.0, 1.0, 0.9, 1.0],
                  mean_steps=[3.0, 9.0, 9.0, 2.0, 5.0],
                  losses=[0.1, 3.0, 2.0, 0.0, 4.0])
  np.testing.assert_array_equal(order, [4, 2, 1, 3, 0])


def test_the_weakest_restarts_copy_the_strongest():
  population = Population(8, fraction=0.25, noise=0.0, seed=0)
  accuracies = [1.0, 0.2, 1.0, 1.0, 0.1, 1.0, 1.0, 1.0]
  steps = [5.0] * 8
  losses = [5.0, 1.0, 0.5, 4.0, 1.0, 0.1, 3.0, 2.0]
  replacements = population.replacements(accuracies, steps, losses, step=100)
  assert sorted(loser for loser, _ in replacements) == [1, 4]
  assert {source for _, source in replacements} <= {5, 2}
  assert replacements == population.replacements(accuracies, steps, losses,
                                                  100)


def test_a_single_restart_has_nobody_to_copy():
  population = Population(1, fraction=0.5, noise=0.0, seed=0)
  assert population.replacements([1.0], [3.0], [0.0], step=1) == []


def test_a_copy_takes_the_logits_optimizer_state_and_scales():
  population = Population(2, fraction=0.5, noise=0.0, seed=0)
  logits = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
  moments = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3) * 10)
  population.learning_rate_scale.assign([2.0, 1.0])
  population.exploit_and_explore([(1, 0)], [logits], [moments], step=5)
  np.testing.assert_array_equal(logits[1], logits[0])
  np.testing.assert_array_equal(moments[1], moments[0])
  assert float(population.learning_rate_scale[1]) in (2.0 * 0.8, 2.0 * 1.25)
  assert float(population.efficiency_scale[1]) in (0.8, 1.25)


def test_explore_perturbs_the_copied_logits():
  population = Population(2, fraction=0.5, noise=0.5, seed=0)
  logits = tf.Variable(np.zeros([2, 3], np.float32))
  population.exploit_and_explore([(1, 0)], [logits], [], step=5)
  assert np.all(logits[0].numpy() == 0.0)
  assert 0.0 < np.std(logits[1].numpy())


def test_a_mutation_draws_some_choices_of_a_copy_afresh():
  population = Population(2, fraction=0.5, noise=0.0, seed=0,
                          hyperparameters=False, mutation=0.5)
  source = np.full([40, 3], 100.0, np.float32)  # 40 choices, all decided
  logits = tf.Variable(np.stack([source, np.zeros_like(source)]))
  population.exploit_and_explore([(1, 0)], [logits], [], step=5)
  redrawn = np.any(logits[1].numpy() != 100.0, axis=-1)
  assert 5 < redrawn.sum() < 35
  assert np.all(np.abs(logits[1].numpy()[redrawn]) < 10.0)
  assert population.scales == ()


def test_a_zero_learning_rate_scale_freezes_that_restart(tmp_path, data_dir):
  trainer = Trainer(access_config(tmp_path, data_dir, population=True,
                                  population_interval=1000, optimizer="sgd",
                                  learning_rate=1.0),
                    log=lambda line: None)
  trainer.population.learning_rate_scale.assign([1.0, 0.0])
  before = [variable.numpy() for variable in
            trainer.machine.trainable_variables]
  trainer.train()
  for start, variable in zip(before, trainer.machine.trainable_variables):
    np.testing.assert_array_equal(variable.numpy()[1], start[1])
  assert not np.array_equal(
      trainer.machine.controller.instruction_logits.numpy()[0], before[0][0])


def test_summed_batch_loss_is_the_mean_times_the_batch(tmp_path, data_dir):
  losses = {}
  for reduction in ("mean", "sum"):
    trainer = Trainer(access_config(tmp_path / reduction, data_dir,
                                    batch_loss=reduction, batch_size=4),
                      log=lambda line: None)
    batch = next(iter(trainer.batches(0)))
    losses[reduction] = trainer.model.restart_losses(
        batch["input"], batch["target"], batch["mask"])[0].numpy()
  np.testing.assert_allclose(losses["sum"], 4 * losses["mean"], rtol=1e-5)


def run_resumed_after_three_steps(tmp_path, data_dir, **overrides):
  """The run `overrides` make, stopped after 3 steps, then resumed from its
  checkpoint (which restores every variable) to the end."""
  interrupted = Trainer(access_config(tmp_path / "split", data_dir,
                                      train_steps=3, **overrides),
                        log=lambda line: None)
  interrupted.train()
  resumed = Trainer(access_config(tmp_path / "split", data_dir, **overrides),
                    log=lambda line: None)
  assert_restores_every_variable(interrupted, resumed)
  resumed.train()
  return resumed


def test_a_resumed_population_run_ends_as_an_uninterrupted_one(
    tmp_path, data_dir):
  overrides = dict(population=True, population_interval=2,
                   population_fraction=0.5, restarts=4, init_noise=0.5)
  straight = Trainer(access_config(tmp_path / "straight", data_dir,
                                   **overrides), log=lambda line: None)
  logs = []
  straight.log = logs.append
  straight.train()
  assert any("population" in line for line in logs)
  assert_same_variables(straight, run_resumed_after_three_steps(
      tmp_path, data_dir, **overrides), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("field, value", [
    ("padding", "zeros"), ("prior", "gaussian"), ("batch_loss", "max"),
    ("optimizer", "lbfgs"), ("population_fraction", 0.75),
    ("population_interval", 0), ("train_examples", 0),
    ("gumbel_temperature", 0.0)])
def test_a_bad_switch_is_refused_naming_it(tmp_path, field, value):
  with pytest.raises(ValueError, match=field):
    resolve(access_config(tmp_path, None, **{field: value}))


@pytest.mark.parametrize("halting_gradient, through_previous", [
    ("exact", 1.0 - 0.25), ("authors", 1.0)])
def test_the_authors_halting_gradient_passes_p_unscaled(halting_gradient,
                                                        through_previous):
  previous = tf.Variable([0.4])
  instruction = np.zeros([1, 11], np.float32)
  instruction[0, 0] = 0.25  # STOP
  instruction[0, 1] = 0.75  # ZERO
  instruction = tf.Variable(instruction)
  uniform = tf.fill([1, 3], 1 / 3)
  state = MachineState(memory=tf.eye(4)[None],
                       registers=tf.fill([1, 3, 4], 0.25),
                       instruction_register=tf.one_hot([0], 4),
                       halting_probability=previous)
  with tf.GradientTape() as tape:
    stepped = machine_step(state, Command(instruction, uniform, uniform,
                                          uniform), halting_gradient)
  np.testing.assert_allclose(stepped.halting_probability, [0.4 + 0.6 * 0.25])
  by_previous, by_instruction = tape.gradient(
      stepped.halting_probability, [previous, instruction])
  np.testing.assert_allclose(by_previous, [through_previous])
  np.testing.assert_allclose(by_instruction[0, 0], 1.0 - 0.4)


def test_a_gumbel_run_trains_on_the_sample_its_seed_and_step_draw(
    tmp_path, data_dir):
  trainer = Trainer(access_config(tmp_path, data_dir, gumbel_temperature=1.0,
                                  init_noise=0.5), log=lambda line: None)
  batch = next(iter(trainer.batches(0)))
  arguments = (batch["input"], batch["target"], batch["mask"])
  def loss(**relaxation):
    return trainer.model.restart_losses(
        *arguments, relaxation=relaxation)[0].numpy()
  drawn = loss(gumbel_temperature=1.0, seed=[trainer.config.seed, 0])
  trained, _, _ = trainer._train_step(*arguments)  # pylint: disable=protected-access
  np.testing.assert_allclose(trained.numpy(), drawn.mean(), rtol=1e-5)
  assert not np.allclose(drawn, loss())
  assert not np.allclose(drawn, loss(gumbel_temperature=1.0,
                                     seed=[trainer.config.seed, 1]))


def test_a_resumed_gumbel_run_ends_as_an_uninterrupted_one(tmp_path,
                                                           data_dir):
  overrides = dict(gumbel_temperature=0.5, init_noise=0.5)
  straight = Trainer(access_config(tmp_path / "straight", data_dir,
                                   **overrides), log=lambda line: None)
  straight.train()
  assert_same_variables(straight, run_resumed_after_three_steps(
      tmp_path, data_dir, **overrides), rtol=1e-4, atol=1e-5)
