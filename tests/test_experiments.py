"""The experiment and benchmark commands produce their tables."""

import json
import os
import subprocess
import sys

import pytest

from tf_anc.experiments import table1
from tf_anc.machine import fused

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def report(successes, iterations):
  restarts = [{"success": success, "accuracy": 1.0 if success else 0.5,
               "mean_iterations": iteration, "interpretability": 1}
              for success, iteration in zip(successes, iterations)]
  return {"distribution": "biased", "generic_mean_iterations": 6.0,
          "restarts": restarts}


def test_table1_row_takes_the_fastest_successful_restart():
  row = table1.summarize("access", report([True, False, True], [5, 3, 4]))
  assert row["learned_iterations"] == 4
  assert row["success_rate"] == 2 / 3
  assert row["paper"]["success"] == 0.37


def test_table1_markdown_puts_ours_beside_the_papers():
  rows = [table1.summarize("access", report([True, False], [4, 6])),
          table1.summarize("swap", report([False], [10]))]
  text = table1.markdown(rows)
  assert "| access | biased | 2 | 6.00 / 6 | 4.00 / 4 | 1 | 4 | 50% / 37% |" in text
  assert "10.00 (no success) / 6" in text
  assert table1.svg_bars(rows).startswith("<svg")


def test_machine_benchmark_prints_and_writes_rows(tmp_path):
  output = tmp_path / "rows.json"
  impls = ["tf", "xla"] + (["fused"] if fused.fused_available() else [])
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.benchmarks.machine",
       "--memory_sizes=5", "--batches=2", "--steps=3", "--min_seconds=0",
       f"--impls={','.join(impls)}", f"--output={output}"],
      capture_output=True, text=True, cwd=REPO, timeout=300, check=True)
  assert "examples/s" in result.stdout
  if "fused" in impls:
    assert "fused/xla" in result.stdout
  rows = json.loads(output.read_text())
  assert [row["impl"] for row in rows] == impls
  assert set(rows[0]) == {"impl", "memory_size", "registers", "steps",
                          "batch", "examples_per_second"}
  assert all(row["examples_per_second"] > 0 for row in rows)


@pytest.mark.skipif(not fused.fused_available(),
                    reason="the fused op library is not built")
def test_machine_benchmark_breakdown_splits_the_fused_call():
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.benchmarks.machine",
       "--memory_sizes=5", "--batches=2", "--steps=3", "--min_seconds=0",
       "--impls=xla,fused", "--breakdown"],
      capture_output=True, text=True, cwd=REPO, timeout=300, check=True)
  line = result.stdout.splitlines()[-1]
  assert "TensorFlow's floor" in line and "op fixed" in line
  assert "3 steps x" in line
  assert "an op of zero cost would be" in line
