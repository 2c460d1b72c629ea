"""The controller: four linear maps from the instruction register to a command.

`e = softmax(IR @ W_e)`, `a = softmax(IR @ W_a)`, `b = softmax(IR @ W_b)`,
`o = softmax(IR @ W_o)` (paper section 3.2), plus the learnable initial
register and instruction-register logits.

Every weight has a leading restarts axis of size K: K independent programs
trained side by side in one graph. The machine's batch is restart-major
(example `k * B + i` is example i of restart k), so the step itself never
needs to know about restarts.
"""

import keras
import numpy as np
import tensorflow as tf

from tf_anc import isa
from tf_anc import kernels
from tf_anc.common import gumbel
from tf_anc.machine.step import Command, MachineState
from tf_anc.weights import ControllerWeights

# (attribute, shape as a function of (M, R)); the fields of ControllerWeights.
_WEIGHT_SHAPES = (
    ("instruction_logits", lambda m, r: (m, isa.NUM_INSTRUCTIONS)),
    ("first_argument_logits", lambda m, r: (m, r)),
    ("second_argument_logits", lambda m, r: (m, r)),
    ("output_logits", lambda m, r: (m, r)),
    ("initial_register_logits", lambda m, r: (r, m)),
    ("initial_ir_logits", lambda m, r: (m,)),
)


@keras.saving.register_keras_serializable(package="tf_anc")
class Controller(keras.layers.Layer):
  """Holds K programs as logits; flat (uniform) until weights are set."""

  def __init__(self, memory_size, register_names, num_restarts=1, **kwargs):
    super().__init__(**kwargs)
    self.memory_size = int(memory_size)
    self.register_names = tuple(register_names)
    self.num_restarts = int(num_restarts)

  @property
  def num_registers(self):
    return len(self.register_names)

  def build(self, input_shape=None):
    for name, shape in _WEIGHT_SHAPES:
      setattr(self, name, self.add_weight(
          name=name,
          shape=(self.num_restarts,) + shape(self.memory_size,
                                             self.num_registers),
          initializer="zeros"))
    super().build(input_shape)

  def program_logits(self, gumbel_temperature=None, seed=None):
    """The logits the machine runs on, by weight name: the weights
    themselves, or with `gumbel_temperature` a Gumbel-softmax sample of
    every choice, (logits + G) / t, G drawn from the stateless `seed`
    (`[2]` integers; tf_anc.common.gumbel)."""
    if not self.built:
      self.build()
    logits = {name: getattr(self, name) for name, _ in _WEIGHT_SHAPES}
    if gumbel_temperature is None:
      return logits
    return gumbel.relaxed_samples(logits, gumbel_temperature, seed)

  def call(self, instruction_register, logits=None):
    """[K * B, M] instruction registers -> a Command for each example.

    `logits`: what `program_logits` returns (default: the weights)."""
    logits = logits or self.program_logits()
    per_restart = tf.reshape(instruction_register,
                             [self.num_restarts, -1, self.memory_size])

    def select(name):
      probabilities = tf.nn.softmax(
          tf.einsum("kbm,kmn->kbn", per_restart, logits[name]), axis=-1)
      return tf.reshape(probabilities, [-1, logits[name].shape[-1]])

    return Command(instruction=select("instruction_logits"),
                   first_argument=select("first_argument_logits"),
                   second_argument=select("second_argument_logits"),
                   output=select("output_logits"))

  def initial_state(self, memory, logits=None, fused=False):
    """Machine state at t = 0 for memory distributions [K * B, M, M];
    `logits` as `call` takes them. `fused`: with the fused op library's
    softmax (tf_anc.kernels.restart_softmax), one op each way where the
    TF ops below are about 20 forward and 25 backward."""
    logits = logits or self.program_logits()
    examples_per_restart = tf.shape(memory)[0] // self.num_restarts

    def per_example(logits):
      if fused:
        return kernels.restart_softmax(logits, examples_per_restart)
      # softmax, spelled out: TF's oneDNN softmax kernel costs about 0.1 ms
      # a call on these few values, a tenth of a whole fused ListK run.
      values = tf.exp(logits - tf.reduce_logsumexp(logits, axis=-1,
                                                   keepdims=True))
      values = values[:, None]  # [K, 1, ...]
      per_restart = logits.shape[1:].as_list()
      tiled = tf.broadcast_to(
          values, [self.num_restarts, examples_per_restart] + per_restart)
      return tf.reshape(tiled, [-1] + per_restart)

    return MachineState(
        memory=memory,
        registers=per_example(logits["initial_register_logits"]),
        instruction_register=per_example(logits["initial_ir_logits"]),
        halting_probability=tf.zeros(tf.shape(memory)[:1], memory.dtype))

  def set_controller_weights(self, weights: ControllerWeights, restart=None):
    """Loads `weights` into one restart, or into all of them (None)."""
    if (weights.memory_size != self.memory_size or
        weights.num_registers != self.num_registers):
      raise ValueError(
          f"weights for M = {weights.memory_size} and {weights.num_registers} "
          f"registers do not fit a controller for M = {self.memory_size} and "
          f"{self.num_registers} registers")
    if not self.built:
      self.build()
    for name, _ in _WEIGHT_SHAPES:
      variable, value = getattr(self, name), getattr(weights, name)
      if restart is None:
        variable.assign(np.broadcast_to(value, variable.shape))
      else:
        variable[restart].assign(value)

  def controller_weights(self, restart=0) -> ControllerWeights:
    arrays = {name: np.asarray(getattr(self, name)[restart].numpy())
              for name, _ in _WEIGHT_SHAPES}
    return ControllerWeights(register_names=self.register_names, **arrays)

  def get_config(self):
    config = super().get_config()
    config.update(memory_size=self.memory_size,
                  register_names=list(self.register_names),
                  num_restarts=self.num_restarts)
    return config
