"""The soft machine with compiled weights is the discrete machine (paper 5.1).

Plus the loop's contract: halting masks, T_max, traces, Keras config, and
the checks of what it is given.
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_anc import isa
from tf_anc import lang
from tf_anc import reference
from tf_anc import tasks
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine
from tf_anc.machine import fused
from tf_anc.machine.soft_machine import memory_at_halting
from tf_anc.weights import ControllerWeights
from tf_anc_datasets import anc_distributions

NUM_INPUTS = 200


def run_both(program, memories, max_steps):
  """(soft argmax memories, steps, halted), and the discrete executions."""
  machine = SoftMachine.from_weights(compile_program(program), max_steps)
  outputs = tf.function(machine)(np.asarray(memories, np.int32))
  soft = (np.argmax(outputs["memory"], axis=-1), outputs["steps"].numpy(),
          outputs["halted"].numpy())
  discrete = [reference.run(program, memory, max_steps) for memory in memories]
  return soft, discrete


def assert_same_executions(soft, discrete):
  memories, steps, halted = soft
  assert memories.tolist() == [execution.memory for execution in discrete]
  assert steps.tolist() == [execution.steps for execution in discrete]
  assert halted.tolist() == [execution.halted for execution in discrete]


@pytest.mark.parametrize("task_name", sorted(tasks.TASKS))
def test_compiled_program_runs_exactly_like_the_discrete_machine(task_name):
  task = tasks.TASKS[task_name]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  per_distribution = -(-NUM_INPUTS // len(task.distributions))
  memories = np.concatenate([
      anc_distributions.sample(task_name, distribution, per_distribution, seed=7)[0]
      for distribution in task.distributions])
  soft, discrete = run_both(program, memories, task.max_steps)
  assert_same_executions(soft, discrete)


@pytest.mark.parametrize("task_name", ["listk", "sort", "increment"])
def test_compiled_program_matches_on_arbitrary_memories(task_name):
  # Random memories make the programs wander, loop and run out of steps.
  task = tasks.TASKS[task_name]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  memories = np.random.default_rng(3).integers(
      0, task.memory_size, size=[NUM_INPUTS, task.memory_size])
  soft, discrete = run_both(program, memories, task.max_steps)
  assert_same_executions(soft, discrete)
  assert not all(execution.halted for execution in discrete)


COUNTDOWN = "var n = READ(0); loop: n = DEC(n); JEZ(n, end); JEZ(0, loop); end: STOP();"


def countdown_machine(max_steps=30, **kwargs):
  program = lang.parse_program(COUNTDOWN, 10)
  return SoftMachine.from_weights(compile_program(program), max_steps,
                                  **kwargs)


def test_halted_examples_stay_frozen_while_others_run():
  outputs = countdown_machine()(np.array([[1] + [0] * 9, [5] + [0] * 9]))
  # n = 1: READ, DEC, JEZ, STOP; each further count adds DEC, JEZ, JEZ.
  assert outputs["steps"].numpy().tolist() == [4, 16]
  halting = outputs["halting_probabilities"].numpy()
  assert halting[0, 3] == 1.0 and (halting[0, 3:] == 1.0).all()
  assert (halting[0, :3] < 0.9).all()
  running = outputs["running"].numpy()
  assert running.sum(axis=1).tolist() == [4, 16]


def test_max_steps_stops_an_unfinished_example_unhalted():
  outputs = countdown_machine(max_steps=10)(np.array([[5] + [0] * 9]))
  assert outputs["steps"].numpy().tolist() == [10]
  assert outputs["halted"].numpy().tolist() == [False]


def test_memory_trace_records_the_memory_after_each_step():
  program = lang.parse_program("WRITE(1, 7); WRITE(2, 8); STOP();", 10)
  machine = SoftMachine.from_weights(compile_program(program), 5,
                                     trace_memory=True)
  trace = np.argmax(machine(np.zeros([1, 10], np.int32))["memory_trace"], -1)
  assert trace.shape == (1, 5, 10)
  assert trace[0, 0, :3].tolist() == [0, 7, 0]
  assert trace[0, 1, :3].tolist() == [0, 7, 8]
  assert (trace[0, 2:] == trace[0, 1]).all()


def test_a_call_may_trace_the_memory_of_an_untraced_machine():
  program = lang.parse_program("WRITE(1, 7); WRITE(2, 8); STOP();", 10)
  weights = compile_program(program)
  memory = np.zeros([1, 10], np.int32)
  traced = SoftMachine.from_weights(weights, 5, trace_memory=True)(memory)
  called = SoftMachine.from_weights(weights, 5)(memory, trace_memory=True)
  np.testing.assert_array_equal(called["memory_trace"],
                                traced["memory_trace"])


def test_a_sharp_program_outputs_its_final_memory_at_halting():
  program = lang.parse_program("WRITE(1, 7); WRITE(2, 8); STOP();", 10)
  machine = SoftMachine.from_weights(compile_program(program), 5)
  outputs = machine(np.zeros([1, 10], np.int32), trace_memory=True)
  np.testing.assert_allclose(memory_at_halting(outputs), outputs["memory"],
                             atol=1e-6)


@pytest.mark.parametrize("step_impl", ["tf", "fused"])
def test_the_memory_at_halting_is_what_the_machine_held_where_it_halted(
    step_impl):
  if step_impl == "fused" and not fused.fused_available():
    pytest.skip("the fused op library is not built")
  # Line 2 is STOP with probability 0.85 (else it rewrites cell 1): 85% of
  # the halting mass lands before cell 2 is written, below eta_stop, so
  # the machine runs on and its final memory holds the write.
  program = lang.parse_program(
      "WRITE(1, 7); WRITE(1, 7); WRITE(2, 8); STOP();", 10)
  weights = compile_program(program)
  logits = weights.instruction_logits
  logits[1] = np.log(np.full(logits.shape[1], 1e-9))
  logits[1, isa.STOP], logits[1, isa.WRITE] = np.log(0.85), np.log(0.15)
  machine = SoftMachine.from_weights(weights, 6, step_impl=step_impl)
  outputs = machine(np.zeros([1, 10], np.int32), trace_memory=True)
  assert np.argmax(outputs["memory"], -1)[0, :3].tolist() == [0, 7, 8]
  at_halting = memory_at_halting(outputs).numpy()
  np.testing.assert_allclose(at_halting[0, 2, [0, 8]], [0.85, 0.15],
                             atol=1e-5)
  assert np.argmax(at_halting, -1)[0, :3].tolist() == [0, 7, 0]


@pytest.mark.parametrize("step_impl", ["tf", "fused"])
def test_the_memory_at_halting_summed_in_the_run_is_the_traces_mixture(
    step_impl):
  if step_impl == "fused" and not fused.fused_available():
    pytest.skip("the fused op library is not built")
  # A soft ListK: its lists make the examples halt after different steps,
  # some only at T_max, and the restarts differ.
  weights = compile_program(lang.load_program("listk", 20), 10.0)
  machine = SoftMachine(20, weights.register_names, 24, num_restarts=2,
                        step_impl=step_impl)
  machine.controller.set_controller_weights(weights, 0)
  machine.controller.set_controller_weights(
      compile_program(lang.load_program("listk", 20), 5.0), 1)
  inputs, _, _ = anc_distributions.sample("listk", "unbiased", 37, seed=3)
  memory = np.stack([inputs, inputs[::-1]])
  traced = machine(memory, trace_memory=True)
  mixed = machine(memory, halting_mixture=True)
  assert len(np.unique(traced["steps"])) > 4
  assert 24 in traced["steps"].numpy()  # T_max: never halted
  assert "memory_trace" not in mixed
  np.testing.assert_allclose(mixed["memory_at_halting"],
                             memory_at_halting(traced), atol=1e-6)
  np.testing.assert_array_equal(memory_at_halting(mixed),
                                mixed["memory_at_halting"])


def test_memory_distributions_are_accepted_as_input():
  machine = countdown_machine()
  memory = np.array([[3] + [0] * 9])
  from_ints = machine(memory)
  from_distributions = machine(tf.one_hot(memory, 10))
  np.testing.assert_array_equal(from_ints["steps"], from_distributions["steps"])


def test_runs_under_xla():
  machine = countdown_machine()
  outputs = tf.function(machine, jit_compile=True)(np.array([[3] + [0] * 9]))
  assert outputs["steps"].numpy().tolist() == [10]


def test_layer_is_recreated_from_its_config_and_weights():
  machine = countdown_machine(eta_stop=0.8)
  clone = SoftMachine.from_config(machine.get_config())
  clone.build()
  clone.set_weights(machine.get_weights())
  memory = np.array([[4] + [0] * 9])
  np.testing.assert_array_equal(clone(memory)["memory"],
                                machine(memory)["memory"])
  assert clone.eta_stop == 0.8


def test_layer_round_trips_through_a_keras_file(tmp_path):
  inputs = keras.Input([10], dtype="int32")
  model = keras.Model(inputs, countdown_machine()(inputs)["steps"])
  path = str(tmp_path / "machine.keras")
  model.save(path)
  loaded = keras.models.load_model(path)
  assert loaded(np.array([[2] + [0] * 9])).numpy().tolist() == [7]


def random_weights(seed, memory_size=8, num_registers=3):
  rng = np.random.default_rng(seed)
  shapes = compile_program(lang.parse_program(
      "var a = 0; var b = 0; STOP();", memory_size)).shapes()
  return ControllerWeights(
      register_names=("a", "b", "scratch"),
      **{name: rng.normal(0.0, 3.0, shape).astype(np.float32)
         for name, shape in shapes.items()})


def test_each_restart_runs_its_own_controller_on_its_own_inputs():
  restarts = [random_weights(seed) for seed in range(3)]
  machine = SoftMachine(8, ("a", "b", "scratch"), 12, num_restarts=3)
  for index, weights in enumerate(restarts):
    machine.controller.set_controller_weights(weights, restart=index)
  memories = np.random.default_rng(0).integers(0, 8, [3, 4, 8])
  together = machine(memories)
  assert together["memory"].shape == (3, 4, 8, 8)
  for index, weights in enumerate(restarts):
    alone = SoftMachine.from_weights(weights, 12)(memories[index])
    for name, value in alone.items():
      np.testing.assert_allclose(together[name][index], value, atol=1e-6,
                                 err_msg=name)


def test_restarts_can_start_from_one_compiled_program():
  program = lang.parse_program(COUNTDOWN, 10)
  machine = SoftMachine.from_weights(compile_program(program), 30,
                                     num_restarts=2)
  memories = np.array([[[3] + [0] * 9], [[1] + [0] * 9]])
  assert machine(memories)["steps"].numpy().tolist() == [[10], [4]]


def test_a_gumbel_sample_of_the_program_is_fixed_by_its_seed():
  machine = SoftMachine(8, ("a", "b", "scratch"), 12, num_restarts=2)
  machine.build()
  first = machine.controller.program_logits(0.5, seed=[3, 1])
  again = machine.controller.program_logits(0.5, seed=[3, 1])
  other = machine.controller.program_logits(0.5, seed=[3, 2])
  for name, sample in first.items():
    np.testing.assert_array_equal(sample, again[name])
    assert not np.array_equal(sample, other[name]), name
  # Each weight and each restart draws its own noise.
  assert not np.array_equal(first["output_logits"][0],
                            first["output_logits"][1])
  assert not np.array_equal(first["first_argument_logits"],
                            first["second_argument_logits"])


@pytest.mark.parametrize("step_impl", ["tf", "fused"])
def test_under_a_gumbel_sample_the_machine_runs_the_sampled_program(
    step_impl):
  if step_impl == "fused" and not fused.fused_available():
    pytest.skip("the fused op library is not built")
  weights = random_weights(0)
  machine = SoftMachine.from_weights(weights, 12, step_impl=step_impl)
  sample = machine.controller.program_logits(0.7, seed=[5, 9])
  sampled = ControllerWeights(
      register_names=weights.register_names,
      **{name: value.numpy()[0] for name, value in sample.items()})
  memories = np.random.default_rng(1).integers(0, 8, [6, 8])
  relaxed = machine(memories, gumbel_temperature=0.7, seed=[5, 9])
  expected = SoftMachine.from_weights(sampled, 12, step_impl=step_impl)(
      memories)
  for name, value in expected.items():
    np.testing.assert_allclose(relaxed[name], value, atol=1e-6, err_msg=name)
  assert not np.allclose(machine(memories)["memory"], relaxed["memory"])


# h doubles itself forever: ADD's result has the mass of x times that of y,
# so each step squares h's mass, and its float rounding error with it.
SELF_DOUBLING = "var h = READ(0); loop: h = ADD(h, h); JEZ(0, loop);"


@pytest.mark.parametrize("step_impl", ["tf", "fused"])
@pytest.mark.parametrize("sharpness", [12.0, 20.0])
def test_a_register_added_to_itself_stays_a_distribution_in_long_runs(
    step_impl, sharpness):
  if step_impl == "fused" and not fused.fused_available():
    pytest.skip("the fused op library is not built")
  # Unrescaled arguments lost h's mass at sharpness 12 (1e-5 by step 300)
  # and blew it up at 20 (1e17 by step 59, the halting probability then
  # jumping to 1 and the gradients NaN).
  program = lang.parse_program(SELF_DOUBLING, 10)
  machine = SoftMachine.from_weights(compile_program(program, sharpness), 300,
                                     eta_stop=1.0, step_impl=step_impl)
  memory = tf.one_hot(np.random.default_rng(0).integers(0, 10, [4, 10]), 10)

  @tf.function
  def outputs_and_gradients():
    with tf.GradientTape() as tape:
      tape.watch(memory)
      outputs = machine(memory)
      loss = tf.reduce_sum(outputs["registers"][:, 0] * tf.range(10.0))
    return outputs, tape.gradient(loss, machine.trainable_variables + [memory])

  outputs, gradients = outputs_and_gradients()
  assert outputs["steps"].numpy().tolist() == [300] * 4
  np.testing.assert_allclose(tf.reduce_sum(outputs["registers"], -1), 1.0,
                             atol=1e-5)
  for gradient in gradients:
    assert np.all(np.isfinite(gradient))


CALLS = {"eager": lambda machine: machine,
         "tf.function": lambda machine: tf.function(machine)}


@pytest.fixture(params=sorted(CALLS))
def call_countdown(request):
  """A countdown machine (M = 10) called eagerly or as a tf.function."""
  return CALLS[request.param](countdown_machine())


def test_a_memory_of_the_wrong_width_is_refused_naming_both(call_countdown):
  with pytest.raises(ValueError, match=re.escape(
      "expected [B, 10] integer cell values or [B, 10, 10] float "
      "distributions (M = 10), got int32 of shape [1, 12]")):
    call_countdown(np.zeros([1, 12], np.int32))


def test_cell_values_in_a_float_dtype_are_refused(call_countdown):
  with pytest.raises(ValueError, match=re.escape(
      "got float32 of shape [1, 10]: cell values need an integer dtype, and "
      "float memories are distributions [B, 10, 10]")):
    call_countdown(np.zeros([1, 10], np.float32))


def test_integer_memories_of_distribution_shape_are_refused(call_countdown):
  with pytest.raises(ValueError, match=re.escape(
      "got int32 of shape [1, 10, 10]: integer memories are [B, 10]")):
    call_countdown(np.zeros([1, 10, 10], np.int32))


@pytest.mark.parametrize("value", [10, 12, -1])
def test_a_cell_value_outside_the_range_is_refused_naming_cell_and_value(
    call_countdown, value):
  memory = np.zeros([3, 10], np.int32)
  memory[2, 4] = value
  with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(
      f"memory[2, 4] = {value} is outside [0, 10) (M = 10)")):
    call_countdown(memory)


def test_a_memory_row_that_is_not_a_distribution_is_refused_naming_it(
    call_countdown):
  memory = tf.one_hot(np.zeros([2, 10], np.int32), 10).numpy()
  memory[1, 3] *= 2.0
  with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(
      "memory[1, 3] is not a distribution over [0, 10): its values sum to "
      "2 and the smallest is 0")):
    call_countdown(memory)


def test_a_width_unknown_when_traced_is_checked_when_run():
  machine = tf.function(countdown_machine(), input_signature=[
      tf.TensorSpec([None, None], tf.int32)])
  assert machine(np.array([[3] + [0] * 9]))["steps"].numpy().tolist() == [10]
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=re.escape("expected [B, 10]")):
    machine(np.zeros([1, 12], np.int32))


def test_memories_for_another_number_of_restarts_are_refused():
  machine = SoftMachine.from_weights(
      compile_program(lang.parse_program(COUNTDOWN, 10)), 30, num_restarts=2)
  with pytest.raises(ValueError, match=re.escape(
      "expected [K = 2, B, 10] integer cell values or [K = 2, B, 10, 10] "
      "float distributions (M = 10), got int32 of shape [3, 1, 10]")):
    machine(np.zeros([3, 1, 10], np.int32))


def test_an_error_target_outside_the_range_is_refused(call_countdown):
  target = np.zeros([1, 10], np.int32)
  target[0, 7] = 11
  with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(
      "error_target[0, 7] = 11 is outside [0, 10)")):
    call_countdown(np.zeros([1, 10], np.int32), error_target=target,
                   error_mask=np.ones([1, 10], bool))


@pytest.mark.parametrize("temperature", [0.0, -0.5, float("inf")])
def test_a_gumbel_temperature_that_is_not_positive_and_finite_is_refused(
    temperature):
  with pytest.raises(ValueError, match="gumbel_temperature must be positive"):
    countdown_machine()(np.zeros([1, 10], np.int32),
                        gumbel_temperature=temperature, seed=[1, 2])


def test_a_gumbel_temperature_tensor_is_checked_when_run():
  machine = tf.function(countdown_machine())
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="gumbel_temperature must be positive"):
    machine(np.zeros([1, 10], np.int32), gumbel_temperature=tf.constant(0.0),
            seed=[1, 2])


def test_a_gumbel_temperature_needs_a_seed():
  with pytest.raises(ValueError, match="gumbel_temperature and seed"):
    countdown_machine()(np.zeros([1, 10], np.int32), gumbel_temperature=0.5)
