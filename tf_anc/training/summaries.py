"""TensorBoard summaries of an ANC run: losses, scores, controllers, programs.

Tags, all in `model_dir`'s run:

- `loss/<term>`, `speed/examples_per_second`: every logged step;
- `restart_<k>/accuracy`, `restart_<k>/mean_steps` (the soft machine on the
  evaluation's test examples) and `restart_<k>/controller` (the controller
  as Figure 2c's four heatmaps, for the first `imaged_restarts` restarts):
  every `summary_every` steps and at the end;
- `eval/success_count`, `eval/best_accuracy`, `restart_<k>/program` (the
  decompiled text) and `program/learned_beside_given` (the best restart's
  program beside the one the run compiled): at the end;
- the HParams dashboard's settings and metrics (`tf_anc.common.hparams`).
"""

from typing import Callable, Dict, List

import numpy as np
import tensorflow as tf

from tf_anc import isa
from tf_anc.common import heatmaps
from tf_anc.lang.decompiler import decompile
from tf_anc.weights import ControllerWeights

# Figure 2c's four matrices: a panel title and ControllerWeights' field.
CONTROLLER_MATRICES = (
    ("instruction", "instruction_logits"),
    ("first\nargument (x)", "first_argument_logits"),
    ("second\nargument (y)", "second_argument_logits"),
    ("output", "output_logits"),
)


def write_training(step, loss, terms, examples_per_second):
  """Scalars of one logged training step (means over restarts and batch)."""
  tf.summary.scalar("loss/total", loss, step=step)
  for name, value in terms.items():
    tf.summary.scalar(f"loss/{name}", value, step=step)
  tf.summary.scalar("speed/examples_per_second", examples_per_second,
                    step=step)


def _softmax(logits):
  shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return shifted / shifted.sum(axis=-1, keepdims=True)


def controller_panels(weights: ControllerWeights) -> List[heatmaps.Panel]:
  """The controller's four matrices as heatmap panels: a row per program
  line, labelled with its number and its most likely statement; a column
  per instruction (the first panel) or register (the other three)."""
  statements = decompile(weights).statements
  rows = [f"{row}: {statement}" for row, statement in enumerate(statements)]
  columns = {"instruction_logits": [i.name for i in isa.INSTRUCTIONS]}
  return [heatmaps.Panel(title, _softmax(getattr(weights, field)), rows,
                         columns.get(field, weights.register_names))
          for title, field in CONTROLLER_MATRICES]


def write_controllers(step: int, weights: Dict[int, ControllerWeights],
                      log: Callable[[str], None]):
  """`restart_<k>/controller`: restart k's heatmaps, for each restart
  `weights` holds (`{k: its ControllerWeights}`)."""
  for restart, restart_weights in weights.items():
    heatmaps.write(f"restart_{restart}/controller",
                   controller_panels(restart_weights),
                   f"restart {restart}, step {step}", step, log)


def write_scores(step: int, accuracy, mean_steps, restarts):
  """`restart_<k>/accuracy` and `restart_<k>/mean_steps` of the `restarts`
  (`[K]` arrays of every restart's)."""
  for restart in restarts:
    tf.summary.scalar(f"restart_{restart}/accuracy", accuracy[restart],
                      step=step)
    tf.summary.scalar(f"restart_{restart}/mean_steps", mean_steps[restart],
                      step=step)


def write_evaluation(step, results, controller_weights, imaged_restarts,
                     log: Callable[[str], None]):
  """Per-restart accuracy, steps and decompiled code; the controller
  heatmaps of the first `imaged_restarts` restarts that did not diverge.

  Args:
    step: the training step.
    results: `evaluation.evaluate_restarts` output.
    controller_weights: a ControllerWeights per restart.
    imaged_restarts: how many restarts' controllers to draw.
    log: where a missing matplotlib is said.
  """
  tf.summary.scalar("eval/success_count",
                    sum(result["success"] for result in results), step=step)
  tf.summary.scalar("eval/best_accuracy",
                    max(result["accuracy"] for result in results), step=step)
  live = [result["restart"] for result in results if not result["diverged"]]
  write_scores(step, [r["accuracy"] for r in results],
               [r["mean_steps"] for r in results], live)
  for restart in live:
    tf.summary.text(f"restart_{restart}/program",
                    "```\n" + results[restart]["program"] + "```", step=step)
  write_controllers(step, {restart: controller_weights[restart]
                           for restart in live[:imaged_restarts]}, log)
