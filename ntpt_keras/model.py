"""A compiled model file as a Keras model: params and learned networks.

`NeuralProgram` holds, for `K` restarts trained side by side, the logits of
every Param (`[K, *shape, n]`) and, for every learned function, one ordinary
Keras network per restart (`keras.Sequential`: ReLU layers of `hid_sizes`,
softmax over the function's range). Restart k's network is shared by every
call site of the function in restart k's program. Calling the model gives
the marginal of every Output, `[K, B, *shape, n]`;
`negative_log_likelihood` is the training loss of each restart.
"""

import math
from typing import Dict, Mapping, Optional

import keras
import numpy as np
import tensorflow as tf

from ntpt_keras import runtime
from ntpt_keras.lang import compiler
from ntpt_keras.lang import listing
from ntpt_keras.lang import program as ir
from tf_anc.common import gumbel

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

  @classmethod
  def from_file(cls, path: str, hypers=None, **kwargs) -> "NeuralProgram":
    return cls(compiler.compile_model(path, hypers), **kwargs)

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
    # Keras may hand ints over as floats (its input autocasting): the
    # Inputs are cell values, used as one-hot indices.
    inputs = {name: (inputs[name] if self.program.declarations[name].kind
                     == ir.INPUT_TENSOR else tf.cast(inputs[name], tf.int32))
              for name in self.input_names()}
    batch_size = _batch_size(inputs)
    return runtime.evaluate(self.program, param_probabilities, inputs,
                            apply_network,
                            tf.stack([self.restarts, batch_size]))

  def input_names(self):
    return [d.name for d in self.program.declarations.values()
            if d.kind in (ir.INPUT, ir.INPUT_TENSOR)]

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
    total = 0.0
    for name, marginal in marginals.items():
      values = tf.cast(observed[name], tf.int32)
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


def _batch_size(inputs):
  for value in inputs.values():
    return tf.shape(value)[0]
  raise ValueError("the model has no Input: nothing sets the batch size")
