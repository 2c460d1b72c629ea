"""How good is each restart's program? Accuracy, speed, interpretability.

A learned program *succeeds* (paper section 5.2) when every masked cell's
argmax equals the target on every test example and its mean steps are below
the generic program's. Every masked cell must be right twice: in the final
memory (the paper's test) and in the memory at halting (the steps' memories
weighted by the probability of halting there, `memory_at_halting`), so
that a machine whose halting probability nearly stops it before the work
is done (a collapse into early halting) is not counted as a faster program.
"""

from typing import NamedTuple

import numpy as np

from tf_anc.lang.decompiler import decompile
from tf_anc.machine import discrete

# Runs (restarts times examples) of a machine call while scoring: the
# fused op keeps each run's steps for a gradient, whether one follows or not.
_RUNS_PER_CALL = 2 ** 13


def generic_steps(program, inputs, max_steps):
  """Steps of the discrete generic program on every input."""
  return discrete.run([program], inputs, max_steps).steps[0]


def correct(memories, targets, masks):
  """Per example: are all masked cells right?"""
  return np.all((memories == targets) | ~masks, axis=-1)


class SoftScores(NamedTuple):
  """Each restart's scores as its soft machine runs: `[K]` arrays."""
  accuracy: np.ndarray  # the final memory right
  halted_accuracy: np.ndarray  # the memory at halting right
  mean_steps: np.ndarray

  def right(self):
    """`[K]` bool: right on every example, at the end and at halting."""
    return (self.accuracy == 1.0) & (self.halted_accuracy == 1.0)


def soft_scores(machine, inputs, targets, masks):
  """Each restart's `SoftScores`, every restart on the same examples."""
  num_restarts = machine.num_restarts
  batch_size = max(1, _RUNS_PER_CALL // num_restarts)
  memories, halted_memories, steps = [], [], []
  for start in range(0, len(inputs), batch_size):
    chunk = inputs[start:start + batch_size]
    outputs = machine(np.broadcast_to(chunk, (num_restarts,) + chunk.shape),
                      halting_mixture=True)
    memories.append(np.argmax(outputs["memory"], axis=-1))
    halted_memories.append(np.argmax(outputs["memory_at_halting"], axis=-1))
    steps.append(outputs["steps"].numpy())

  def accuracy(memories):
    memories = np.concatenate(memories, axis=1)
    return np.mean(correct(memories, targets[None], masks[None]), axis=1)

  return SoftScores(accuracy(memories), accuracy(halted_memories),
                    np.mean(np.concatenate(steps, axis=1), axis=1))


def _discrete_scores(programs, inputs, targets, masks, max_steps):
  """(accuracy, mean steps) of each of `programs` on the discrete machine,
  all run in one batch: two `[len(programs)]` arrays."""
  if not programs:
    return np.zeros([0]), np.zeros([0])
  runs = discrete.run(programs, inputs, max_steps)
  return (np.mean(correct(runs.memories, targets[None], masks[None]), axis=1),
          np.mean(runs.steps, axis=1))


def discrete_scores(machine, inputs, targets, masks):
  """Each restart's (accuracy, mean steps) as its argmax program (the
  decompiled one) runs on the discrete machine: `[K]` arrays."""
  programs = [decompile(machine.controller.controller_weights(restart)).program
              for restart in range(machine.num_restarts)]
  return _discrete_scores(programs, inputs, targets, masks, machine.max_steps)


def evaluate_restarts(machine, inputs, targets, masks, generic_mean_steps,
                      diverged=None, scores=None):
  """One dict per restart of `machine` (a SoftMachine with num_restarts).

  Every restart runs on the same test examples. Beside the soft machine's
  own accuracy and steps, the decompiled argmax program is run on the
  discrete machine: where the two agree the printed program is the learned
  one. A restart marked in `diverged` (`[K]` bool: its loss or weights
  became non-finite) is neither run nor decompiled: it counts as wrong,
  at T_max steps, with no program. `scores`: the restarts' `soft_scores`
  on these examples, when already computed.
  """
  if scores is None:
    scores = soft_scores(machine, inputs, targets, masks)
  live = [restart for restart in range(machine.num_restarts)
          if diverged is None or not diverged[restart]]
  decompiled = {restart: decompile(
      machine.controller.controller_weights(restart)) for restart in live}
  discrete_accuracy, discrete_mean_steps = (
      dict(zip(live, values)) for values in _discrete_scores(
          [decompiled[restart].program for restart in live], inputs,
          targets, masks, machine.max_steps))
  results = []
  for restart in range(machine.num_restarts):
    if restart not in decompiled:
      results.append({
          "restart": restart, "diverged": True, "accuracy": 0.0,
          "halted_accuracy": 0.0, "mean_steps": float(machine.max_steps),
          "mean_iterations": float(machine.max_steps) + 1,
          "success": False, "interpretability": None, "program": None,
          "discrete_accuracy": 0.0,
          "discrete_mean_steps": float(machine.max_steps)})
      continue
    accuracy = float(scores.accuracy[restart])
    halted_accuracy = float(scores.halted_accuracy[restart])
    mean_steps = float(scores.mean_steps[restart])
    results.append({
        "restart": restart,
        "diverged": False,
        "accuracy": accuracy,
        "halted_accuracy": halted_accuracy,
        "mean_steps": mean_steps,
        "mean_iterations": mean_steps + 1,
        "success": (accuracy == 1.0 and halted_accuracy == 1.0 and
                    mean_steps < generic_mean_steps),
        "interpretability": decompiled[restart].interpretability,
        "program": decompiled[restart].text,
        "discrete_accuracy": float(discrete_accuracy[restart]),
        "discrete_mean_steps": float(discrete_mean_steps[restart]),
    })
  return results


def best_restart(results):
  """The successful restart with the fewest steps, else the most accurate."""
  return min(results, key=lambda r: (not r["success"], -r["accuracy"],
                                     r["mean_steps"]))["restart"]


class Export(NamedTuple):
  """The model to serve: a restart's soft machine, or (`argmax_program`)
  its argmax program compiled exactly."""
  restart: int
  argmax_program: bool


def exported_restart(soft, discrete, generic_mean_steps, diverged=None):
  """The model to export, or None for the compiled generic program.

  `soft`: each restart's `SoftScores`; `discrete`: each restart's
  (accuracies, mean steps) as its argmax program runs (`discrete_scores`).
  Of every one that is right on every example (a soft machine at the end
  and at halting) and faster than the generic program, the fastest; at
  equal speed the argmax program, which runs exactly (interpretability
  level 1). Without one, the generic program: an exported model is never
  slower or less accurate than the program it was compiled from. A
  restart marked in `diverged` is never exported.
  """
  discrete_accuracies, discrete_steps = discrete
  discrete_right = np.asarray(discrete_accuracies) == 1.0
  candidates = [(steps, not argmax_program, restart)
                for argmax_program, rights, mean_steps in (
                    (False, soft.right(), soft.mean_steps),
                    (True, discrete_right, discrete_steps))
                for restart, (right, steps) in enumerate(
                    zip(rights, mean_steps))
                if right and steps < generic_mean_steps and
                not (diverged is not None and diverged[restart])]
  if not candidates:
    return None
  _, soft_machine, restart = min(candidates)
  return Export(restart, argmax_program=not soft_machine)
