"""A learned MATH program as a SavedModel over tapes of any length.

`export_saved_model` writes the discretized program with its networks as
the `tf.while_loop` interpreter of `math_task.interpreter`: its
`serving_default` signature takes `tape` (float32 `[B, L, 28, 28]`
intensities, or int32 `[B, L]` symbols in the symbols variant) for any odd
L = 2n - 1 and returns `answer` (int32 `[B]`) and the networks' reads
(`digits`, `operators`, int32 `[B, L]`). Only core TensorFlow ops: loading
it needs neither `ntpt_keras` nor `tf_anc`. The program's source and params
are written to `assets.extra/`.
"""

import tensorflow as tf

from ntpt_keras import export as ntpt_export
from ntpt_keras.math_task import interpreter


def export_saved_model(trainer, restart: int, base: str) -> str:
  """Writes `trainer`'s restart `restart` as the next version under `base`.

  Returns:
    The version folder written, `<base>/<n>`.
  """
  model = trainer.model
  params = model.discrete_params(restart)
  networks = trainer.networks()
  spec = (tf.TensorSpec([None, None, 28, 28], tf.float32, name="tape")
          if networks else tf.TensorSpec([None, None], tf.int32, name="tape"))

  @tf.function(input_signature=[spec])
  def serve(tape):
    digits, operators = interpreter.reads(tape, networks or None)
    return {"answer": interpreter.interpret(params, digits, operators),
            "digits": digits, "operators": operators}

  return ntpt_export.write_saved_model(serve, model, restart, base)

