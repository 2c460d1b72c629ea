"""Compiles a `.anc` program into controller weights.

  python -m tf_anc.compile FILE.anc --memory_size=M [--output=DIR]

Prints the IR listing and the weight shapes, and writes the weights
(`controller.npz`, `registers.json`) to DIR (default: `<name>.weights`).
"""

import os

from absl import flags

from tf_anc import lang
from tf_anc.common import cli
from tf_anc.lang.compiler import DEFAULT_SHARPNESS, compile_program

_MEMORY_SIZE = flags.DEFINE_integer(
    "memory_size", None, "M: memory cells and representable values.",
    lower_bound=1, required=True)
_OUTPUT = flags.DEFINE_string(
    "output", None, "Directory for the weights (default: <name>.weights).")
_SHARPNESS = flags.DEFINE_float(
    "sharpness", DEFAULT_SHARPNESS, "Scale of the compiled one-hot logits.")


def main(argv):
  if len(argv) != 2:
    raise cli.UsageError("expected exactly one program file, e.g. "
                         "`python -m tf_anc.compile programs/listk.anc "
                         "--memory_size=20`")
  path = argv[1]
  program = lang.load_program(path, _MEMORY_SIZE.value)
  weights = compile_program(program, _SHARPNESS.value)
  print(program.listing())
  print("weights:")
  for name, shape in weights.shapes().items():
    print(f"  {name:<24s} {list(shape)}")
  output = _OUTPUT.value or (
      os.path.splitext(os.path.basename(path))[0] + ".weights")
  weights.save(output)
  print(f"wrote {output}")


if __name__ == "__main__":
  cli.run(main)
