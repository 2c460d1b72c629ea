"""Scoring discretized programs: "solved" and "test accuracy".

See docs/ntpt-language.md, "Semantics".

A restart's discretized program (every param at its argmax, every learned
function at the argmax of its network) is run by the plain-Python runner on
each instance; an instance is reproduced when every observed Output value
comes out exactly. A restart is solved when it reproduces every training
instance; test accuracy is the share of test instances it reproduces.
"""

from typing import Dict, List, Mapping

import numpy as np

from ntpt_keras.instances import UNOBSERVED, Instances
from ntpt_keras.lang import program as ir
from ntpt_keras.lang import python_runner

# Images per network call when scoring.
_CHUNK = 4096


def network_predictions(model, restart: int, instances: Instances
                        ) -> Dict[tuple, np.ndarray]:
  """Argmax of each network on every cell of each tensor array it reads.

  Keys are (function, tensor array); values `[N, *array shape]`. Computed
  in one batch per key, so the runner only looks them up.
  """
  program = model.program
  predictions = {}
  for node in program.nodes:
    if not (isinstance(node, ir.LearnApply) and len(node.args) == 1
            and node.args[0][0] == "tensor"):
      continue
    key = (node.function, node.args[0][1].name)
    if key in predictions:
      continue
    declaration = program.declarations[key[1]]
    images = instances.inputs[key[1]]
    flat = images.reshape(-1, int(np.prod(declaration.size)))
    network = model.networks[node.function][restart]
    probabilities = np.concatenate([
        network(flat[start:start + _CHUNK]).numpy()
        for start in range(0, len(flat), _CHUNK)])
    predictions[key] = np.argmax(probabilities, axis=-1).reshape(
        (len(images),) + declaration.shape)
  return predictions


def _implementations(model, restart, predictions, number):
  """The learned functions of one instance, as the runner calls them."""
  implementations = {}
  for name, networks in model.networks.items():
    function = model.program.learned_functions[name]
    network = networks[restart]

    def implementation(*args, name=name, function=function, network=network):
      if len(args) == 1 and isinstance(args[0], python_runner.TensorInput):
        tensor = args[0]
        return predictions[(name, tensor.name)][number][tensor.index]
      features = [np.ravel(a.data) if isinstance(a, python_runner.TensorInput)
                  else np.eye(size)[a]
                  for a, size in zip(args, _input_sizes(function))]
      return int(np.argmax(network(np.concatenate(features)[None])[0]))

    implementations[name] = implementation
  return implementations


def _input_sizes(function: ir.LearnedFunction):
  return [int(np.prod(i.shape)) if isinstance(i, ir.TensorType) else i
          for i in function.inputs]


def instance_inputs(instances: Instances, number: int) -> Dict[str, object]:
  return {name: (values[number] if values.dtype.kind == "f"
                 else values[number].tolist())
          for name, values in instances.inputs.items()}


def reproduced(model, restart: int, instances: Instances,
               params: Mapping[str, object] = None) -> np.ndarray:
  """Per instance: does restart's discretized program reproduce it?"""
  params = params if params is not None else model.discrete_params(restart)
  runner = python_runner.Runner(model.program)
  predictions = network_predictions(model, restart, instances)
  result = np.zeros(len(instances), dtype=bool)
  for number in range(len(instances)):
    try:
      outputs = runner(params, instance_inputs(instances, number),
                       _implementations(model, restart, predictions, number))
    except python_runner.RunError:
      continue  # e.g. a discretized program that reads an unset cell
    result[number] = all(
        _matches(np.asarray(outputs[name]), expected[number])
        for name, expected in instances.outputs.items())
  return result


def _matches(actual: np.ndarray, expected: np.ndarray) -> bool:
  observed = expected != UNOBSERVED
  return bool(np.all(actual[observed] == expected[observed]))


def learned_accuracy(model, restart: int, instances: Instances,
                     labels: Mapping[str, str]) -> Dict[str, float]:
  """Accuracy of the networks on labelled tensor cells.

  `labels` maps a tensor array to the extra feature holding its cells'
  classes (e.g. `img_grid` → `signs`); returns `{"LOOK/img_grid": acc}`.
  """
  predictions = network_predictions(model, restart, instances)
  return {f"{function}/{tensor}": float(np.mean(
      predicted == instances.extras[labels[tensor]]))
          for (function, tensor), predicted in predictions.items()
          if tensor in labels}


def restart_results(model, train: Instances, losses) -> List[dict]:
  """Per restart: loss, train accuracy and whether it is solved."""
  results = []
  for restart in range(model.restarts):
    train_hits = reproduced(model, restart, train)
    results.append({
        "restart": restart,
        "loss": float(losses[restart]),
        "train_accuracy": float(np.mean(train_hits)),
        "solved": bool(np.all(train_hits)),
    })
  return results


def best_restart(results: List[dict]) -> int:
  """Solved first, then by training accuracy, then by loss."""
  return min(results, key=lambda r: (not r["solved"], -r["train_accuracy"],
                                     r["loss"]))["restart"]
