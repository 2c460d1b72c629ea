"""The fused op library is built for this machine, or cleanly not at all.

tf_anc.kernels.build compiles ops/*.cc into a per-user cache with the first
instruction-set flags that compile; when nothing compiles, tf_anc.kernels.load
logs one line and the soft machine runs its plain-TF loop.
"""

import json
import logging
import os
import platform
import subprocess
import sys

import pytest
import tensorflow as tf

from tf_anc import kernels
from tf_anc.machine import fused
from tf_anc.kernels import build
from tests.test_fused_run import assert_runs_listk, listk_machine

# Compiles in a fraction of a second, unlike the ops (TF's headers): for
# the tests of how flags are chosen. It refuses to compile with -DBREAK.
_TINY_SOURCE = """
#ifdef BREAK
#error broken on purpose by -DBREAK
#endif
int tf_anc_answer() { return 42; }
"""


@pytest.fixture
def cache(monkeypatch, tmp_path):
  """An empty library cache, and a load() that has not run yet."""
  monkeypatch.setenv(build.CACHE_ENV, str(tmp_path / "cache"))
  monkeypatch.delenv(kernels.LIBRARY_ENV, raising=False)
  monkeypatch.delenv(fused.ENV_VAR, raising=False)
  kernels.load.cache_clear()
  yield tmp_path / "cache"
  kernels.load.cache_clear()


@pytest.fixture
def tiny_sources(tmp_path):
  directory = tmp_path / "tiny"
  directory.mkdir()
  (directory / "tiny.cc").write_text(_TINY_SOURCE)
  return directory


@pytest.fixture
def compiler_works():
  """Skips a test that compiles when the compiler cannot (e.g. CXX=false)."""
  if not build.compiler_accepts(build.compiler(), []):
    pytest.skip(f"{build.compiler()} does not compile here")


@pytest.fixture
def failing_compiler(monkeypatch, cache):
  monkeypatch.setenv("CXX", "false")
  return cache


def test_the_library_builds_with_the_picked_flags_and_loads(compiler_works,
                                                            tmp_path):
  del compiler_works
  output = tmp_path / build.LIBRARY_NAME
  manifest = build.build(output)
  assert manifest["isa_flags"] == build.isa_candidates()[0]
  assert json.loads((tmp_path / build.MANIFEST_NAME).read_text()) == manifest
  # A fresh process: this one may have registered the ops already, and
  # TensorFlow gives a second library of the same ops no wrappers.
  loaded = subprocess.run(
      [sys.executable, "-c", "import sys, tensorflow as tf; print(*sorted("
       "name for name in dir(tf.load_op_library(sys.argv[1])) if "
       "name.startswith('anc_') and not name.endswith('_fallback')))",
       str(output)], capture_output=True, text=True, check=True, timeout=300)
  assert loaded.stdout.split() == ["anc_checked_cells", "anc_discrete_run",
                                   "anc_fma_peak", "anc_machine_run",
                                   "anc_machine_run_grad",
                                   "anc_one_hot_cells",
                                   "anc_program_search",
                                   "anc_restart_indices",
                                   "anc_restart_softmax",
                                   "anc_restart_softmax_grad"]


def test_tfs_eigen_compiles_with_the_flags_picked_for_an_avx512_fp16_cpu(
    compiler_works, tmp_path):
  del compiler_works
  # GCC 12 fails on TF 2.21's Eigen/src/Core/arch/AVX512/PacketMathFP16.h
  # when AVX512-FP16 is on, as -march=native turns it on for Sapphire
  # Rapids and later: such a CPU, named instead of this one's.
  cxx = build.compiler()
  march = ["-march=sapphirerapids"]
  if (platform.machine().lower() not in ("x86_64", "amd64") or
      not build.compiler_accepts(cxx, march)):
    pytest.skip("needs an x86-64 compiler that knows Sapphire Rapids")
  source = tmp_path / "eigen.cc"
  source.write_text('#include "Eigen/Core"\n'
                    "float f(float x) { return Eigen::numext::exp(x); }\n")
  _, compile_flags, _ = build.tensorflow_flags()
  flags = build.isa_candidates(cxx, march="sapphirerapids")[0]
  result = subprocess.run(
      cxx + flags + compile_flags + ["-c", str(source), "-o",
                                     str(tmp_path / "eigen.o")],
      capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-2000:]


def test_the_last_candidate_is_the_compilers_default():
  assert build.isa_candidates()[-1] == []


def test_a_candidate_that_fails_to_compile_falls_back_to_the_next(
    compiler_works, monkeypatch, tmp_path, tiny_sources):
  del compiler_works
  monkeypatch.setattr(build, "isa_candidates",
                      lambda cxx=None: [["-DBREAK"], []])
  manifest = build.build(tmp_path / "out" / "tiny.so", tiny_sources)
  assert manifest["isa_flags"] == []
  assert "broken on purpose" in (tmp_path / "out" / build.LOG_NAME).read_text()


def test_when_every_candidate_fails_the_error_is_one_line_with_the_cause(
    compiler_works, monkeypatch, tmp_path, tiny_sources):
  del compiler_works
  monkeypatch.setattr(build, "isa_candidates", lambda cxx=None: [["-DBREAK"]])
  with pytest.raises(build.BuildError) as error:
    build.build(tmp_path / "tiny.so", tiny_sources)
  assert "broken on purpose" in str(error.value)
  assert str(tmp_path / build.LOG_NAME) in str(error.value)
  assert "\n" not in str(error.value)


def test_a_missing_compiler_is_named(monkeypatch, tmp_path, tiny_sources):
  monkeypatch.setenv("CXX", "no-such-compiler-here")
  with pytest.raises(build.BuildError, match=r"no C\+\+ compiler.*no-such"):
    build.build(tmp_path / "tiny.so", tiny_sources)


def test_the_cache_key_changes_with_the_sources(tmp_path, tiny_sources):
  before = build.build_key(tiny_sources)
  (tiny_sources / "tiny.cc").write_text(_TINY_SOURCE + "// changed\n")
  assert build.build_key(tiny_sources) != before


def test_a_failed_build_falls_back_to_the_plain_machine_with_one_line(
    failing_compiler, caplog):
  del failing_compiler
  with caplog.at_level(logging.WARNING):
    assert fused.resolve_step_impl() == "tf"
  notices = [record.getMessage() for record in caplog.records
             if "not built" in record.getMessage()]
  assert len(notices) == 1
  assert "`false` failed" in notices[0]
  assert "plain-TF machine" in notices[0]
  assert_runs_listk(listk_machine())


def test_a_failed_build_is_not_retried_on_every_load(failing_compiler,
                                                      caplog):
  del failing_compiler
  assert kernels.load() is None
  kernels.load.cache_clear()
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    assert kernels.load() is None
  messages = [record.getMessage() for record in caplog.records]
  assert not any("compiling" in message for message in messages)
  assert len([message for message in messages if "not built" in message]) == 1


def test_the_build_command_retries_a_failed_build(failing_compiler, capsys):
  del failing_compiler
  assert kernels.load() is None
  assert build.main([]) == 1
  assert "`false` failed" in capsys.readouterr().err


def test_an_optional_build_that_fails_says_so_in_one_line_and_exits_0(
    failing_compiler, capsys):
  del failing_compiler
  assert build.main(["--optional"]) == 0
  error = capsys.readouterr().err.strip()
  assert error.startswith("tf_anc: the fused machine op is not built")
  assert "\n" not in error


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built here")
def test_a_library_named_by_the_environment_is_loaded(monkeypatch, tmp_path):
  # The suite's own: Bazel's, or the one in the user's cache.
  library = os.environ.get(kernels.LIBRARY_ENV) or build.ensure_built()
  monkeypatch.setenv(build.CACHE_ENV, str(tmp_path))
  monkeypatch.setenv(kernels.LIBRARY_ENV, str(library))
  kernels.load.cache_clear()
  try:
    assert kernels.load() is not None
  finally:
    kernels.load.cache_clear()
  assert not list(tmp_path.iterdir())  # nothing built


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built here")
def test_the_multiply_add_peak_is_a_rate_on_the_run_ops_vectors():
  rate, lanes = kernels.fma_peak(seconds=0.05)
  assert lanes in (4, 8, 16)  # SSE or NEON, AVX, AVX-512
  # Any CPU that runs TensorFlow does far more than 10^8 a second.
  assert 1e8 < rate < 1e12


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built here")
@pytest.mark.parametrize("seconds", [-1.0, 61.0, float("nan")])
def test_a_peak_measured_for_a_negative_or_endless_time_is_refused(seconds):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"seconds must be in \[0, 60\]"):
    kernels.fma_peak(seconds=seconds)
