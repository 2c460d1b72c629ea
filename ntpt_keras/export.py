"""A trained NTPT model as a SavedModel that plain TensorFlow can serve.

`export_saved_model` writes one restart: its `serving_default` signature
takes the model's Inputs (int32 `[B, *shape]`) and InputTensors (float32
`[B, *shape, *size]`) by name and returns, per Output, its distribution
(`<name>_probabilities`, `[B, *shape, n]`) and argmax (`<name>`, int32).
The graph uses only core TensorFlow ops, so loading it needs neither
`ntpt_keras` nor `tf_anc`. The program's listing and params are written to
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
    marginals = single(dict(zip(names, args)))
    outputs = {}
    for name, marginal in marginals.items():
      outputs[f"{name}_probabilities"] = marginal[0]
      outputs[name] = tf.argmax(marginal[0], axis=-1, output_type=tf.int32)
    return outputs

  # The networks sit in dicts the tracking of tf.Module does not look into:
  # hand it every variable the function captures.
  return write_saved_model(serve, single.weights, model, restart, base)


def write_saved_model(serve, variables, model: NeuralProgram, restart: int,
                      base: str) -> str:
  """`serve` (a `tf.function`) and the `variables` it captures as the next
  version under `base`, `model`'s restart `restart`'s program beside it in
  `assets.extra/`; returns the version folder."""
  module = tf.Module()
  module.variables_used = [v.value for v in variables]
  module.serve = serve

  def write(directory):
    tf.saved_model.save(module, directory,
                        signatures={"serving_default": serve})
    extra = os.path.join(directory, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    with open(os.path.join(extra, "program.txt"), "w") as f:
      f.write(model.discretize(restart))
    with open(os.path.join(extra, "params.json"), "w") as f:
      json.dump(model.discrete_params(restart), f)

  return serving.write_version(base, write)
