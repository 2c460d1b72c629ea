"""The controller: four linear maps from the instruction register to a command.

`e = softmax(IR @ W_e)`, `a = softmax(IR @ W_a)`, `b = softmax(IR @ W_b)`,
`o = softmax(IR @ W_o)` (paper section 3.2), plus the learnable initial
register and instruction-register logits.
"""

import keras
import numpy as np
import tensorflow as tf

from tf_anc import isa
from tf_anc.machine.step import Command, MachineState
from tf_anc.weights import ControllerWeights

# (attribute, shape as a function of (M, R)); the order of ControllerWeights.
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
  """Holds the program as logits; flat (uniform) until weights are set."""

  def __init__(self, memory_size, register_names, **kwargs):
    super().__init__(**kwargs)
    self.memory_size = int(memory_size)
    self.register_names = tuple(register_names)

  @property
  def num_registers(self):
    return len(self.register_names)

  def build(self, input_shape=None):
    for name, shape in _WEIGHT_SHAPES:
      setattr(self, name, self.add_weight(
          name=name, shape=shape(self.memory_size, self.num_registers),
          initializer="zeros"))
    super().build(input_shape)

  def call(self, instruction_register):
    def select(logits):
      return tf.nn.softmax(tf.matmul(instruction_register, logits), axis=-1)
    return Command(instruction=select(self.instruction_logits),
                   first_argument=select(self.first_argument_logits),
                   second_argument=select(self.second_argument_logits),
                   output=select(self.output_logits))

  def initial_state(self, memory):
    """Machine state at t = 0 for a batch of memory distributions [B, M, M]."""
    batch = tf.shape(memory)[0]
    registers = tf.nn.softmax(self.initial_register_logits, axis=-1)
    instruction_register = tf.nn.softmax(self.initial_ir_logits, axis=-1)
    return MachineState(
        memory=memory,
        registers=tf.tile(registers[None], [batch, 1, 1]),
        instruction_register=tf.tile(instruction_register[None], [batch, 1]),
        halting_probability=tf.zeros([batch], memory.dtype))

  def set_controller_weights(self, weights: ControllerWeights):
    if (weights.memory_size != self.memory_size or
        weights.num_registers != self.num_registers):
      raise ValueError(
          f"weights for M = {weights.memory_size} and {weights.num_registers} "
          f"registers do not fit a controller for M = {self.memory_size} and "
          f"{self.num_registers} registers")
    if not self.built:
      self.build()
    for name, _ in _WEIGHT_SHAPES:
      getattr(self, name).assign(getattr(weights, name))

  def controller_weights(self) -> ControllerWeights:
    arrays = {name: np.asarray(getattr(self, name).numpy())
              for name, _ in _WEIGHT_SHAPES}
    return ControllerWeights(register_names=self.register_names, **arrays)

  def get_config(self):
    config = super().get_config()
    config.update(memory_size=self.memory_size,
                  register_names=list(self.register_names))
    return config
