"""Runs a `.anc` program on the soft machine (or the discrete one).

  python -m tf_anc.run --program=FILE.anc --memory_size=M --input=3,1,4
      [--max_steps=N] [--sharpness=S] [--discrete]
  python -m tf_anc.run --program=FILE.anc --memory_size=M --inputs_file=F.json

Prints `{"memory": [...], "steps": n, "halted": true}` for `--input` (cells
not given are 0), or a JSON list of such objects, in order, for
`--inputs_file` (a JSON list of memories, run as one batch). The soft
machine's memory is the argmax of each cell's distribution.
"""

from absl import flags
import numpy as np

from tf_anc import lang
from tf_anc import memory_flags
from tf_anc import reference
from tf_anc.common import cli
from tf_anc.lang.compiler import DEFAULT_SHARPNESS, compile_program

_PROGRAM = flags.DEFINE_string("program", None, "The .anc file to run.",
                               required=True)
_MEMORY_SIZE = flags.DEFINE_integer(
    "memory_size", None, "M: memory cells and representable values.",
    lower_bound=1, required=True)
_MEMORIES = memory_flags.MemoryFlags()
_MAX_STEPS = flags.DEFINE_integer("max_steps", 100, "T_max.", lower_bound=1)
_SHARPNESS = flags.DEFINE_float(
    "sharpness", DEFAULT_SHARPNESS, "Scale of the compiled one-hot logits.")
_ETA_STOP = flags.DEFINE_float(
    "eta_stop", 0.9, "Halting threshold of the soft machine.",
    lower_bound=0.0, upper_bound=1.0)
_DISCRETE = flags.DEFINE_bool(
    "discrete", False, "Run the discrete reference machine instead.")


def _run_soft(program, memories):
  # Imported here: TensorFlow takes seconds to load and --discrete needs none.
  cli.import_tensorflow()
  from tf_anc.machine import SoftMachine  # pylint: disable=g-import-not-at-top
  machine = SoftMachine.from_weights(
      compile_program(program, _SHARPNESS.value), _MAX_STEPS.value,
      eta_stop=_ETA_STOP.value)
  outputs = machine(np.asarray(memories, np.int32))
  cells = np.argmax(outputs["memory"].numpy(), axis=-1)
  return [memory_flags.result(*run) for run in
          zip(cells, outputs["steps"].numpy(), outputs["halted"].numpy())]


def _run_discrete(program, memories):
  executions = [reference.run(program, memory, _MAX_STEPS.value)
                for memory in memories]
  return [memory_flags.result(execution.memory, execution.steps, execution.halted)
          for execution in executions]


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  memory_size = _MEMORY_SIZE.value
  program = lang.load_program(_PROGRAM.value, memory_size)
  memories = _MEMORIES.read(memory_size)
  run_machine = _run_discrete if _DISCRETE.value else _run_soft
  _MEMORIES.print_results(run_machine(program, memories))


if __name__ == "__main__":
  cli.run(main)
