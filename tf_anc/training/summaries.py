"""TensorBoard summaries: loss terms, evaluation, controllers, programs."""

import numpy as np
import tensorflow as tf

# Pixels per matrix entry in the controller images.
_CELL_PIXELS = 8

CONTROLLER_MATRICES = (
    ("instruction", "instruction_logits"),
    ("first_argument", "first_argument_logits"),
    ("second_argument", "second_argument_logits"),
    ("output", "output_logits"),
)


def write_training(step, loss, terms, examples_per_second):
  """Scalars of one logged training step (means over restarts and batch)."""
  tf.summary.scalar("loss/total", loss, step=step)
  for name, value in terms.items():
    tf.summary.scalar(f"loss/{name}", value, step=step)
  tf.summary.scalar("speed/examples_per_second", examples_per_second,
                    step=step)


def controller_image(logits):
  """Rows of softmax probabilities as a grayscale image, like Figure 2c."""
  shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
  probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
  pixels = np.kron(probabilities, np.ones([_CELL_PIXELS, _CELL_PIXELS]))
  return (1.0 - pixels)[None, :, :, None].astype(np.float32)  # dark = likely


def write_evaluation(step, results, controller_weights):
  """Per-restart accuracy, steps, controller images and decompiled code.

  Args:
    step: the training step.
    results: `evaluation.evaluate_restarts` output.
    controller_weights: a ControllerWeights per restart.
  """
  tf.summary.scalar("eval/success_count",
                    sum(result["success"] for result in results), step=step)
  tf.summary.scalar("eval/best_accuracy",
                    max(result["accuracy"] for result in results), step=step)
  for result, weights in zip(results, controller_weights):
    if result["diverged"]:  # non-finite weights: nothing to show
      continue
    prefix = f"restart_{result['restart']}"
    tf.summary.scalar(f"{prefix}/accuracy", result["accuracy"], step=step)
    tf.summary.scalar(f"{prefix}/mean_steps", result["mean_steps"], step=step)
    for name, field in CONTROLLER_MATRICES:
      tf.summary.image(f"{prefix}/controller/{name}",
                       controller_image(getattr(weights, field)), step=step)
    tf.summary.text(f"{prefix}/program",
                    "```\n" + result["program"] + "```", step=step)
