"""Compiles the fused machine op library from ops/*.cc.

  python -m tf_anc.ops.build [--output=PATH]

`make install` runs this after installing the package; setup.py runs it too
when TensorFlow is importable at build time. The flags are exactly TF's own
(`tf.sysconfig`): the official guide's `-std=c++14` and ABI 0 no longer link.
"""

import argparse
import glob
import os
import platform
import subprocess
import sys

LIBRARY_NAME = "_machine_ops.so"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.join(os.path.dirname(os.path.dirname(_PACKAGE_DIR)),
                          "ops")
DEFAULT_OUTPUT = os.path.join(_PACKAGE_DIR, LIBRARY_NAME)
# -O3 vectorises the kernels' loops; -fopenmp-simd lets it reorder the sums
# marked `#pragma omp simd` (no OpenMP runtime); -ffp-contract=fast fuses
# a * b + c into one FMA (TF's -std=c++17 turns that off). The library is
# compiled on the machine that runs it (make install, setup.py), so on
# x86-64 it uses that CPU's whole instruction set: FMA, and with AVX-512 16
# examples per vector instead of AVX's 8 (ops/vector_ops.h).
OPTIMIZATION = ["-O3", "-fopenmp-simd", "-ffp-contract=fast"] + (
    ["-march=native"]
    if platform.machine().lower() in ("x86_64", "amd64") else [])


def compile_command(sources, output, include_dir):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  compiler = os.environ.get("CXX", "c++")
  # Silences warnings that TF's own headers raise, and GCC's note that
  # vectors passed by value have another ABI with AVX (all of the library is
  # compiled with the same flags).
  quiet = ["-Wno-deprecated-declarations", "-Wno-interference-size",
           "-Wno-psabi"]
  return ([compiler, "-shared", "-fPIC", f"-I{include_dir}"] + OPTIMIZATION +
          quiet +
          sorted(sources) + ["-o", output] +
          tf.sysconfig.get_compile_flags() + tf.sysconfig.get_link_flags())


def build(output=DEFAULT_OUTPUT, source_dir=SOURCE_DIR):
  """Compiles every ops/*.cc into one shared library at `output`."""
  sources = glob.glob(os.path.join(source_dir, "*.cc"))
  if not sources:
    raise FileNotFoundError(f"no op sources (*.cc) in {source_dir}")
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  # Write next to the target, then rename: a process that has the old
  # library loaded keeps a consistent file.
  root, extension = os.path.splitext(output)
  partial = root + ".partial" + extension  # .so: ignored by git
  # The sources include their headers as "ops/<name>.h", as Bazel does.
  include_dir = os.path.dirname(os.path.abspath(source_dir))
  subprocess.run(compile_command(sources, partial, include_dir), check=True)
  os.replace(partial, output)
  return output


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--output", default=DEFAULT_OUTPUT)
  args = parser.parse_args(argv)
  print(f"built {build(args.output)}")


if __name__ == "__main__":
  sys.exit(main())
