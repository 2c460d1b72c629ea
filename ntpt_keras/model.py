"""A compiled model file as a Keras model: params and learned networks.

`NeuralProgram` holds, for `K` restarts trained side by side, the logits of
every Param (`[K, *shape, n]`) and, for every learned function, one ordinary
Keras network per restart (`keras.Sequential`: ReLU layers of `hid_sizes`,
softmax over the function's range). Restart k's network is shared by every
call site of the function in restart k's program. Calling the model gives
the marginal of every Output, `[K, B, *shape, n]`;
`negative_log_likelihood` is the training loss of each restart.

Stock Keras trains it (docs/python-api.md):

    model = NeuralProgram.from_file("ntpt_keras/models/turing.py",
                                    hypers="....json", restarts=8)
    model.compile(optimizer=keras.optimizers.Adam(0.1))
    model.fit(read_terpret(model.program, data_file).dataset().repeat()
              .batch(50), epochs=3, steps_per_epoch=100, callbacks=[...])
    model.restart_results(instances)  # each restart: loss, solved...

`train_step` is `train_restarts`, the step `python -m tf_anc.train
--model_file=...` runs too: the restarts' losses summed, so each restart
gets the gradient of its own. Every batch is checked where it enters
(`_checked`): a missing or unknown name, a wrong shape or dtype, or a value
outside its range is an error naming the Input or Output.
"""

import math
from typing import Dict, List, Mapping, Optional

import keras
import numpy as np
import tensorflow as tf

from ntpt_keras import evaluation
from ntpt_keras import instances as instances_lib
from ntpt_keras import runtime
from ntpt_keras.lang import compiler
from ntpt_keras.lang import listing
from ntpt_keras.lang import program as ir
from ntpt_keras.lang import source
from tf_anc.common import checks
from tf_anc.common import gumbel
from tf_anc.common import optimizers

# Probabilities are clipped here before the log: a hand-set program may give
# an observed value probability 0.
_SMALLEST_PROBABILITY = 1e-30
# Logit of the chosen value when a program is set by hand (`set_params`):
# softmax([50, 0, ...]) is 1 in float32.
HARD_LOGIT = 50.0


def make_network(function: ir.LearnedFunction, name: str) -> keras.Sequential:
  """The Keras network of a learned function (paper, section 2.2)."""
  layers = [keras.Input(shape=(function.input_width,))]
  layers += [keras.layers.Dense(size, activation="relu") for size in
             function.hidden_sizes]
  layers.append(keras.layers.Dense(function.size, activation="softmax"))
  return keras.Sequential(layers, name=name)


@keras.saving.register_keras_serializable(package="ntpt_keras")
class NeuralProgram(keras.Model):
  """The differentiable interpreter of one model file, with K restarts."""

  def __init__(self, program: ir.Program, restarts: int = 1,
               param_init_stddev: float = 1.0, seed: Optional[int] = None,
               networks: Optional[Mapping[str, list]] = None, **kwargs):
    """`networks`: `{function: [one network per restart]}` to use instead of
    new ones, e.g. a neural library shared with other models."""
    super().__init__(**kwargs)
    self.program = program
    self.restarts = restarts
    self.param_init_stddev = param_init_stddev
    self.seed = seed
    self.param_logits = {}
    for declaration in program.learned_params():
      self.param_logits[declaration.name] = self.add_weight(
          name=f"param_{declaration.name}",
          shape=(restarts, *declaration.shape, declaration.size),
          initializer=keras.initializers.RandomNormal(
              stddev=param_init_stddev,
              seed=None if seed is None else seed + len(self.param_logits)),
          trainable=True)
    if seed is not None:  # the networks' initial weights
      keras.utils.set_random_seed(seed)
    networks = networks or {}
    # Only the functions the program calls: one that fixed params rule out
    # would get no gradient.
    self.networks: Dict[str, list] = {}
    for name in program.called_functions():
      function = program.learned_functions[name]
      if name in networks:
        if len(networks[name]) != restarts:
          raise ValueError(f"{len(networks[name])} {name} networks given "
                           f"for {restarts} restarts")
        self.networks[name] = list(networks[name])
      else:
        self.networks[name] = [make_network(function, f"{name}_{restart}")
                               for restart in range(restarts)]
    # Every variable exists now: Keras need not build the model on a batch.
    self.built = True
    self._trackers = {"loss": keras.metrics.Mean(name="loss"),
                      "best_loss": RestartMean(restarts, "min",
                                               name="best_loss"),
                      "best_accuracy": RestartMean(restarts, "max",
                                                   name="best_accuracy")}

  @classmethod
  def from_file(cls, path: str, hypers=None, hypers_config=None,
                text: Optional[str] = None, **kwargs) -> "NeuralProgram":
    """The model of the model file at `path` (or of its source `text`, which
    `path` then names in errors).

    `hypers`: the `Hyper()`s' values `{hyper: value}`, or the path of a
    hypers file (`{config: {hyper: value}}`, its config `hypers_config`,
    default its only one). `kwargs`: the constructor's.
    """
    if isinstance(hypers, str):
      hypers = source.read_hypers(hypers, hypers_config)["values"]
    return cls(compiler.compile_model(path, hypers, text=text), **kwargs)

  def get_config(self):
    return {"model_file": self.program.path, "source": self.program.source,
            "hypers": self.program.hypers, "restarts": self.restarts,
            "param_init_stddev": self.param_init_stddev, "seed": self.seed,
            "name": self.name}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    program = compiler.compile_model(config.pop("model_file"),
                                     config.pop("hypers"),
                                     text=config.pop("source"))
    return cls(program, **config)

  # --- Weights ------------------------------------------------------------

  @property
  def program_variables(self):
    return list(self.param_logits.values())

  @property
  def network_variables(self):
    """Every network's trainable variables, once each (restarts may share
    a network)."""
    distinct = {id(network): network for networks in self.networks.values()
                for network in networks}
    return [v for network in distinct.values()
            for v in network.trainable_variables]

  def checkpointed(self) -> dict:
    """Every variable of the model, for `tf.train.Checkpoint` to hold.

    Keras keeps `param_logits` and `networks` in containers of its own that
    checkpoints do not follow (a checkpoint of the model itself is empty),
    so trainers checkpoint this structure instead: `{"params": {param:
    logits}, "networks": {function: [restart k's network's variables,
    trainable or not]}}`.
    """
    return {"params": dict(self.param_logits),
            "networks": {name: [list(network.variables)
                                for network in networks]
                         for name, networks in self.networks.items()}}

  def param_probabilities(self, gumbel_temperature: Optional[float] = None,
                          seed=None) -> Dict[str, tf.Tensor]:
    """Each Param's distribution over its values, `[K, *shape, n]`.

    softmax(logits), the forward marginals; or, with `gumbel_temperature`
    t, a Gumbel-softmax sample softmax((logits + G) / t), G standard Gumbel
    noise drawn from the stateless `seed` (`[2]` integers): a relaxed draw
    of one program per restart (the Concrete distribution of Maddison et
    al. and Jang et al., 2017): each choice's largest entry falls on a
    value with that value's softmax probability (the Gumbel-max trick).
    """
    if gumbel_temperature is None:
      return {name: tf.nn.softmax(logits) for name, logits in
              self.param_logits.items()}
    return {name: tf.nn.softmax(logits) for name, logits in
            gumbel.relaxed_samples(self.param_logits, gumbel_temperature,
                                   seed).items()}

  def set_params(self, values: Mapping[str, object], restart=None):
    """Sets params to a discrete program (one-hot logits), e.g. by hand."""
    restarts = range(self.restarts) if restart is None else [restart]
    for name, value in values.items():
      logits = self.param_logits[name]
      declaration = self.program.declarations[name]
      chosen = np.asarray(value, dtype=np.int64).reshape(declaration.shape)
      hard = np.eye(declaration.size, dtype=np.float32)[chosen] * HARD_LOGIT
      current = logits.numpy()
      for r in restarts:
        current[r] = hard
      logits.assign(current)

  def discrete_params(self, restart: int) -> Dict[str, object]:
    """Every Param at its argmax (fixed ones at their constant)."""
    result = {}
    probabilities = self.param_probabilities()
    for declaration in self.program.params:
      if declaration.name in probabilities:
        chosen = np.argmax(probabilities[declaration.name][restart].numpy(),
                           axis=-1)
      else:
        chosen = np.zeros(declaration.shape, dtype=np.int64)
      for index in declaration.cells():
        fixed = self.program.fixed_params.get((declaration.name, index))
        if fixed is not None:
          chosen[index] = fixed
      result[declaration.name] = chosen.tolist()
    return result

  def discretize(self, restart: int) -> str:
    """Restart `restart`'s argmax program as source, with probabilities."""
    return listing.listing(self.program, self.discrete_params(restart),
                           self.param_confidences(restart))

  def param_confidences(self, restart: int) -> Dict[str, object]:
    """The probability of each param's argmax (1 for fixed params)."""
    probabilities = self.param_probabilities()
    result = {}
    for declaration in self.program.params:
      if declaration.name in probabilities:
        values = np.max(probabilities[declaration.name][restart].numpy(), -1)
      else:
        values = np.ones(declaration.shape)
      for index in declaration.cells():
        if (declaration.name, index) in self.program.fixed_params:
          values[index] = 1.0
      result[declaration.name] = np.asarray(values).tolist()
    return result

  # --- The interpreter ---------------------------------------------------

  def apply_network(self, function: str, features):
    """`[K|1, N, width]` → `[K, N, n]`, restart k through network k."""
    networks = self.networks[function]
    shared_features = features.shape[0] == 1
    outputs, seen = [], {}
    for restart, network in enumerate(networks):
      if shared_features and id(network) in seen:
        # Restarts sharing one network (and the features): computed once.
        outputs.append(outputs[seen[id(network)]])
        continue
      seen[id(network)] = restart
      outputs.append(network(features[0 if shared_features else restart]))
    return tf.stack(outputs, axis=0)

  def call(self, inputs):
    """The marginal of every Output, `{name: [K, B, *shape, n]}`."""
    return self._evaluate(inputs, self.param_probabilities(),
                          self.apply_network)

  def discrete_outputs(self, inputs):
    """Each restart's discretized program on a batch: `{name: [K, B, *shape]}`.

    Every param at its argmax and every network at the argmax of its
    output, batched in TensorFlow: the values the plain-Python runner gives
    (evaluation.reproduced), at the cost of one model call.
    """
    def hard_network(function, features):
      outputs = self.apply_network(function, features)
      return tf.one_hot(tf.argmax(outputs, axis=-1), outputs.shape[-1])

    marginals = self._evaluate(inputs, self._hard_params(), hard_network)
    return {name: tf.argmax(marginal, axis=-1, output_type=tf.int32)
            for name, marginal in marginals.items()}

  def networks_read(self, inputs) -> Dict[str, tf.Tensor]:
    """`{function: [K] bool}`: whether each restart's discretized program's
    Outputs depend, on this batch, on what the learned function returns.

    Every param at its argmax; the derivative of a random linear function
    of the Outputs' marginals with respect to each network's outputs is
    zero exactly where no value the program uses came through that
    restart's network (an unused read, or one in a branch not taken, is
    weighted by the exact zeros of one-hot params), and nonzero elsewhere
    but on a set of weights of measure zero.
    """
    outputs = {}

    def watched_network(function, features):
      outputs[function] = self.apply_network(function, features)
      tape.watch(outputs[function])
      return outputs[function]

    with tf.GradientTape() as tape:
      marginals = self._evaluate(inputs, self._hard_params(), watched_network)
      functional = tf.add_n([
          tf.reduce_sum(marginal * tf.random.stateless_uniform(
              tf.shape(marginal), seed=[number, 0]))
          for number, marginal in enumerate(marginals.values())])
    derivatives = tape.gradient(functional, outputs)
    unread = tf.zeros([self.restarts], tf.bool)
    return {name: unread if name not in derivatives else tf.reduce_any(
        tf.reshape(derivatives[name], [self.restarts, -1]) != 0, axis=1)
            for name in self.networks}

  def _hard_params(self) -> Dict[str, tf.Tensor]:
    """Every param's distribution at its argmax (one-hot)."""
    return {name: tf.one_hot(tf.argmax(logits, axis=-1), logits.shape[-1])
            for name, logits in self.param_logits.items()}

  def _evaluate(self, inputs, param_probabilities, apply_network):
    inputs = _checked(self.name, "Inputs",
                      self._declarations(ir.INPUT, ir.INPUT_TENSOR), inputs)
    batch_size = _batch_size(inputs)
    return runtime.evaluate(self.program, param_probabilities, inputs,
                            apply_network,
                            tf.stack([self.restarts, batch_size]))

  def _declarations(self, *kinds) -> List[ir.Declaration]:
    return [d for d in self.program.declarations.values() if d.kind in kinds]

  def _checked_observed(self, observed, inputs) -> Dict[str, tf.Tensor]:
    """The observed Outputs of a batch of `inputs`, checked (`_checked`)."""
    return _checked(self.name, "Outputs", self._declarations(ir.OUTPUT),
                    observed,
                    batch_size=_batch_size({
                        name: tf.convert_to_tensor(value)
                        for name, value in inputs.items()}))

  def input_names(self):
    return [d.name for d in self._declarations(ir.INPUT, ir.INPUT_TENSOR)]

  def negative_log_likelihood(self, inputs, observed, **relaxation
                              ) -> tf.Tensor:
    """Per restart `[K]`: the mean over instances of `-sum log P(observed)`.

    `observed[name]` holds the Output's values `[B, *shape]`, -1 where a
    value is unobserved. `relaxation`: `gumbel_temperature` and `seed`, as
    `param_probabilities` takes them.
    """
    return -tf.reduce_mean(self.log_likelihood(inputs, observed,
                                               **relaxation), axis=1)

  def log_likelihood(self, inputs, observed, through_params: bool = True,
                     through_networks: bool = True,
                     gumbel_temperature: Optional[float] = None,
                     seed=None) -> tf.Tensor:
    """`[K, B]`: `sum log P(observed)` of each instance under each restart.

    `through_params` / `through_networks` False: no gradient reaches the
    param logits / the networks' weights. `gumbel_temperature`, `seed`:
    under a Gumbel-softmax sample of the params (`param_probabilities`).
    """
    params = self.param_probabilities(gumbel_temperature, seed)
    if not through_params:
      params = {name: tf.stop_gradient(p) for name, p in params.items()}
    apply_network = self.apply_network
    if not through_networks:
      apply_network = lambda *args: tf.stop_gradient(  # pylint: disable=g-long-lambda
          self.apply_network(*args))
    marginals = self._evaluate(inputs, params, apply_network)
    observed = self._checked_observed(observed, inputs)
    total = 0.0
    for name, marginal in marginals.items():
      values = observed[name]
      mask = tf.cast(values >= 0, tf.float32)
      probability = tf.reduce_sum(
          marginal * runtime.one_hot(tf.maximum(values, 0),
                                     marginal.shape[-1])[None], axis=-1)
      log_probability = tf.math.log(tf.maximum(probability,
                                               _SMALLEST_PROBABILITY))
      total += tf.reduce_sum(
          tf.reshape(log_probability * mask[None],
                     [self.restarts, tf.shape(values)[0], -1]), axis=-1)
    return total


  def shared_networks_loss(self, inputs, observed, **relaxation
                           ) -> tf.Tensor:
    """The loss of restarts that share their networks (a neural library).

    Each restart's params get the gradient of its own negative log
    likelihood, as with `negative_log_likelihood`; the networks get that of
    the mixture of the restarts and chance (a uniform value of every
    observed Output), so that they learn from the restarts that explain an
    example and barely move while none explains it better than chance, as
    a new task's random programs do not. `relaxation`: as
    `negative_log_likelihood` takes it.
    """
    candidates = self.log_likelihood(inputs, observed,
                                     through_networks=False, **relaxation)
    for_networks = self.log_likelihood(inputs, observed,
                                       through_params=False, **relaxation)
    chance = 0.0
    for name, values in observed.items():
      seen = tf.cast(tf.cast(values, tf.int32) >= 0, tf.float32)
      seen = tf.reshape(seen, [tf.shape(seen)[0], -1])
      chance -= tf.reduce_sum(seen, axis=1) * math.log(
          self.program.declarations[name].size)
    mixture = tf.reduce_logsumexp(
        tf.concat([for_networks, chance[None]], axis=0), axis=0) - math.log(
            self.restarts + 1)
    return -(tf.reduce_mean(tf.reduce_sum(candidates, axis=0)) +
             tf.reduce_mean(mixture))

  # --- Training: the CLI's step and Keras' fit ----------------------------

  def train_restarts(self, inputs, observed, groups) -> tf.Tensor:
    """One update of every restart on a batch: the sum of the restarts'
    `negative_log_likelihood`s differentiated, each `(optimizer,
    variables)` group's part applied by its own optimizer. Returns the
    `[K]` losses."""
    with tf.GradientTape() as tape:
      per_restart = self.negative_log_likelihood(inputs, observed)
      # Restarts share no weights: the sum gives each its own gradient.
      loss = tf.reduce_sum(per_restart)
    optimizers.apply_gradients(tape, loss, groups)
    return per_restart

  @property
  def metrics(self):
    return list(self._trackers.values())

  def train_step(self, data):
    inputs, observed = self._unpacked(data)
    per_restart = self.train_restarts(
        inputs, observed,
        [(self.optimizer, self.program_variables + self.network_variables)])
    return self._update_metrics(inputs, observed, per_restart)

  def test_step(self, data):
    inputs, observed = self._unpacked(data)
    return self._update_metrics(
        inputs, observed, self.negative_log_likelihood(inputs, observed))

  def _unpacked(self, data):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
      raise ValueError(f"{self.name}: fit and evaluate take batches "
                       "(inputs, observed outputs), two dicts by name "
                       "(Instances.dataset())")
    return data

  def _update_metrics(self, inputs, observed, per_restart):
    """loss: the restarts' mean loss; best_loss, best_accuracy: the best
    restart's mean loss and share of instances its discretized program
    reproduces (`reproduced`), since the metrics were last reset."""
    reproduced = tf.cast(self.reproduced(inputs, observed), tf.float32)
    batch_size = tf.cast(tf.shape(reproduced)[1], tf.float32)
    self._trackers["loss"].update_state(tf.reduce_mean(per_restart),
                                        sample_weight=batch_size)
    self._trackers["best_loss"].update_state(per_restart, batch_size)
    self._trackers["best_accuracy"].update_state(
        tf.reduce_mean(reproduced, axis=1), batch_size)
    return {name: tracker.result()
            for name, tracker in self._trackers.items()}

  def reproduced(self, inputs, observed) -> tf.Tensor:
    """`[K, B]` bool: does restart k's discretized program give every
    observed Output value of instance b? `evaluation.reproduced`'s answer,
    batched in TensorFlow (`discrete_outputs`)."""
    outputs = self.discrete_outputs(inputs)
    observed = self._checked_observed(observed, inputs)
    right = tf.ones([self.restarts, _batch_size(observed)], tf.bool)
    for name, values in observed.items():
      matches = (outputs[name] == values[None]) | (values[None] < 0)
      right &= tf.reduce_all(tf.reshape(
          matches, [self.restarts, tf.shape(values)[0], -1]), axis=-1)
    return right

  def restart_losses(self, instances: instances_lib.Instances,
                     chunk: int = 500) -> np.ndarray:
    """Each restart's loss on `instances`, `[K]`, `chunk` at a time."""
    total = np.zeros(self.restarts)
    for start in range(0, len(instances), chunk):
      part = instances.take(np.arange(start, min(start + chunk,
                                                 len(instances))))
      total += self.negative_log_likelihood(
          part.inputs, part.outputs).numpy() * len(part)
    return total / len(instances)

  def restart_results(self, instances: instances_lib.Instances
                      ) -> List[dict]:
    """Each restart judged on `instances` as results.json judges it on the
    training instances (`evaluation.restart_results`): `loss`,
    `train_accuracy` (the share its discretized program, run by the
    plain-Python runner, reproduces) and `solved` (all of them).
    `evaluation.best_restart` picks the best."""
    return evaluation.restart_results(self, instances,
                                      self.restart_losses(instances))


class RestartMean(keras.metrics.Metric):
  """Each restart's mean of a value over the batches since the last reset;
  its `result` is the best restart's (`best`: "min" or "max")."""

  def __init__(self, restarts: int, best: str, **kwargs):
    super().__init__(**kwargs)
    self.best = best
    self.total = self.add_variable(shape=(restarts,), initializer="zeros",
                                   name="total")
    self.count = self.add_variable(shape=(), initializer="zeros",
                                   name="count")

  def update_state(self, values, weight):
    """`values` `[K]`: each restart's mean over a batch of `weight`
    instances."""
    self.total.assign_add(tf.cast(values, tf.float32) * weight)
    self.count.assign_add(weight)

  def per_restart(self) -> tf.Tensor:
    return self.total / tf.maximum(self.count, 1.0)

  def result(self):
    reduce = tf.reduce_min if self.best == "min" else tf.reduce_max
    return reduce(self.per_restart())

  def get_config(self):
    return {**super().get_config(), "restarts": int(self.total.shape[0]),
            "best": self.best}


def _batch_size(inputs):
  for value in inputs.values():
    return tf.shape(value)[0]
  raise ValueError("the model has no Input: nothing sets the batch size")


# Inputs and Outputs are values in [0, size); an observed Output may be
# `UNOBSERVED` too.
_LOWEST = {ir.INPUT: 0, ir.OUTPUT: instances_lib.UNOBSERVED}


def _checked(model: str, role: str, declarations, values, batch_size=None
             ) -> Dict[str, tf.Tensor]:
  """`values` `{name: [B, ...]}` of exactly `declarations` (the model's
  `role`, "Inputs" or "Outputs"), as the interpreter reads them: Inputs'
  and Outputs' cell values int32, InputTensors' float32.

  Everything known when tracing is checked then: a missing or unknown name
  or a shape other than the declared one is a ValueError, a dtype that
  cannot hold the values a TypeError, each naming the declaration, what it
  expects and what it was given. The rest is checked as the batch runs
  (inside a tf.function too, before anything reads the values): a value
  outside its range, a float that is not a whole number, batch sizes that
  differ (from `batch_size`, if given, else from the first value's) are an
  InvalidArgumentError saying as much.
  """
  expected = {d.name: d for d in declarations}
  if not isinstance(values, Mapping):
    raise TypeError(f"{model}: the {role} are a dict {{name: values}} of "
                    f"{', '.join(expected)}; got {type(values).__name__}")
  unknown = sorted(set(values) - set(expected))
  missing = [name for name in expected if name not in values]
  if unknown or missing:
    problems = ([f"unknown {', '.join(map(repr, unknown))}"] * bool(unknown) +
                ["missing " + ", ".join(f"{expected[name].kind} {name}"
                                        for name in missing)] * bool(missing))
    raise ValueError(f"{model}: {'; '.join(problems)} (the model's {role} "
                     "are " + ", ".join(_described(d)
                                        for d in expected.values()) + ")")
  checked = {}
  batch_of = "the Inputs"  # what `batch_size`, if given, is the batch of
  for name, declaration in expected.items():
    what = f"{model}: {declaration.kind} {name}"
    value = tf.convert_to_tensor(values[name])
    shape = _declared_shape(declaration)
    if value.shape.rank is not None and not (
        value.shape.rank == len(shape) and
        value.shape.is_compatible_with(shape)):
      raise ValueError(f"{what} has shape {_shape_text(value.shape)}, "
                       f"expected {_shape_text(shape)} (None: the batch)")
    if declaration.kind == ir.INPUT_TENSOR:
      if not value.dtype.is_floating:
        raise TypeError(f"{what} has dtype {value.dtype.name}, expected "
                        "float32 (e.g. intensities in [0, 1])")
    elif not (value.dtype.is_integer or value.dtype.is_floating):
      raise TypeError(f"{what} has dtype {value.dtype.name}, expected "
                      "int32 (cell values)")
    assertions = []
    if not value.shape[1:].is_fully_defined():
      assertions += _shape_assertion(value, shape, what)
    if batch_size is None:
      batch_size, batch_of = tf.shape(value)[0], f"{declaration.kind} {name}"
    else:
      assertions += _assert(
          tf.equal(tf.shape(value)[0], batch_size),
          f"{what}: a batch of {{}} instances, not {{}} as {batch_of}",
          tf.shape(value)[0], batch_size)
    if declaration.kind != ir.INPUT_TENSOR:
      assertions += _range_assertion(value, _LOWEST[declaration.kind],
                                     declaration.size, what)
    with tf.control_dependencies(assertions):
      value = tf.identity(value)
    checked[name] = tf.cast(value, tf.float32 if declaration.kind ==
                            ir.INPUT_TENSOR else tf.int32)
  return checked


def _declared_shape(declaration: ir.Declaration) -> tuple:
  """A batch's shape: `[None, *shape]`, InputTensors' cells `[*size]`."""
  cell = declaration.size if declaration.kind == ir.INPUT_TENSOR else ()
  return (None, *declaration.shape, *cell)


def _described(declaration: ir.Declaration) -> str:
  shape = _shape_text(_declared_shape(declaration))
  if declaration.kind == ir.INPUT_TENSOR:
    return f"{declaration.kind} {declaration.name} float32 {shape}"
  return (f"{declaration.kind} {declaration.name} int32 {shape} in "
          f"[{_LOWEST[declaration.kind]}, {declaration.size})")


def _shape_text(shape) -> str:
  return "[" + ", ".join(str(d) for d in tf.TensorShape(shape)) + "]"


def _shape_assertion(value, shape, what):
  """Checks at run time a shape partly unknown when tracing."""
  actual = tf.shape(value)
  # Padded so that a wrong rank compares unequal rather than failing.
  padded = tf.concat([actual, tf.fill([len(shape)], -1)], 0)[:len(shape)]
  matches = tf.equal(tf.size(actual), len(shape)) & tf.reduce_all(
      tf.equal(padded[1:], tf.constant(shape[1:], tf.int32)))
  return _assert(matches, f"{what} has shape {{}}, expected "
                 f"{_shape_text(shape)}", actual)


def _range_assertion(value, lowest: int, size: int, what: str):
  """Every value in [lowest, size), and whole (a float may hold one)."""
  inside = (value >= lowest) & (value < size)
  if value.dtype.is_floating:
    inside &= tf.equal(value, tf.round(value))
  outside = tf.boolean_mask(tf.reshape(value, [-1]),
                            ~tf.reshape(inside, [-1]))
  # Padded: the op is evaluated when every value is inside, too.
  first_outside = tf.concat([outside, tf.zeros([1], value.dtype)], 0)[0]
  return _assert(tf.reduce_all(inside),
                 f"{what}: every value must be a whole number in "
                 f"[{lowest}, {size}); got {{}}", first_outside)


def _assert(condition, template: str, *values) -> list:
  """`checks.require` of the message `template` with `values` in its `{}`s
  (`tf.strings.format`)."""
  return checks.require(condition, lambda: tf.strings.format(
      template, values, summarize=-1))
