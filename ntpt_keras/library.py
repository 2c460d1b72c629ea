"""The neural library: learned functions shared across models.

See docs/training.md, "The lifelong experiment".

A library is a directory holding, for each learned function, its signature
(`library.json`: inputs, output size, hidden sizes) and its Keras weights
(`<name>.weights.h5`). Binding a library into a `NeuralProgram` loads the
weights of every function the model declares with the same name into each
restart's network; saving writes one restart's networks back. A model
trained after binding therefore starts from, and improves, the networks
other models use, and is saved as a unit.
"""

import json
import os
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from ntpt_keras.lang import program as ir

_INDEX = "library.json"


class NeuralLibrary:
  """A directory of learned functions."""

  def __init__(self, directory: str):
    self.directory = directory

  def functions(self) -> Dict[str, ir.LearnedFunction]:
    path = os.path.join(self.directory, _INDEX)
    if not os.path.exists(path):
      return {}
    with open(path) as f:
      return {name: ir.LearnedFunction.from_json(name, spec)
              for name, spec in json.load(f).items()}

  def _weights_path(self, name: str) -> str:
    return os.path.join(self.directory, f"{name}.weights.h5")

  def bind(self, model, names: Optional[Iterable[str]] = None) -> List[str]:
    """Loads the library's networks into `model`; returns the names bound."""
    stored = self.functions()
    declared = model.program.learned_functions
    names = [n for n in (names or model.networks) if n in stored]
    for name in names:
      if name not in model.networks:
        raise ValueError(f"the model calls no learned function {name}")
      if stored[name] != declared[name]:
        raise ValueError(
            f"library function {name} is {stored[name].to_json()}, but the "
            f"model declares {declared[name].to_json()}")
      for network in model.networks[name]:
        network.load_weights(self._weights_path(name))
    return names

  def save(self, model, restart: int,
           names: Optional[Iterable[str]] = None) -> List[str]:
    """Writes restart `restart`'s networks (all, or `names`) to the library."""
    return self.save_networks({
        name: (model.program.learned_functions[name],
               model.networks[name][restart])
        for name in (names or model.networks)})

  def save_networks(self, networks: Mapping[str, tuple]) -> List[str]:
    """Writes `{name: (its LearnedFunction, its Keras network)}`."""
    os.makedirs(self.directory, exist_ok=True)
    index = {name: spec.to_json() for name, spec in self.functions().items()}
    for name, (function, network) in networks.items():
      network.save_weights(self._weights_path(name))
      index[name] = function.to_json()
    with open(os.path.join(self.directory, _INDEX), "w") as f:
      json.dump(index, f, indent=1)
    return list(networks)


def check_untrained(tasks: Sequence[str], called: Sequence[Sequence[str]],
                    trained: Sequence[str] = ()) -> None:
  """Raises ValueError if a task, in order, calls two untrained networks.

  `called[i]`: the networks task i calls; `trained`: those trained before
  the first task (e.g. bound from a library). A program choosing between
  two untrained networks sees one large untrained network it cannot split
  into the two (paper, section 4.1).
  """
  trained = set(trained)
  for task, names in zip(tasks, called):
    untrained = [name for name in names if name not in trained]
    if len(untrained) > 1:
      raise ValueError(f"task {task} would bring {len(untrained)} untrained "
                       f"networks ({', '.join(untrained)}); a task may bring "
                       "at most one: fix its choice of network")
    trained.update(names)
