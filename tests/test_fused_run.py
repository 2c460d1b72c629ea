"""The fused whole-run op computes exactly what the plain-TF loop computes.

SoftMachine with step_impl="fused" (one AncMachineRun op) against
step_impl="tf" (the plain-TF step in a tf.while_loop): outputs to 1e-5 and
gradients to 1e-4 of their scale, on random controllers and random memory
distributions, with restarts, examples that halt early and examples that
never halt; the same for steps from random soft states, one instruction at
a time and all mixed, so that each instruction's arithmetic and gradient is
held to the plain-TF step's (tf_anc/machine/step.py); numeric gradient
checks of the op, each instruction's too; the choice of implementation and
its fallbacks (no library, XLA, float64).
"""

import concurrent.futures
import os
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import isa
from tf_anc import lang
from tf_anc import kernels
from tf_anc import tasks
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import MachineState, SoftMachine, fused
from tf_anc.machine.soft_machine import ErrorTarget
from tf_anc_datasets import anc_distributions

requires_library = pytest.mark.skipif(
    not fused.fused_available(),
    reason="the fused op library is not built (python -m tf_anc.kernels.build)")


def random_distributions(rng, *shape, sharpness=3.0):
  logits = sharpness * rng.normal(size=shape)
  return tf.nn.softmax(tf.constant(logits, tf.float32), axis=-1)


def assert_gradients_close(actual, expected, relative):
  """Each |actual - expected| <= relative * the scale of its tensor.

  A tensor whose exact gradient is 0 (e.g. the output selection when M = 1,
  where every register already holds the result) holds only rounding noise,
  a few float32 ulps of the largest gradient; its scale is at least 1e-2 of
  the largest gradient (so its tolerance is 8 ulps of it).
  """
  expected = [np.asarray(gradient) for gradient in expected]
  largest = max(np.max(np.abs(gradient)) for gradient in expected)
  for actual_tensor, expected_tensor in zip(actual, expected):
    scale = max(np.max(np.abs(expected_tensor)), 1e-2 * largest, 1e-6)
    np.testing.assert_allclose(actual_tensor, expected_tensor, rtol=relative,
                               atol=relative * scale)


def random_machine(memory_size, num_registers, max_steps, num_restarts,
                   step_impl, seed, eta_stop=0.9, halting_gradient="exact"):
  """A machine whose restarts are random soft programs.

  Restart 0 never stops (its STOP logits are very low), so its examples run
  to T_max; the others stop with a probability that varies with the
  instruction register, so their examples halt after differing numbers of
  steps.
  """
  machine = SoftMachine(
      memory_size, [f"r{i}" for i in range(num_registers)], max_steps,
      eta_stop=eta_stop, trace_memory=True, num_restarts=num_restarts,
      step_impl=step_impl, halting_gradient=halting_gradient)
  machine.build()
  rng = np.random.default_rng(seed)
  for variable in machine.trainable_variables:
    variable.assign(rng.normal(0.0, 2.0, variable.shape))
  stop = machine.controller.instruction_logits[:, :, isa.STOP]
  stop_logits = rng.normal(1.0, 2.0, stop.shape)
  stop_logits[0] = -30.0
  machine.controller.instruction_logits[:, :, isa.STOP].assign(stop_logits)
  return machine


TRACED = ("memory", "registers", "halting_probabilities", "memory_trace",
          "step_errors")


def random_linear_loss(rng, outputs, loss_outputs):
  return sum(
      tf.reduce_sum(rng.normal(size=outputs[name].shape).astype(np.float32)
                    * outputs[name])
      for name in loss_outputs)


def outputs_and_gradients(machine, memory, seed, loss_outputs=TRACED):
  """The machine's outputs, with step errors against a random target and
  mask, and d(random linear loss of `loss_outputs`)/d(weights, memory)."""
  memory = tf.constant(memory)
  rng = np.random.default_rng(seed)
  error_target = rng.integers(0, memory.shape[-1], memory.shape[:-1])
  error_mask = rng.random(memory.shape[:-1]) < 0.5
  with tf.GradientTape() as tape:
    tape.watch(memory)
    outputs = machine(memory, error_target=error_target,
                      error_mask=error_mask)
    loss = random_linear_loss(rng, outputs, loss_outputs)
  sources = machine.trainable_variables + [memory]
  return outputs, tape.gradient(loss, sources)


def assert_runs_alike(fused_results, results):
  """The op's outputs and gradients are the plain-TF loop's."""
  (fused_outputs, fused_gradients), (outputs, gradients) = (
      fused_results, results)
  assert set(fused_outputs) == set(outputs)
  for name in TRACED:
    np.testing.assert_allclose(fused_outputs[name], outputs[name], atol=1e-5,
                               err_msg=name)
  for name in ("steps", "halted", "running"):
    np.testing.assert_array_equal(fused_outputs[name], outputs[name],
                                  err_msg=name)
  assert_gradients_close(fused_gradients, gradients, 1e-4)


def listk_machine(**kwargs):
  task = tasks.TASKS["listk"]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  return SoftMachine.from_weights(compile_program(program), task.max_steps,
                                  **kwargs)


def assert_runs_listk(machine):
  """`machine` computes ListK on a few examples of its distribution."""
  task = tasks.TASKS["listk"]
  inputs, targets, masks = anc_distributions.sample("listk", task.distributions[0], 4,
                                        seed=3)
  memory = np.argmax(machine(inputs)["memory"], axis=-1)
  np.testing.assert_array_equal(memory * masks, targets * masks)


# (restarts K, batch per restart, M, R, T_max). The op runs batches under
# half its lane width one example at a time and larger ones 16 at a time
# with AVX-512 (8 with AVX, else 4), idle lanes included, lanes running one
# restart or several; from about five lane widths on, a lane takes the
# next example as soon as its own halts. The last shape has restarts
# enough that their logits' gradients are summed on several threads.
RUN_SHAPES = [
    (1, 1, 1, 1, 3), (2, 1, 8, 3, 12), (3, 1, 10, 7, 15), (1, 4, 3, 2, 5),
    (2, 3, 8, 3, 12), (3, 2, 10, 7, 15), (2, 4, 20, 7, 20), (1, 9, 5, 1, 8),
    (3, 7, 6, 2, 10), (1, 40, 4, 2, 6), (4, 30, 6, 3, 12), (100, 5, 10, 3, 8)]


@requires_library
@pytest.mark.parametrize("restarts,batch,memory_size,num_registers,max_steps",
                         RUN_SHAPES)
def test_values_and_gradients_match_the_plain_loop(restarts, batch,
                                                   memory_size, num_registers,
                                                   max_steps):
  seed = restarts * 1000 + batch * 100 + memory_size * 10 + num_registers
  memory = random_distributions(np.random.default_rng(seed), restarts, batch,
                                memory_size, memory_size).numpy()
  results = {}
  for step_impl in ("fused", "tf"):
    machine = random_machine(memory_size, num_registers, max_steps, restarts,
                             step_impl, seed, eta_stop=0.5)
    results[step_impl] = outputs_and_gradients(machine, memory, seed)
  assert_runs_alike(results["fused"], results["tf"])
  outputs = results["tf"][0]
  if restarts > 1 and memory_size > 1:  # both kinds of example were run
    steps = np.asarray(outputs["steps"])
    assert np.all(steps[0] == max_steps) and not np.any(outputs["halted"][0])
    assert np.any(steps[1:] < max_steps) and np.any(outputs["halted"][1:])


@requires_library
@pytest.mark.parametrize("restarts,batch,memory_size,num_registers,max_steps",
                         [(2, 3, 8, 3, 12), (3, 7, 6, 2, 10)])
def test_the_authors_halting_gradient_matches_the_plain_loop(
    restarts, batch, memory_size, num_registers, max_steps):
  seed = 7
  memory = random_distributions(np.random.default_rng(seed), restarts, batch,
                                memory_size, memory_size).numpy()
  results = {}
  for step_impl, halting_gradient in (("fused", "authors"), ("tf", "authors"),
                                      ("tf", "exact")):
    machine = random_machine(memory_size, num_registers, max_steps, restarts,
                             step_impl, seed, eta_stop=0.5,
                             halting_gradient=halting_gradient)
    results[step_impl, halting_gradient] = outputs_and_gradients(
        machine, memory, seed)
  assert_runs_alike(results["fused", "authors"], results["tf", "authors"])
  # The same run, another gradient.
  instruction_gradients = [results["tf", name][1][0]
                           for name in ("authors", "exact")]
  assert not np.allclose(*instruction_gradients, rtol=1e-3)


@requires_library
def test_a_compiled_program_runs_alike_in_a_graph():
  # Random memories make ListK wander and loop, as well as halt.
  memories = np.random.default_rng(3).integers(0, 20, size=[64, 20])
  memories = memories.astype(np.int32)
  outputs = {step_impl: tf.function(listk_machine(step_impl=step_impl))(
      memories) for step_impl in ("fused", "tf")}
  for name in ("memory", "registers", "halting_probabilities"):
    np.testing.assert_allclose(outputs["fused"][name], outputs["tf"][name],
                               atol=1e-5)
  for name in ("steps", "halted", "running"):
    np.testing.assert_array_equal(outputs["fused"][name], outputs["tf"][name])
  steps = np.asarray(outputs["tf"]["steps"])
  assert 0 < np.sum(steps < 75) < len(steps)  # some halt, some loop


@requires_library
def test_runs_called_from_several_threads_at_once_give_each_its_own_results():
  # Batches of several lane groups each, so that each call hands groups to
  # helper threads (ops/helper_threads.h), which the concurrent calls
  # contend for (those that find none idle use TensorFlow's pool).
  machine = random_machine(10, 3, 12, 2, "fused", seed=5)
  rng = np.random.default_rng(6)
  memories = [random_distributions(rng, 2, 40, 10, 10) for _ in range(4)]

  @tf.function
  def call(memory):
    with tf.GradientTape() as tape:
      tape.watch(memory)
      outputs = machine(memory)
      loss = tf.reduce_sum(outputs["memory"] * memory)
    return outputs, tape.gradient(loss, machine.trainable_variables +
                                  [memory])

  alone = [call(memory) for memory in memories]
  with concurrent.futures.ThreadPoolExecutor(len(memories)) as pool:
    for _ in range(3):
      together = list(pool.map(call, memories))
      for results, expected in zip(together, alone):
        for name in expected[0]:
          np.testing.assert_array_equal(results[0][name], expected[0][name])
        for gradient, expected_gradient in zip(results[1], expected[1]):
          np.testing.assert_array_equal(gradient, expected_gradient)


def cores_of_each_thread():
  """{thread id: the cores it may run on}, from /proc (Linux)."""
  cores = {}
  for thread in os.listdir("/proc/self/task"):
    try:
      with open(f"/proc/self/task/{thread}/status") as status:
        for line in status:
          if line.startswith("Cpus_allowed_list:"):
            cores[thread] = line.split(":", 1)[1].strip()
    except FileNotFoundError:  # the thread ended
      pass
  return cores


@requires_library
@pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="helpers move between cores only on Linux with several cores")
def test_helper_threads_moved_off_the_callers_core_take_back_their_cores():
  # Helpers watching on the caller's core are moved off it when posted to
  # (a few in a hundred ops on a 2-core VM); each takes its cores back as
  # it starts, so that after the calls every thread has the process's.
  machine = random_machine(10, 3, 12, 2, "fused", seed=5)
  memory = random_distributions(np.random.default_rng(6), 2, 40, 10, 10)

  @tf.function
  def call(memory):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(machine(memory)["memory"])
    return tape.gradient(loss, machine.trainable_variables)

  everywhere = cores_of_each_thread()[str(threading.get_native_id())]

  def narrowed():  # threads held to fewer cores than this one
    return {thread: cores for thread, cores in cores_of_each_thread().items()
            if cores != everywhere}

  call(memory)
  before = narrowed()  # other libraries' pinned threads, if any
  for _ in range(200):
    call(memory)
  # A helper that started after its caller had run every group may take
  # its cores back just after the call returned.
  deadline = time.monotonic() + 5.0
  while narrowed().keys() - before.keys() and time.monotonic() < deadline:
    time.sleep(0.01)
  assert not narrowed().keys() - before.keys()


def random_run_inputs(rng, batch, memory_size, num_registers, restarts,
                      instruction=None):
  """A soft initial state, not halted, and random controller logits; with
  `instruction`, its logits raised by 3, so that it weighs about half of
  each command (the other ten share the rest)."""
  state = MachineState(
      memory=random_distributions(rng, batch, memory_size, memory_size),
      registers=random_distributions(rng, batch, num_registers, memory_size),
      instruction_register=random_distributions(rng, batch, memory_size),
      halting_probability=tf.zeros([batch]))
  logits = [rng.normal(0.0, 2.0, [restarts, memory_size, width])
            for width in (isa.NUM_INSTRUCTIONS, num_registers,
                          num_registers, num_registers)]
  if instruction is not None:
    logits[0][:, :, instruction] += 3.0
  return state, [tf.constant(value, tf.float32) for value in logits]


@requires_library
def test_examples_halted_from_the_start_run_no_step_and_pass_gradients_on():
  # 96 examples: enough that lanes take the next example as theirs halt,
  # which must skip those halted from the start.
  rng = np.random.default_rng(5)
  batch, memory_size, max_steps = 96, 5, 12
  state, logits = random_run_inputs(rng, batch, memory_size, 2, 2)
  halted = np.arange(batch) % 3 == 0
  state = state._replace(
      halting_probability=tf.constant(np.where(halted, 1.0, 0.0), tf.float32))
  error_target = rng.integers(0, memory_size, [batch, memory_size])
  error_mask = rng.random([batch, memory_size])
  error_mask[:, 0] = 0.0  # a cell no example weighs
  names = ("final_memory", "final_registers", "halting_probabilities",
           "memory_trace", "step_errors")
  loss_weights = None

  def run(examples):
    """The op on `examples` of the batch (equally many of each restart)."""
    nonlocal loss_weights
    initial = MachineState(*[tf.gather(value, examples) for value in state])
    with tf.GradientTape() as tape:
      tape.watch([initial.memory] + logits)
      outputs = kernels.machine_run(
          initial, logits, max_steps, 0.5, trace_memory=True,
          error_target=tf.constant(error_target[examples], tf.int32),
          error_mask=tf.constant(error_mask[examples], tf.float32))
      if loss_weights is None:
        loss_weights = {name: rng.normal(size=getattr(outputs, name).shape)
                        for name in names}
      loss = sum(tf.reduce_sum(
          getattr(outputs, name) * loss_weights[name][examples]
          .astype(np.float32)) for name in names)
    return outputs, tape.gradient(loss, [initial.memory] + logits)

  outputs, gradients = run(np.arange(batch))
  running_outputs, running_gradients = run(np.flatnonzero(~halted))
  # The others run as they do without them.
  for name in names + ("running", "steps"):
    np.testing.assert_allclose(getattr(outputs, name)[~halted],
                               getattr(running_outputs, name), rtol=1e-6,
                               err_msg=name)
  np.testing.assert_allclose(gradients[0].numpy()[~halted],
                             running_gradients[0], rtol=1e-6)
  assert_gradients_close(gradients[1:], running_gradients[1:], 1e-5)
  # The halted ones keep their state at every step.
  memory = state.memory.numpy()[halted]
  np.testing.assert_array_equal(outputs.final_memory[halted], memory)
  assert not np.any(outputs.steps[halted])
  assert not np.any(outputs.running[halted])
  np.testing.assert_array_equal(outputs.halting_probabilities[halted], 1.0)
  np.testing.assert_array_equal(
      outputs.memory_trace[halted],
      np.broadcast_to(memory[:, None], outputs.memory_trace[halted].shape))
  # Their memory's gradient is the loss's through the memory they keep.
  weights = {name: value[halted] for name, value in loss_weights.items()}
  grad_error = 2 * weights["step_errors"].sum(1)[:, None, None] * (
      error_mask[halted][:, :, None] *
      (memory - np.eye(memory_size)[error_target[halted]]))
  np.testing.assert_allclose(
      gradients[0].numpy()[halted],
      weights["final_memory"] + weights["memory_trace"].sum(1) + grad_error,
      rtol=1e-5, atol=1e-5)


# (restarts K, batch per restart, M, R) of the runs from given states: as
# RUN_SHAPES, one example at a time and in groups of lanes.
STATE_SHAPES = [
    (1, 1, 1, 1), (5, 1, 1, 3), (1, 1, 3, 1), (5, 1, 3, 3), (8, 8, 3, 7),
    (5, 1, 10, 3), (8, 8, 10, 7), (1, 1, 20, 7), (1, 5, 20, 1),
    (8, 8, 20, 3)]
# What the commands run (random_run_inputs): a random mix of all the
# instructions (None), or mostly each one in turn.
INSTRUCTIONS = [None] + list(range(isa.NUM_INSTRUCTIONS))
SOFT_STATE_ETA_STOP = 0.99


def random_soft_state(rng, batch, memory_size, num_registers, restarts,
                      instruction):
  """Random state and logits (random_run_inputs) where, with eta_stop =
  SOFT_STATE_ETA_STOP, every third example starts halted and every third
  just below it (the halting arithmetic near 1)."""
  state, logits = random_run_inputs(rng, batch, memory_size, num_registers,
                                    restarts, instruction)
  halting = rng.uniform(0.0, 0.5, batch)
  halting[1::3] = rng.uniform(0.95, 0.98, halting[1::3].shape)
  halting[2::3] = rng.uniform(0.99, 1.0, halting[2::3].shape)
  return state._replace(halting_probability=tf.constant(halting,
                                                        tf.float32)), logits


def outputs_and_gradients_from(state, logits, step_impl, seed,
                               loss_outputs=TRACED):
  """Two steps from `state` with the controller `logits`, the plain-TF
  loop's or the op's (SoftMachine's runs, less the initial state): the
  outputs, with step errors against a random target and mask, and d(random
  linear loss of `loss_outputs`)/d(state, logits). Two steps, so that the
  instruction register after the first shows, in the second's command."""
  restarts, memory_size, num_registers = logits[1].shape
  machine = SoftMachine(
      memory_size, [f"r{i}" for i in range(num_registers)], 2,
      eta_stop=SOFT_STATE_ETA_STOP, trace_memory=True,
      num_restarts=restarts)
  machine.build()
  controller = machine.controller
  variables = [controller.instruction_logits,
               controller.first_argument_logits,
               controller.second_argument_logits, controller.output_logits]
  for variable, value in zip(variables, logits):
    variable.assign(value)
  rng = np.random.default_rng(seed)
  batch = state.memory.shape[0]
  errors = ErrorTarget(
      cells=tf.constant(rng.integers(0, memory_size, [batch, memory_size]),
                        tf.int32),
      mask=tf.constant(rng.random([batch, memory_size]) < 0.5, tf.float32))
  run = {"fused": machine._fused_run, "tf": machine._unrolled_run}[step_impl]
  with tf.GradientTape() as tape:
    tape.watch(list(state))
    outputs = run(state, controller.program_logits(), errors,
                  trace_memory=True)
    loss = random_linear_loss(rng, outputs, loss_outputs)
  sources = list(state) + variables
  # A loss of one output may not reach every source: a zero gradient.
  return outputs, [tf.zeros_like(source) if gradient is None else gradient
                   for source, gradient in zip(
                       sources, tape.gradient(loss, sources))]


@requires_library
@pytest.mark.parametrize(
    "restarts,batch,memory_size,num_registers,instruction",
    [shape + (None,) for shape in STATE_SHAPES] +
    [shape + (instruction,) for shape in ((5, 1, 10, 3), (8, 8, 20, 7))
     for instruction in INSTRUCTIONS[1:]])
def test_steps_from_soft_states_match_the_plain_step(
    restarts, batch, memory_size, num_registers, instruction):
  seed = (restarts * 1000 + batch * 100 + memory_size * 10 + num_registers +
          100000 * (1 if instruction is None else instruction + 2))
  state, logits = random_soft_state(
      np.random.default_rng(seed), restarts * batch, memory_size,
      num_registers, restarts, instruction)
  results = {step_impl: outputs_and_gradients_from(state, logits, step_impl,
                                                   seed)
             for step_impl in ("fused", "tf")}
  assert_runs_alike(results["fused"], results["tf"])
  running = np.asarray(results["tf"][0]["running"])
  assert np.all(running[0::3, 0]) and not np.any(running[2::3])


@requires_library
@pytest.mark.parametrize("loss_output", TRACED)
def test_a_loss_of_one_output_matches_the_plain_step(loss_output):
  # The op reads the gradients of the outputs nobody used as zeros.
  state, logits = random_soft_state(np.random.default_rng(5), 16, 6, 3, 2,
                                    None)
  results = {step_impl: outputs_and_gradients_from(
      state, logits, step_impl, 5, loss_outputs=(loss_output,))
             for step_impl in ("fused", "tf")}
  assert_runs_alike(results["fused"], results["tf"])


@requires_library
@pytest.mark.parametrize("instruction", INSTRUCTIONS)
def test_gradient_matches_finite_differences(instruction):
  state, logits = random_run_inputs(np.random.default_rng(1), 2, 3, 2, 2,
                                    instruction)
  # Example 1 starts halted: every step passes its state through.
  state = state._replace(halting_probability=tf.constant([0.2, 0.95]))
  max_steps, eta_stop = 3, 0.9
  error_target = tf.constant([[0, 2, 1], [1, 1, 0]])
  error_mask = tf.constant([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
  run = kernels.machine_run(state, logits, max_steps, eta_stop, trace_memory=True)
  assert run.running.numpy().tolist()[1] == [False] * 3
  assert run.running.numpy()[0, 0]
  # Far from eta_stop, so that no finite difference changes which examples
  # run.
  assert np.min(np.abs(run.halting_probabilities[0] - eta_stop)) > 0.05

  def float_outputs(*inputs):
    run = kernels.machine_run(MachineState(*inputs[:4]), inputs[4:], max_steps,
                          eta_stop, trace_memory=True,
                          error_target=error_target, error_mask=error_mask)
    return tf.concat([tf.reshape(value, [-1]) for value in (
        run.final_memory, run.final_registers, run.halting_probabilities,
        run.memory_trace, run.step_errors)], 0)

  theoretical, numerical = tf.test.compute_gradient(
      float_outputs, list(state) + logits, delta=1e-2)
  for analytic, numeric in zip(theoretical, numerical):
    np.testing.assert_allclose(analytic, numeric, atol=3e-3)


@requires_library
def test_unused_outputs_have_zero_gradients():
  state, logits = random_run_inputs(np.random.default_rng(2), 4, 5, 3, 2)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(logits)
    run = kernels.machine_run(state, logits, 6, 0.9, trace_memory=True)
    only_final = tf.reduce_sum(run.final_memory)
    with_zero_trace = only_final + tf.reduce_sum(0.0 * run.memory_trace)
  for alone, zero_added in zip(tape.gradient(only_final, logits),
                               tape.gradient(with_zero_trace, logits)):
    np.testing.assert_allclose(alone, zero_added, atol=1e-6)


@requires_library
def test_the_memory_at_halting_has_no_gradient():
  state, logits = random_run_inputs(np.random.default_rng(2), 4, 5, 3, 2)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    run = kernels.machine_run(state, logits, 6, 0.9, halting_mixture=True)
    mixture_sum = tf.reduce_sum(run.memory_at_halting)
  with pytest.raises(tf.errors.InvalidArgumentError, match="no gradient"):
    tape.gradient(mixture_sum, logits)


@requires_library
def test_an_example_halted_from_the_start_is_its_own_memory_at_halting():
  state, logits = random_run_inputs(np.random.default_rng(4), 4, 5, 3, 2)
  state = state._replace(halting_probability=tf.constant([1.0, 0, 0.95, 0]))
  run = kernels.machine_run(state, logits, 6, 0.9, halting_mixture=True)
  np.testing.assert_array_equal(run.memory_at_halting.numpy()[[0, 2]],
                                state.memory.numpy()[[0, 2]])


@requires_library
@pytest.mark.parametrize("bad_input,shape,message", [
    ("memory", [4, 4, 5], "memory must have shape"),
    ("memory", [3, 4, 4], "multiple of the number of restarts"),
    ("registers", [4, 3, 5], "registers must have shape"),
    ("halting", [3], "halting must have shape"),
    ("instruction_logits", [2, 4, 5], "instruction_logits must have shape"),
    ("output_logits", [2, 4, 2], "output_logits must have shape"),
    ("error_target", [4, 3], "error_target must have shape"),
    ("error_mask", [3, 4], "error_mask must have shape"),
])
def test_inconsistent_inputs_are_invalid_arguments(bad_input, shape, message):
  state, logits = random_run_inputs(np.random.default_rng(3), 4, 4, 3, 2)
  inputs = dict(zip(["memory", "registers", "instruction_register",
                     "halting", "instruction_logits", "first_argument_logits",
                     "second_argument_logits", "output_logits"],
                    list(state) + logits),
                error_target=tf.zeros([4, 4], tf.int32),
                error_mask=tf.zeros([4, 4]))
  inputs[bad_input] = tf.zeros(shape, inputs[bad_input].dtype)

  def run():
    return kernels.load().anc_machine_run(**inputs, max_steps=3, eta_stop=0.9,
                                      trace_errors=True)

  # Eagerly the kernel's checks answer; in a graph the shape function
  # rejects the inputs before they run.
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    run()
  with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
    tf.function(run)()


@requires_library
@pytest.mark.parametrize("cell", [-1, 4])
def test_an_error_target_outside_the_memory_is_an_invalid_argument(cell):
  state, logits = random_run_inputs(np.random.default_rng(3), 4, 4, 3, 2)
  error_target = np.zeros([4, 4], np.int32)
  error_target[2, 1] = cell
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=rf"cell values in \[0, M = 4\), got {cell} at "
                     "flat index 9"):
    kernels.machine_run(state, logits, 3, 0.9, error_target=error_target,
                        error_mask=tf.ones([4, 4]))


@requires_library
def test_the_gradient_op_checks_what_it_reads():
  state, logits = random_run_inputs(np.random.default_rng(4), 4, 4, 3, 2)
  run = kernels.machine_run(state, logits, 3, 0.9)
  empty, no_cells = tf.zeros([0]), tf.zeros([0], tf.int32)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="gradient of final_memory must have shape"):
    kernels.load().anc_machine_run_grad(
        *state, *logits, no_cells, empty, run.running, run.saved,
        tf.zeros([4, 4, 3]), empty, empty, empty, empty)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="saved must have shape"):
    kernels.load().anc_machine_run_grad(
        *state, *logits, no_cells, empty, run.running, run.saved[:, :2], empty,
        empty, empty, empty, empty)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="error_target must have shape"):
    kernels.load().anc_machine_run_grad(
        *state, *logits, no_cells, empty, run.running, run.saved, empty, empty,
        empty, empty, tf.ones([4, 3]))


@requires_library
def test_without_memory_gradient_the_gradient_op_leaves_only_it_out():
  # What a tape asks for when the memory is data (not watched).
  state, logits = random_run_inputs(np.random.default_rng(6), 40, 5, 3, 2)
  run = kernels.machine_run(state, logits, 6, 0.9)
  empty, no_cells = tf.zeros([0]), tf.zeros([0], tf.int32)

  def gradients(memory_gradient):
    return kernels.load().anc_machine_run_grad(
        *state, *logits, no_cells, empty, run.running, run.saved,
        tf.ones_like(run.final_memory), empty, empty, empty, empty,
        memory_gradient=memory_gradient)

  everything, without_memory = gradients(True), gradients(False)
  assert without_memory[0].shape == [0, 5, 5]
  assert everything[0].shape == [40, 5, 5]
  for all_of_it, left_out in zip(everything[1:], without_memory[1:]):
    np.testing.assert_array_equal(all_of_it, left_out)

  with tf.GradientTape() as tape:
    tape.watch(logits)
    loss = tf.reduce_sum(kernels.machine_run(state, logits, 6, 0.9)
                         .final_memory)
  np.testing.assert_array_equal(tape.gradient(loss, logits[0]),
                                everything[4])


@requires_library
def test_xla_and_float64_machines_take_the_plain_loop(monkeypatch):
  machine = listk_machine(step_impl="fused")

  def fused_run(state):
    raise AssertionError(f"the fused op was traced for {state}")

  monkeypatch.setattr(machine, "_fused_run", fused_run)
  assert_runs_listk(tf.function(machine, jit_compile=True))
  assert not fused.use_fused("fused", tf.float64)
  assert fused.use_fused("fused", tf.float32)


@requires_library
def test_auto_and_the_environment_variable_choose_the_run(monkeypatch):
  monkeypatch.delenv(fused.ENV_VAR, raising=False)
  assert fused.use_fused()
  monkeypatch.setenv(fused.ENV_VAR, "tf")
  assert not fused.use_fused()
  assert fused.use_fused("fused")


def test_unknown_implementations_are_rejected(monkeypatch):
  with pytest.raises(ValueError, match="cuda"):
    SoftMachine(4, ["a"], 3, step_impl="cuda")
  monkeypatch.setenv(fused.ENV_VAR, "cuda")
  with pytest.raises(ValueError, match=fused.ENV_VAR):
    fused.use_fused()


def test_a_run_has_at_least_one_step():
  with pytest.raises(ValueError, match="max_steps"):
    SoftMachine(4, ["a"], 0)


@pytest.fixture
def missing_library(monkeypatch, tmp_path):
  monkeypatch.setenv(kernels.LIBRARY_ENV, str(tmp_path / "missing.so"))
  kernels.load.cache_clear()
  yield
  kernels.load.cache_clear()


def test_a_missing_library_falls_back_to_the_plain_loop_with_one_warning(
    missing_library, monkeypatch, caplog):
  del missing_library
  monkeypatch.delenv(fused.ENV_VAR, raising=False)
  assert not fused.use_fused()
  assert not fused.use_fused("auto")
  assert len([record for record in caplog.records
              if "plain-TF machine" in record.getMessage()]) == 1
  with pytest.raises(RuntimeError, match="did not load"):
    fused.use_fused("fused")
  assert_runs_listk(listk_machine())


def test_forcing_the_plain_loop_needs_no_library(missing_library, monkeypatch):
  del missing_library
  monkeypatch.setenv(fused.ENV_VAR, "tf")
  assert_runs_listk(listk_machine())


@requires_library
def test_a_register_added_to_itself_runs_alike_for_many_steps():
  # h = ADD(h, h) squares h's mass each step; unless both runs keep their
  # arguments' masses at 1, their rounding errors grow apart in a few dozen
  # steps.
  program = lang.parse_program(
      "var h = READ(0); loop: h = ADD(h, h); JEZ(0, loop);", 10)
  memory = random_distributions(np.random.default_rng(8), 6, 10, 10,
                                sharpness=10.0).numpy()
  results = {
      step_impl: outputs_and_gradients(SoftMachine.from_weights(
          compile_program(program, sharpness=8.0), 120, eta_stop=0.9,
          trace_memory=True, step_impl=step_impl), memory, seed=8)
      for step_impl in ("fused", "tf")}
  assert_runs_alike(results["fused"], results["tf"])
