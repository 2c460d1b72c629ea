"""How good is each restart's program? Accuracy, speed, interpretability.

A learned program *succeeds* (paper section 5.2) when every masked cell's
argmax equals the target on every test example and its mean steps are below
the generic program's.
"""

import numpy as np

from tf_anc import reference
from tf_anc.lang.decompiler import decompile


def generic_steps(program, inputs, max_steps):
  """Steps of the discrete generic program on every input."""
  return np.array([reference.run(program, memory, max_steps).steps
                   for memory in inputs])


def correct(memories, targets, masks):
  """Per example: are all masked cells right?"""
  return np.all((memories == targets) | ~masks, axis=-1)


def soft_scores(machine, inputs, targets, masks, batch_size=1000):
  """Each restart's (accuracy, mean steps) as the soft machine runs it:
  `[K]` arrays, every restart on the same examples."""
  num_restarts = machine.num_restarts
  memories, steps = [], []
  for start in range(0, len(inputs), batch_size):
    chunk = inputs[start:start + batch_size]
    outputs = machine(np.broadcast_to(chunk, (num_restarts,) + chunk.shape))
    memories.append(np.argmax(outputs["memory"], axis=-1))
    steps.append(outputs["steps"].numpy())
  memories = np.concatenate(memories, axis=1)
  accuracy = np.mean(correct(memories, targets[None], masks[None]), axis=1)
  return accuracy, np.mean(np.concatenate(steps, axis=1), axis=1)


def evaluate_restarts(machine, inputs, targets, masks, generic_mean_steps):
  """One dict per restart of `machine` (a SoftMachine with num_restarts).

  Every restart runs on the same test examples. Beside the soft machine's
  own accuracy and steps, the decompiled argmax program is run on the
  discrete machine: where the two agree the printed program is the learned
  one.
  """
  accuracies, steps = soft_scores(machine, inputs, targets, masks)
  results = []
  for restart in range(machine.num_restarts):
    accuracy = float(accuracies[restart])
    mean_steps = float(steps[restart])
    decompiled = decompile(machine.controller.controller_weights(restart))
    discrete = [reference.run(decompiled.program, memory, machine.max_steps)
                for memory in inputs]
    discrete_memories = np.array([execution.memory for execution in discrete])
    results.append({
        "restart": restart,
        "accuracy": accuracy,
        "mean_steps": mean_steps,
        "mean_iterations": mean_steps + 1,
        "success": accuracy == 1.0 and mean_steps < generic_mean_steps,
        "interpretability": decompiled.interpretability,
        "program": decompiled.text,
        "discrete_accuracy": float(np.mean(
            correct(discrete_memories, targets, masks))),
        "discrete_mean_steps": float(np.mean(
            [execution.steps for execution in discrete])),
    })
  return results


def best_restart(results):
  """The successful restart with the fewest steps, else the most accurate."""
  return min(results, key=lambda r: (not r["success"], -r["accuracy"],
                                     r["mean_steps"]))["restart"]


def exported_restart(accuracies, mean_steps, generic_mean_steps):
  """The restart to export, or None for the compiled generic program.

  The fastest restart that is right on every example and faster than the
  generic program on them (scores from `soft_scores`); without one, the
  generic program: an exported model is never slower or less accurate
  than the program it was compiled from.
  """
  candidates = [restart for restart, (accuracy, steps) in
                enumerate(zip(accuracies, mean_steps))
                if accuracy == 1.0 and steps < generic_mean_steps]
  return min(candidates, key=lambda restart: mean_steps[restart],
             default=None)
