"""The compiled Keras model against the model file run as plain Python."""

import itertools
import json

import numpy as np
import pytest
import tensorflow as tf

from ntpt_keras import instances as instances_lib
from ntpt_keras import runtime
from ntpt_keras.lang import compiler
from ntpt_keras.lang import python_runner
from ntpt_keras.lang import source
from ntpt_keras.model import NeuralProgram

MODELS = "ntpt_keras/models"
DATA = f"{MODELS}/instances"
EXAMPLES = 100


def _compile(name, hypers_file=None):
  hypers = (source.read_hypers(f"{DATA}/{hypers_file}", None)["values"]
            if hypers_file else None)
  return compiler.compile_model(f"{MODELS}/{name}.py", hypers)


def _random_params(program, rng):
  return {d.name: rng.integers(0, d.size, d.shape).tolist()
          for d in program.learned_params()}


def _random_inputs(program, rng, number):
  records = [{} for _ in range(number)]
  for declaration in program.declarations.values():
    for record in records:
      if declaration.kind == "Input":
        record[declaration.name] = rng.integers(
            0, declaration.size, declaration.shape).tolist()
      elif declaration.kind == "InputTensor":
        record[declaration.name] = rng.random(
            declaration.shape + declaration.size).astype(np.float32)
  return records


def _check_against_python(program, model, params, records, learned,
                          atol=1e-5):
  """The model's outputs are one-hot at the runner's outputs."""
  instances = instances_lib.from_records(program, records, "random")
  outputs = model(instances.inputs)
  runner = python_runner.Runner(program)
  for number, record in enumerate(records):
    expected = runner(params, record, learned(number) if learned else None)
    for name, marginal in outputs.items():
      marginal = marginal[0, number].numpy()
      np.testing.assert_array_equal(np.argmax(marginal, -1),
                                    np.asarray(expected[name]))
      np.testing.assert_allclose(np.max(marginal, -1), 1.0, atol=atol)


@pytest.mark.parametrize("name,hypers_file", [
    ("turing", "turing_invert_hypers.json"),
    ("turing", "turing_decrement_hypers.json"),
    ("circuit", "circuit_swap_hypers.json"),
    ("add2x2_ints", None),
])
def test_hand_set_programs_match_the_model_file_run_as_python(name,
                                                              hypers_file):
  program = _compile(name, hypers_file)
  model = NeuralProgram(program, restarts=1)
  rng = np.random.default_rng(0)
  for _ in range(4):  # programs; EXAMPLES random inputs each
    params = _random_params(program, rng)
    model.set_params(params)
    _check_against_python(program, model, params,
                          _random_inputs(program, rng, EXAMPLES), None)


def _sharpen(network, factor=1e5):
  """Scales the last layer so the softmax is one-hot in float32."""
  kernel, bias = network.layers[-1].get_weights()
  network.layers[-1].set_weights([kernel * factor, bias * factor])


def test_the_maze_matches_python_with_a_one_hot_look_network():
  program = _compile("maze")
  model = NeuralProgram(program, restarts=1, seed=3)
  network = model.networks["LOOK"][0]
  _sharpen(network)
  rng = np.random.default_rng(1)
  records = _random_inputs(program, rng, EXAMPLES)
  for params in ({"instr": [3, 2, 0], "goto": [1, 2, 0]},
                 _random_params(program, rng)):
    model.set_params(params)

    def learned(number):
      del number
      return {"LOOK": lambda tensor: int(np.argmax(network(
          tensor.data.reshape(1, -1))[0]))}

    # A near-tie of two logits leaves a little mass on the runner-up.
    _check_against_python(program, model, params, records, learned,
                          atol=1e-3)


def _exact_marginals(program, probabilities, record):
  """Output marginals by enumerating every discrete program."""
  names = list(probabilities)
  choices = [list(itertools.product(*(range(probabilities[n].shape[-1]),) *
                                    int(np.prod(probabilities[n].shape[:-1]))))
             for n in names]
  totals = {}
  runner = python_runner.Runner(program)
  for assignment in itertools.product(*choices):
    weight = 1.0
    params = {}
    for name, values in zip(names, assignment):
      flat = probabilities[name].reshape(-1, probabilities[name].shape[-1])
      weight *= np.prod([flat[i, v] for i, v in enumerate(values)])
      params[name] = np.reshape(values, probabilities[name].shape[:-1])
    outputs = runner({n: v.tolist() for n, v in params.items()}, record)
    for name, value in outputs.items():
      size = program.declarations[name].size
      totals.setdefault(name, 0.0)
      totals[name] = totals[name] + weight * np.eye(size)[np.asarray(value)]
  return totals


def test_soft_params_give_the_exact_mixture_of_all_programs(tmp_path):
  hypers = tmp_path / "hypers.json"
  hypers.write_text(json.dumps({"one_gate": {"numWires": 2, "numGates": 1,
                                             "numOutputs": 2}}))
  program = compiler.compile_model(
      f"{MODELS}/circuit.py", source.read_hypers(str(hypers),
                                                 None)["values"])
  model = NeuralProgram(program, restarts=1, param_init_stddev=1.0, seed=5)
  probabilities = {n: p[0].numpy().astype(np.float64) for n, p in
                   model.param_probabilities().items()}
  for wires in ([0, 1], [1, 1], [1, 0]):
    record = {"initial_wires": wires}
    instances = instances_lib.from_records(program, [record], "one")
    marginal = model(instances.inputs)["final_wires"][0, 0].numpy()
    exact = _exact_marginals(program, probabilities, record)["final_wires"]
    np.testing.assert_allclose(marginal, exact, atol=1e-5)


def test_apply_contracts_the_indicator_with_each_argument():
  indicator = np.zeros([3, 2, 4], np.float32)
  for a, b in itertools.product(range(3), range(2)):
    indicator[a, b, (a + b) % 4] = 1.0
  x = tf.constant([[[0.2, 0.3, 0.5]]])
  y = tf.constant([[[0.6, 0.4]]])
  expected = np.zeros(4)
  for a, b in itertools.product(range(3), range(2)):
    expected[(a + b) % 4] += x[0, 0, a] * y[0, 0, b]
  np.testing.assert_allclose(runtime.apply(indicator, [x, y])[0, 0], expected,
                             rtol=1e-6)
  np.testing.assert_allclose(runtime.apply(indicator, [2, y])[0, 0],
                             [0, 0, 0.6, 0.4], rtol=1e-6)


def test_param_gradients_match_central_differences():
  program = _compile("turing", "turing_invert_hypers.json")
  records = json.load(open(f"{DATA}/turing_invert_data.json"))[0]["instances"]
  instances = instances_lib.from_records(program, records, "invert")
  model = NeuralProgram(program, restarts=1, param_init_stddev=0.5, seed=2)
  variable = model.param_logits["write"]
  with tf.GradientTape() as tape:
    loss = model.negative_log_likelihood(instances.inputs, instances.outputs)
  gradient = tape.gradient(loss, variable).numpy()
  rng = np.random.default_rng(0)
  original = variable.numpy()
  step = 1e-2
  for index in [tuple(rng.integers(0, s) for s in original.shape)
                for _ in range(6)] + [(0, 1, 0, 1)]:
    values = []
    for sign in (1, -1):
      shifted = original.copy()
      shifted[index] += sign * step
      variable.assign(shifted)
      values.append(float(model.negative_log_likelihood(
          instances.inputs, instances.outputs)[0]))
    variable.assign(original)
    numeric = (values[0] - values[1]) / (2 * step)
    np.testing.assert_allclose(gradient[index], numeric, rtol=2e-2,
                               atol=2e-4)


def test_a_gumbel_sample_is_a_distribution_fixed_by_its_seed():
  model = NeuralProgram(_compile("turing", "turing_invert_hypers.json"),
                        restarts=3, seed=2)
  first = model.param_probabilities(1.0, seed=[7, 1])
  for name, sample in first.items():
    np.testing.assert_allclose(tf.reduce_sum(sample, -1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        model.param_probabilities(1.0, seed=[7, 1])[name], sample)
  assert any(np.any(model.param_probabilities(1.0, seed=[7, 2])[name]
                    != sample) for name, sample in first.items())


def test_a_gumbel_sample_picks_each_value_with_its_probability():
  model = NeuralProgram(_compile("turing", "turing_invert_hypers.json"),
                        restarts=1, seed=2)
  name, logits = next(iter(model.param_logits.items()))
  # Every choice of the param: probabilities softmax([0, -1, ...]).
  logits.assign(tf.broadcast_to(-tf.range(logits.shape[-1], dtype=tf.float32),
                                logits.shape))
  draws = 500
  counts = sum(tf.one_hot(tf.argmax(model.param_probabilities(
      0.5, seed=[0, draw])[name], -1), logits.shape[-1])
               for draw in range(draws))
  frequencies = tf.reshape(counts, [-1, logits.shape[-1]]) / draws
  expected = tf.nn.softmax(tf.reshape(logits, [-1, logits.shape[-1]]))
  np.testing.assert_allclose(tf.reduce_mean(frequencies, 0),
                             tf.reduce_mean(expected, 0), atol=0.02)


_TWO_NETWORKS = """\
images = InputTensor(4, 4)[2]
which = Param(2)
answer = Output(3)

@Learn([Tensor(4, 4)], 3, hid_sizes=[8])
def net_a(image):
    pass

@Learn([Tensor(4, 4)], 3, hid_sizes=[8])
def net_b(image):
    pass

which.set_to_constant(0)
if which == 0:
    answer.set_to(net_a(images[1]))
else:
    answer.set_to(net_b(images[1]))
"""


def _two_networks(tmp_path, fixed):
  path = tmp_path / "two_networks.py"
  path.write_text(_TWO_NETWORKS if fixed else
                  _TWO_NETWORKS.replace("which.set_to_constant(0)\n", ""))
  return NeuralProgram(compiler.compile_model(str(path)), restarts=1, seed=0)


def _network_gradients(model):
  rng = np.random.default_rng(0)
  inputs = {"images": rng.random([6, 2, 4, 4]).astype(np.float32)}
  observed = {"answer": rng.integers(0, 3, [6])}
  variables = {name: networks[0].trainable_variables
               for name, networks in model.networks.items()}
  with tf.GradientTape() as tape:
    loss = model.negative_log_likelihood(inputs, observed)
  gradients = tape.gradient(loss, variables)
  return {name: [np.abs(g.numpy()).max() if g is not None else 0.0
                 for g in group] for name, group in gradients.items()}


def test_a_network_a_fixed_param_rules_out_is_never_called(tmp_path):
  model = _two_networks(tmp_path, fixed=True)
  assert model.program.called_functions() == ["net_a"]
  gradients = _network_gradients(model)
  assert list(gradients) == ["net_a"]
  assert all(g > 0 for g in gradients["net_a"])


def test_a_network_the_discretized_program_does_not_call_gets_no_gradient(
    tmp_path):
  model = _two_networks(tmp_path, fixed=False)
  model.set_params({"which": 0})  # one-hot logits: the program calls net_a
  gradients = _network_gradients(model)
  assert all(g > 0 for g in gradients["net_a"])
  # Its branch weighs softmax([50, 0])[1] = e^-50: nothing in float32 terms.
  assert max(gradients["net_b"]) <= 1e-12 * min(gradients["net_a"])


def test_a_learned_function_runs_once_per_tensor_array():
  program = _compile("maze")
  model = NeuralProgram(program, restarts=2, seed=0)
  calls = []
  apply_network = model.apply_network

  def counting(function, features):
    calls.append((function, tuple(features.shape)))
    return apply_network(function, features)

  model.apply_network = counting
  records = _random_inputs(program, np.random.default_rng(0), 3)
  instances = instances_lib.from_records(program, records, "random")
  model(instances.inputs)
  # 44 time steps x 15 cells read; one call on the 3 x 15 images.
  assert calls == [("LOOK", (1, 45, 784))]



@pytest.mark.parametrize("name,params", [
    ("add2x2", {"instr": [2, 3, 5, 0], "arg1": [0, 0, 1, 2],
                "arg2": [0, 0, 2, 3], "net_choice": [0, 1, 0, 0, 1],
                "return_register": 3}),
    # Figure 3b: R4 = MOVE_EAST, R5 = MOVE_SOUTH, R6 = APPLY(R0, R1, R4),
    # R7 = APPLY(R6, R2, R5); return R7.
    ("apply2x2", {"instr": [2, 3, 5, 5], "arg1": [0, 0, 0, 6],
                  "arg2": [0, 0, 1, 2], "arg3": [0, 0, 4, 5],
                  "net_choice": [1, 0, 1, 0, 0], "return_register": 7}),
])
def test_2x2_image_models_match_python_with_one_hot_networks(name, params):
  hypers = source.read_hypers(f"{DATA}/2x2_hypers.json", "choice")
  program = compiler.compile_model(f"{MODELS}/{name}.py", hypers["values"])
  model = NeuralProgram(program, restarts=1, seed=5)
  networks = {name: model.networks[name][0] for name in ("net_0", "net_1")}
  for network in networks.values():
    _sharpen(network)
  records = _random_inputs(program, np.random.default_rng(2), EXAMPLES)
  model.set_params(params)

  def learned(number):
    del number
    return {name: lambda tensor, network=network: int(np.argmax(network(
        tensor.data.reshape(1, -1))[0])) for name, network in networks.items()}

  _check_against_python(program, model, params, records, learned, atol=1e-3)


def test_networks_read_are_those_the_discretized_answer_depends_on():
  hypers = source.read_hypers(f"{DATA}/2x2_hypers.json", "choice")
  program = compiler.compile_model(f"{MODELS}/apply2x2.py", hypers["values"])
  model = NeuralProgram(program, restarts=3, seed=5)
  # R3 = the first cell through net_0, never used; R4 = MOVE_EAST and R5 =
  # MOVE_SOUTH through net_1; R6 = APPLY(R0, R1, R4), R7 = APPLY(R6, R2, R5).
  figure_3b = {"instr": [2, 3, 5, 5], "arg1": [0, 0, 0, 6],
               "arg2": [0, 0, 1, 2], "arg3": [0, 0, 4, 5],
               "net_choice": [0, 1, 1, 0, 0], "return_register": 7}
  model.set_params(figure_3b, restart=0)
  model.set_params({**figure_3b, "net_choice": [0, 0, 1, 1, 1]}, restart=1)
  model.set_params({**figure_3b, "return_register": 0}, restart=2)  # d1
  records = _random_inputs(program, np.random.default_rng(2), EXAMPLES)
  inputs = instances_lib.from_records(program, records, "random").inputs
  read = {name: flags.numpy().tolist()
          for name, flags in model.networks_read(inputs).items()}
  assert read == {"net_0": [False, True, False], "net_1": [True, True, False]}


@pytest.mark.parametrize("library_nets,called", [
    (0, ["net_0"]), (1, ["net_1"]), (2, ["net_0", "net_1"])])
def test_a_fixed_net_choice_calls_only_the_network_it_picks(library_nets,
                                                            called):
  program = compiler.compile_model(f"{MODELS}/add2x2.py",
                                   {"library_nets": library_nets})
  assert program.called_functions() == called


def test_a_checkpoint_of_checkpointed_restores_params_and_networks(tmp_path):
  program = compiler.compile_model(f"{MODELS}/maze.py")
  trained = NeuralProgram(program, restarts=2, seed=1)
  path = tf.train.Checkpoint(model=trained.checkpointed()).write(
      str(tmp_path / "model"))
  other = NeuralProgram(program, restarts=2, seed=2)
  tf.train.Checkpoint(model=other.checkpointed()).read(
      path).assert_consumed()
  assert len(other.variables) == len(trained.variables) > len(
      other.param_logits)
  for got, want in zip(other.variables, trained.variables):
    np.testing.assert_array_equal(got.numpy(), want.numpy())
