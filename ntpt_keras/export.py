"""A trained NTPT model as a SavedModel that plain TensorFlow can serve.

`export_saved_model` writes one restart: its `serving_default` signature
takes the model's Inputs (int32 `[B, *shape]`, each value in [0, size):
else an InvalidArgumentError names the input, the first index outside and
its value) and InputTensors (float32 `[B, *shape, *size]`) by name and returns, per Output, its distribution
(`<name>_probabilities`, `[B, *shape, n]`) and argmax (`<name>`, int32).
The graph uses only core TensorFlow ops and holds its weights as
constants, so loading it needs neither `ntpt_keras` nor `tf_anc`, and
TF1-style loaders (`saved_model_cli run`, TF Serving) load it too. The program's listing and params are written to
`assets.extra/` beside it.

Each export is a new numeric version under its base folder, `<base>/1/`,
then `<base>/2/`, ... (`tf_anc.common.serving`), the layout TF Serving's
`--model_base_path` expects.
"""

import json
import os

import tensorflow as tf

from ntpt_keras.lang import program as ir
from ntpt_keras.model import NeuralProgram
from tf_anc.common import serving
from tf_anc.common.frozen import Frozen, checked_range


def single_restart(model: NeuralProgram, restart: int) -> NeuralProgram:
  """A one-restart copy of `model`'s restart `restart`."""
  single = NeuralProgram(model.program, restarts=1)
  for name, logits in model.param_logits.items():
    single.param_logits[name].assign(logits[restart:restart + 1])
  for name, networks in model.networks.items():
    single.networks[name][0].set_weights(networks[restart].get_weights())
  return single


def export_saved_model(model: NeuralProgram, restart: int, base: str) -> str:
  """Writes restart `restart` of `model` as the next version under `base`.

  Returns:
    The version folder written, `<base>/<n>`; earlier versions are kept.
  """
  single = single_restart(model, restart)
  program = model.program
  names = single.input_names()
  specs = []
  for name in names:
    declaration = program.declarations[name]
    if declaration.kind == ir.INPUT_TENSOR:
      specs.append(tf.TensorSpec([None, *declaration.shape,
                                  *declaration.size], tf.float32, name=name))
    else:
      specs.append(tf.TensorSpec([None, *declaration.shape], tf.int32,
                                 name=name))

  @tf.function(input_signature=specs)
  def serve(*args):
    args = [checked_range(value, declaration.size, name)
            if declaration.kind != ir.INPUT_TENSOR else value
            for name, value, declaration in zip(
                names, args, (program.declarations[n] for n in names))]
    marginals = single(dict(zip(names, args)))
    outputs = {}
    for name, marginal in marginals.items():
      outputs[f"{name}_probabilities"] = marginal[0]
      outputs[name] = tf.argmax(marginal[0], axis=-1, output_type=tf.int32)
    return outputs

  return write_saved_model(serve, model, restart, base)


def write_saved_model(serve, model: NeuralProgram, restart: int,
                      base: str) -> str:
  """`serve` (a `tf.function` with an input signature, returning a dict),
  its variables frozen into constants (`tf_anc.common.frozen`: TF Serving's
  loader cannot restore Keras 3 variables), as the next version under
  `base`, `model`'s restart `restart`'s program beside it in
  `assets.extra/`; returns the version folder."""
  module = Frozen(serve)

  def write(directory):
    tf.saved_model.save(module, directory,
                        signatures={"serving_default": module.serve})
    extra = os.path.join(directory, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    with open(os.path.join(extra, "program.txt"), "w") as f:
      f.write(model.discretize(restart))
    with open(os.path.join(extra, "params.json"), "w") as f:
      json.dump(model.discrete_params(restart), f)

  return serving.write_version(base, write)
