"""TensorBoard images of an NTPT model's learned params, restart by restart.

`restart_<k>/params`: one heatmap panel per learned param, a row per cell
(`write[1,0]`; a fixed cell is marked) and a column per value, each row the
cell's distribution over its values (`tf_anc.common.heatmaps`). The NTPT
trainer writes them every `summary_every` steps and at the end, the MATH
trainer at each validation measurement (the last step's included).
"""

from typing import Callable, Iterable, List

from ntpt_keras.model import NeuralProgram
from tf_anc.common import heatmaps


def param_panels(model: NeuralProgram, restart: int
                 ) -> List[heatmaps.Panel]:
  """Restart `restart`'s learned params as heatmap panels."""
  program = model.program
  panels = []
  for name, probabilities in model.param_probabilities().items():
    declaration = program.declarations[name]
    values = probabilities[restart].numpy().reshape(-1, declaration.size)
    rows = []
    for index in declaration.cells():
      label = f"{name}[{','.join(map(str, index))}]" if index else name
      if (name, index) in program.fixed_params:
        label += " (fixed)"
      rows.append(label)
    panels.append(heatmaps.Panel(name, values, rows,
                                 [str(v) for v in range(declaration.size)]))
  return panels


def write_params(model: NeuralProgram, restarts: Iterable[int], step: int,
                 log: Callable[[str], None]):
  """`restart_<k>/params` for each of `restarts`, at `step`."""
  if not model.param_logits:  # every param fixed: nothing learned to show
    return
  for restart in restarts:
    heatmaps.write(f"restart_{restart}/params", param_panels(model, restart),
                   f"restart {restart}, step {step}", step, log)

