"""Neural TerpreT: differentiable interpreters with learned neural functions.

The pipeline, one module per stage:

  model file ──lang.source──▶ tree with hypers bound ──lang.compiler──▶
  lang.program.Program (marginal graph) ──model.NeuralProgram──▶ Keras model
  (runtime: apply / mix / learned) ──training──▶ results.json, library
                                  └──lang.python_runner, evaluation, listing:
                                     the discretized program, run and printed

`instances` reads TerpreT data files and tfds splits; `library` shares
learned functions between models; `lifelong` trains NTPT and neural
baselines on the 2x2 tasks in turn (the paper's lifelong experiment);
`math_task` trains the looping MATH model over the library, with its LSTM
baseline and Figure 8.

The public API (docs/python-api.md, "NTPT"):

    ntpt_keras.NeuralProgram.from_file(path, hypers, restarts=8)  # a Model
    ntpt_keras.read_terpret(program, data_file, batch)  # -> Instances
    ntpt_keras.read_tfds(program, "builder/config", split)  # -> Instances
    ntpt_keras.best_restart(model.restart_results(instances))

These load on first use, so that the command-line tools can answer a bad
flag before TensorFlow loads.
"""

from tf_anc.common import lazy

_PUBLIC = {
    "NeuralProgram": "ntpt_keras.model",
    "Instances": "ntpt_keras.instances",
    "read_terpret": "ntpt_keras.instances",
    "read_tfds": "ntpt_keras.instances",
    "best_restart": "ntpt_keras.evaluation",
}
__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy.exports(__name__, _PUBLIC)
