"""An exported NTPT model serves in plain TensorFlow."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from ntpt_keras.export import export_saved_model
from ntpt_keras.lang import compiler
from ntpt_keras.lang import source
from ntpt_keras.model import NeuralProgram
from tests.test_export import saved_model_cli

DATA = "ntpt_keras/models/instances"

_SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
tape = tf.constant(json.loads(sys.argv[2]), tf.int32)
outputs = serve(initial_tape=tape)
assert not any(m.split(".")[0] in ("ntpt_keras", "tf_anc")
               for m in sys.modules), "imported the project"
print(json.dumps({name: value.numpy().tolist()
                  for name, value in outputs.items()}))
"""


def turing_model():
  hypers = source.read_hypers(f"{DATA}/turing_invert_hypers.json", None)
  program = compiler.compile_model("ntpt_keras/models/turing.py",
                                   hypers["values"])
  return NeuralProgram(program, restarts=2, seed=4)


def test_the_exported_restart_serves_without_the_project(tmp_path):
  model = turing_model()
  tapes = np.random.default_rng(0).integers(0, 3, [6, 5])
  expected = model({"initial_tape": tapes})
  directory = export_saved_model(model, 1, str(tmp_path / "saved_model"))
  result = subprocess.run(
      [sys.executable, "-c", _SERVE, directory, json.dumps(tapes.tolist())],
      capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
  assert result.returncode == 0, result.stderr
  served = json.loads(result.stdout)
  np.testing.assert_allclose(served["final_tape_probabilities"],
                             expected["final_tape"][1], atol=1e-6)
  np.testing.assert_array_equal(
      served["final_tape"], np.argmax(expected["final_tape"][1], -1))
  with open(os.path.join(directory, "assets.extra", "program.txt")) as f:
    assert f.read() == model.discretize(1)


def test_exports_to_one_base_are_its_versions_1_and_2(tmp_path):
  model, base = turing_model(), str(tmp_path / "saved_model")
  assert export_saved_model(model, 0, base) == os.path.join(base, "1")
  assert export_saved_model(model, 1, base) == os.path.join(base, "2")
  assert sorted(os.listdir(base)) == ["1", "2"]


def test_saved_model_cli_runs_the_export(tmp_path):
  model = turing_model()
  tapes = np.random.default_rng(1).integers(0, 3, [2, 5])
  expected = model({"initial_tape": tapes})
  directory = export_saved_model(model, 0, str(tmp_path / "saved_model"))
  result = saved_model_cli(directory, tmp_path / "out",
                           initial_tape=json.dumps(tapes.tolist()))
  assert result.returncode == 0, result.stderr
  np.testing.assert_allclose(
      np.load(tmp_path / "out" / "final_tape_probabilities.npy"),
      expected["final_tape"][0], atol=1e-6)


def test_the_signature_names_an_input_value_outside_its_range(tmp_path):
  model = turing_model()
  directory = export_saved_model(model, 0, str(tmp_path / "saved_model"))
  serve = tf.saved_model.load(directory).signatures["serving_default"]
  size = model.program.declarations["initial_tape"].size
  tapes = np.zeros([2, 5], np.int32)
  tapes[1, 3] = size
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=rf"initial_tape values must be in \[0, {size}\)"):
    serve(initial_tape=tf.constant(tapes))
