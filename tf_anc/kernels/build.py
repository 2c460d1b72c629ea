"""Builds the fused machine op library (ops/*.cc) for the machine it runs on.

  python -m tf_anc.kernels.build [--output=PATH] [--optional]

The library is compiled against the installed TensorFlow, with its own
flags (`tf.sysconfig`: the official guide's `-std=c++14` and ABI 0 no
longer link), into a per-user cache: `$TF_ANC_CACHE_DIR` (default
`$XDG_CACHE_HOME/tf_anc`, else `~/.cache/tf_anc`), under `ops/<key>/`. The
key hashes everything the binary depends on — the sources, TensorFlow's
version and flags, the compiler and the CPU — so a cache shared between
machines or kept across upgrades never hands out a stale or foreign library.

`tf_anc.kernels.load()` builds the library there on first use
(`ensure_built`), under a file lock so that concurrent processes build it
once; a failed build is recorded and not retried on every load. This
command builds it ahead of time (`make install` runs it) and retries a
failed build. With `--optional` a failed build prints one line and exits 0:
everything runs without the op, on the plain-TF machine.

Instruction sets (`isa_candidates`): the first set of flags that compiles
wins. On x86-64 that is `-march=native` (FMA; with AVX-512, 16 examples per
vector instead of AVX's 8, ops/vector_ops.h) less AVX-512 FP16, whose
intrinsics TF 2.21's bundled Eigen headers fail to compile under GCC 12;
then AVX2 + FMA where the CPU has them; then the compiler's defaults.
"""

import argparse
import concurrent.futures
import hashlib
import importlib.resources
import json
import logging
import os
import pathlib
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile

LIBRARY_NAME = "_machine_ops.so"
MANIFEST_NAME = "build.json"
FAILURE_NAME = "build-failed.txt"
LOG_NAME = "build.log"
CACHE_ENV = "TF_ANC_CACHE_DIR"

# -O3 vectorises the kernels' loops; -fopenmp-simd lets it reorder the sums
# marked `#pragma omp simd` (no OpenMP runtime); -ffp-contract=fast fuses
# a * b + c into one FMA (TF's -std=c++17 turns that off).
OPTIMIZATION = ["-O3", "-fopenmp-simd", "-ffp-contract=fast"]
# Warnings that TF's own headers raise, and GCC's note that vectors passed
# by value have another ABI with AVX (the whole library has the same flags).
QUIET = ["-Wno-deprecated-declarations", "-Wno-interference-size",
         "-Wno-psabi"]
# Instruction sets the CPU may have that TF's headers trip over (see above).
EXCLUDED_ISA = ["-mno-avx512fp16"]


class BuildError(Exception):
  """The library cannot be built here; the message is one line saying why."""


def source_dir() -> pathlib.Path:
  """The op sources shipped with the package (tf_anc/kernels/sources -> ops/)."""
  return pathlib.Path(str(importlib.resources.files(__package__) /
                          "sources"))


def cache_dir() -> pathlib.Path:
  """Where built libraries live: $TF_ANC_CACHE_DIR, else the XDG cache."""
  if os.environ.get(CACHE_ENV):
    return pathlib.Path(os.environ[CACHE_ENV])
  xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
  return pathlib.Path(xdg) / "tf_anc"


def compiler() -> list:
  """The C++ compiler command: $CXX (e.g. "ccache g++"), else c++."""
  return shlex.split(os.environ.get("CXX") or "c++")


def _run(command, **kwargs) -> subprocess.CompletedProcess:
  return subprocess.run(command, capture_output=True, text=True,
                        check=False, **kwargs)


def _compiler_version(cxx) -> str:
  try:
    result = _run(cxx + ["--version"])
  except OSError:
    return "missing"
  return (result.stdout.splitlines() or ["unknown"])[0]


def compiler_accepts(cxx, flags) -> bool:
  """Whether the compiler knows `flags` (preprocessing an empty file)."""
  try:
    return _run(cxx + flags + ["-x", "c++", "-E", "-o", os.devnull,
                               os.devnull]).returncode == 0
  except OSError:
    return False


def _cpu_features() -> set:
  """The CPU's feature flags as Linux lists them (empty elsewhere)."""
  try:
    with open("/proc/cpuinfo") as cpuinfo:
      for line in cpuinfo:
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
          return set(value.split())
  except OSError:
    pass
  return set()


def isa_candidates(cxx=None, march="native") -> list:
  """Instruction-set flags to try, the fastest first, the last always safe.

  `march` is the x86-64 target: this CPU, unless a test names another.
  """
  cxx = cxx or compiler()
  machine = platform.machine().lower()
  if machine in ("x86_64", "amd64"):
    native = [f"-march={march}"] + (
        EXCLUDED_ISA if compiler_accepts(cxx, EXCLUDED_ISA) else [])
    fallbacks = ([["-mavx2", "-mfma"]]
                 if {"avx2", "fma"} <= _cpu_features() else [])
    return [native] + fallbacks + [[]]
  if machine in ("aarch64", "arm64"):
    return [["-mcpu=native"], []]
  return [[]]


def _sources(directory) -> list:
  sources = sorted(pathlib.Path(directory).glob("*.cc"))
  if not sources:
    raise BuildError(f"no op sources (*.cc) in {directory}")
  return sources


def tensorflow_flags():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return (tf.__version__, tf.sysconfig.get_compile_flags(),
          tf.sysconfig.get_link_flags())


def build_key(directory=None) -> str:
  """A digest of everything the library depends on (see the module doc)."""
  directory = directory or source_dir()
  cxx = compiler()
  digest = hashlib.sha256()
  for path in sorted(pathlib.Path(directory).iterdir()):
    if path.suffix in (".cc", ".h"):
      digest.update(path.name.encode() + path.read_bytes())
  version, compile_flags, link_flags = tensorflow_flags()
  identity = [version, compile_flags, link_flags, cxx,
              _compiler_version(cxx), platform.machine(),
              sorted(_cpu_features()), OPTIMIZATION, QUIET]
  digest.update(json.dumps(identity).encode())
  return digest.hexdigest()[:16]


def library_dir(directory=None) -> pathlib.Path:
  """The cache folder of the library for these sources on this machine."""
  return cache_dir() / "ops" / build_key(directory)


def _failure(result: subprocess.CompletedProcess) -> str:
  """Why a compiler command failed, in one line: its first error."""
  lines = [line.strip() for line in (result.stdout + result.stderr)
           .splitlines() if line.strip()]
  errors = [line for line in lines if "error" in line.lower()]
  line = (errors or lines or [f"exit status {result.returncode}, no "
                              "message"])[0]
  return line if len(line) <= 240 else line[:237] + "..."


def _run_logged(commands, log):
  """Runs `commands` side by side, logging each; the first failure or None."""
  workers = max(1, min(len(commands), os.cpu_count() or 1))
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    results = list(pool.map(_run, commands))
  for command, result in zip(commands, results):
    log.write(f"$ {shlex.join(command)}\n{result.stdout}{result.stderr}")
  failures = [_failure(result) for result in results if result.returncode]
  return failures[0] if failures else None


def _compile(cxx, sources, output, isa, log):
  """Compiles `sources` with `isa` flags into `output`.

  Returns:
    None on success, else the first failure's one-line description.

  Each translation unit compiles in its own process, side by side (TF's
  headers make each take seconds), then one command links them.
  """
  _, compile_flags, link_flags = tensorflow_flags()
  flags = ["-fPIC"] + OPTIMIZATION + isa + QUIET + compile_flags
  with tempfile.TemporaryDirectory() as objects:
    object_files = [os.path.join(objects, source.stem + ".o")
                    for source in sources]
    failure = _run_logged(
        [cxx + flags + ["-c", str(source), "-o", object_file]
         for source, object_file in zip(sources, object_files)], log)
    return failure or _run_logged(
        [cxx + ["-shared", "-o", str(output)] + object_files + link_flags],
        log)


def build(output, directory=None) -> dict:
  """Compiles every op source into the library `output`.

  Tries `isa_candidates()` in turn and keeps the first that builds. Writes
  the compiler's output to `output`'s folder's build.log.

  Returns:
    The manifest, also written beside `output` as build.json: the
    instruction-set flags used, the compiler, TensorFlow's version.

  Raises:
    BuildError: no compiler, or every candidate failed; says why in a line.
  """
  directory = directory or source_dir()
  sources = _sources(directory)
  cxx = compiler()
  if shutil.which(cxx[0]) is None:
    raise BuildError(f"no C++ compiler: `{cxx[0]}` is not on PATH "
                     "(set CXX to one)")
  output = pathlib.Path(output)
  output.parent.mkdir(parents=True, exist_ok=True)
  # Written next to the target, then renamed: a process that has the old
  # library loaded keeps a consistent file.
  partial = output.with_name(output.stem + ".partial" + output.suffix)
  log_path = output.parent / LOG_NAME
  with open(log_path, "w") as log:
    failures = []
    for isa in isa_candidates(cxx):
      log.write(f"# instruction-set flags: {shlex.join(isa) or '(none)'}\n")
      failures.append(_compile(cxx, sources, partial, isa, log))
      if failures[-1] is None:
        break
    else:
      # The first candidate's error: the later ones differ only in flags.
      raise BuildError(f"`{shlex.join(cxx)}` failed: {failures[0]}; "
                       f"log: {log_path}")
  os.replace(partial, output)
  manifest = {"isa_flags": isa, "compiler": cxx,
              "compiler_version": _compiler_version(cxx),
              "tensorflow": tensorflow_flags()[0]}
  (output.parent / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
  return manifest


def ensure_built(retry_failed=False) -> pathlib.Path:
  """The cached library for this machine, built first if it is missing.

  Holds a lock on the cache folder while it looks and builds, so two
  processes starting at once build it once. A failed build is recorded
  there; later calls raise the recorded error at once, without compiling,
  unless `retry_failed`.

  Raises:
    BuildError: the library cannot be built here; says why in one line.
  """
  import fcntl  # pylint: disable=g-import-not-at-top  # POSIX only
  folder = library_dir()
  folder.mkdir(parents=True, exist_ok=True)
  library, failure = folder / LIBRARY_NAME, folder / FAILURE_NAME
  with open(folder / ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if library.exists():
      return library
    if failure.exists() and not retry_failed:
      raise BuildError(failure.read_text().strip())
    logging.warning("tf_anc: compiling the fused machine op for this "
                    "machine into %s (once; a minute or less)", folder)
    try:
      build(library)
    except BuildError as error:
      failure.write_text(f"{error}\n")
      raise
    failure.unlink(missing_ok=True)
    return library


def not_built_notice(error: BuildError) -> str:
  """The one line that says the op is not built, why, and what runs instead."""
  return (f"tf_anc: the fused machine op is not built ({error}); running "
          "the plain-TF machine (`python -m tf_anc.kernels.build` retries)")


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--output", help="build the library here instead of "
                      "in the cache (e.g. for TF_ANC_OP_LIBRARY)")
  parser.add_argument("--optional", action="store_true",
                      help="if the build fails, say so in one line and "
                      "exit 0: tf_anc runs without the op")
  args = parser.parse_args(argv)
  try:
    if args.output:
      build(args.output)
      path = args.output
    else:
      path = ensure_built(retry_failed=True)
  except BuildError as error:
    print(not_built_notice(error), file=sys.stderr)
    return 0 if args.optional else 1
  manifest = json.loads((pathlib.Path(path).parent / MANIFEST_NAME)
                        .read_text())
  print(f"tf_anc: fused machine op library {path} "
        f"({shlex.join(manifest['isa_flags']) or 'default instruction set'})")
  return 0


if __name__ == "__main__":
  sys.exit(main())
