"""Exports a program as a TensorFlow SavedModel that runs without tf_anc.

  directory = export_saved_model(weights, base, max_steps)  # <base>/<n>
  machine = tf.saved_model.load(directory)
  outputs = machine.signatures["serving_default"](memory=memories)

`memories` is `int32[B, M]`, every value in [0, M) (else an
InvalidArgumentError names the first [example, cell] outside it); `outputs` holds
`memory` (`int32[B, M]`, the argmax of each cell), `memory_probabilities`
(`float32[B, M, M]`), `steps` (`int32[B]`) and `halted` (`bool[B]`).
`max_steps` and `eta_stop` are fixed at export. The graph is plain
TensorFlow (no custom ops, no Keras classes to register) with the weights
frozen into constants (no variables), so a process with only TensorFlow can
load it, and so can TF1-style session loaders: `saved_model_cli run` and TF
Serving, which cannot restore Keras 3 variables.

Each export is a new numeric version under `base`, `<base>/1/`, then
`<base>/2/`, ... (`tf_anc.common.serving`), the layout TF Serving's
`--model_base_path` expects; `python -m tf_anc.infer --saved_model=<base>`
runs the newest.

For inspection, `assets.extra/` (TensorFlow's folder for files the graph
does not read) holds the controller weights (`ControllerWeights.load` reads
it back) and, when given, the program text as `program.anc`.
"""

import os

import tensorflow as tf

from tf_anc.common import serving
from tf_anc.common.frozen import Frozen, checked_range
from tf_anc.machine import DEFAULT_ETA_STOP, SoftMachine
from tf_anc.weights import ControllerWeights

SIGNATURE = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY  # serving_default
EXTRA_DIR = "assets.extra"
PROGRAM_FILE = "program.anc"


def _serving_function(machine: SoftMachine):
  """The machine behind a fixed `int32[None, M]` -> outputs signature."""
  size = machine.memory_size

  @tf.function(input_signature=[
      tf.TensorSpec([None, size], tf.int32, name="memory")])
  def serve(memory):
    outputs = machine(checked_range(memory, size, "memory"))
    probabilities = tf.ensure_shape(
        tf.cast(outputs["memory"], tf.float32), [None, size, size])
    return {
        "memory": tf.argmax(probabilities, axis=-1, output_type=tf.int32),
        "memory_probabilities": probabilities,
        "steps": tf.ensure_shape(outputs["steps"], [None]),
        "halted": tf.ensure_shape(outputs["halted"], [None]),
    }

  return serve


def export_saved_model(weights: ControllerWeights, base, max_steps,
                       eta_stop=DEFAULT_ETA_STOP, program_text=None) -> str:
  """Writes the machine running `weights` as the next version under `base`.

  Returns:
    The version folder written, `<base>/<n>`; earlier versions are kept.
  """
  # The plain-TF step: the fused op would tie the SavedModel to its library.
  module = Frozen(_serving_function(SoftMachine.from_weights(
      weights, max_steps, eta_stop=eta_stop, step_impl="tf")),
                  name="anc_machine")

  def write(directory):
    tf.saved_model.save(module, directory,
                        signatures={SIGNATURE: module.serve})
    extra = os.path.join(directory, EXTRA_DIR)
    weights.save(extra)
    if program_text is not None:
      with open(os.path.join(extra, PROGRAM_FILE), "w") as f:
        f.write(program_text)

  return serving.write_version(base, write)
