"""Neural TerpreT: differentiable interpreters with learned neural functions.

The pipeline, one module per stage:

  model file ──lang.source──▶ tree with hypers bound ──lang.compiler──▶
  lang.program.Program (marginal graph) ──model.NeuralProgram──▶ Keras model
  (runtime: apply / mix / learned) ──training──▶ results.json, library
                                  └──lang.python_runner, evaluation, listing:
                                     the discretized program, run and printed

`data` reads TerpreT data files and tfds splits; `library` shares learned
functions between models; `lifelong` trains NTPT and neural baselines on
the 2x2 tasks in turn (the paper's lifelong experiment); `math_task` trains
the looping MATH model over the library, with its LSTM baseline and
Figure 8.
"""
