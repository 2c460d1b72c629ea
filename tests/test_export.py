"""`tf_anc.export` and `python -m tf_anc.infer`: a program as a SavedModel.

The SavedModel runs in a process that has only TensorFlow, computes what the
in-process soft machine computes, and `infer` prints what `run` prints.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tests.test_cli import LISTK, LISTK_INPUT, assert_usage_error, tool
from tf_anc import lang
from tf_anc.export import EXTRA_DIR, PROGRAM_FILE, export_saved_model
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine
from tf_anc.weights import ControllerWeights
from tf_anc_datasets import anc_distributions

MEMORY_SIZE = 20
MAX_STEPS = 75
# Too few for ListK on LISTK_INPUT to halt (it takes 17): an export with it
# answers differently from one with MAX_STEPS.
SHORT_STEPS = 5
# Low enough that every command is a real mixture (top choice ~0.85).
SOFT_SHARPNESS = 4.0

# Loads the SavedModel and runs its signature on saved inputs; imports
# nothing but TensorFlow and NumPy.
ONLY_TENSORFLOW = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    directory, inputs, outputs = sys.argv[1:]
    serve = tf.saved_model.load(directory).signatures["serving_default"]
    results = serve(memory=tf.constant(np.load(inputs)))
    np.savez(outputs, **{name: value.numpy() for name, value in results.items()})
    assert not [name for name in sys.modules if name.split(".")[0] == "tf_anc"]
""")


def listk_weights(sharpness):
  return compile_program(lang.load_program(LISTK, MEMORY_SIZE), sharpness)


@pytest.fixture(scope="module")
def listk_export(tmp_path_factory):
  directory = tmp_path_factory.mktemp("listk") / "saved_model"
  return export_saved_model(listk_weights(100.0), directory, MAX_STEPS,
                            program_text=pathlib.Path(LISTK).read_text())


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
  """A base: ListK with MAX_STEPS as version 1, with SHORT_STEPS as 2."""
  base = tmp_path_factory.mktemp("versions") / "saved_model"
  for max_steps in (MAX_STEPS, SHORT_STEPS):
    export_saved_model(listk_weights(100.0), base, max_steps)
  return base


@pytest.fixture(scope="module")
def memories():
  """ListK inputs that halt, and arbitrary memories, some of which do not."""
  listk_inputs = anc_distributions.sample("listk", "biased", 20, seed=0)[0]
  arbitrary = np.random.default_rng(4).integers(
      0, MEMORY_SIZE, size=[8, MEMORY_SIZE], dtype=np.int32)
  return np.concatenate([listk_inputs, arbitrary]).astype(np.int32)


def run_with_only_tensorflow(directory, memories, tmp_path):
  np.save(tmp_path / "inputs.npy", memories)
  result = subprocess.run(
      [sys.executable, "-c", ONLY_TENSORFLOW, str(directory),
       str(tmp_path / "inputs.npy"), str(tmp_path / "outputs.npz")],
      capture_output=True, text=True, cwd=tmp_path, timeout=300)
  assert result.returncode == 0, result.stderr
  with np.load(tmp_path / "outputs.npz") as outputs:
    return dict(outputs)


def run_in_process(weights, memories):
  machine = SoftMachine.from_weights(weights, MAX_STEPS)
  outputs = tf.function(machine)(memories)
  return {name: outputs[name].numpy() for name in ("memory", "steps", "halted")}


def assert_same_outputs(exported, expected):
  np.testing.assert_allclose(exported["memory_probabilities"],
                             expected["memory"], atol=1e-5)
  np.testing.assert_array_equal(exported["memory"],
                                np.argmax(expected["memory"], axis=-1))
  np.testing.assert_array_equal(exported["steps"], expected["steps"])
  np.testing.assert_array_equal(exported["halted"], expected["halted"])


def test_compiled_program_runs_from_a_process_with_only_tensorflow(
    listk_export, memories, tmp_path):
  exported = run_with_only_tensorflow(listk_export, memories, tmp_path)
  expected = run_in_process(listk_weights(100.0), memories)
  assert_same_outputs(exported, expected)
  assert expected["halted"].any() and not expected["halted"].all()


def test_soft_controller_exports_and_runs_the_same(memories, tmp_path):
  weights = listk_weights(SOFT_SHARPNESS)
  directory = export_saved_model(weights, tmp_path / "soft", MAX_STEPS)
  exported = run_with_only_tensorflow(directory, memories, tmp_path)
  expected = run_in_process(weights, memories)
  assert expected["memory"].max(axis=-1).min() < 0.9  # genuinely soft
  assert_same_outputs(exported, expected)


def test_signature_takes_int32_memories_and_names_its_outputs(listk_export):
  signature = tf.saved_model.load(listk_export).signatures["serving_default"]
  args, kwargs = signature.structured_input_signature
  assert args == ()
  assert kwargs == {"memory": tf.TensorSpec([None, MEMORY_SIZE], tf.int32,
                                            name="memory")}
  outputs = {name: (spec.dtype, spec.shape.as_list())
             for name, spec in signature.structured_outputs.items()}
  assert outputs == {
      "memory": (tf.int32, [None, MEMORY_SIZE]),
      "memory_probabilities": (tf.float32, [None, MEMORY_SIZE, MEMORY_SIZE]),
      "steps": (tf.int32, [None]),
      "halted": (tf.bool, [None]),
  }


def test_an_export_to_a_new_base_is_its_version_1(listk_export):
  directory = pathlib.Path(listk_export)
  assert (directory.parent.name, directory.name) == ("saved_model", "1")


def test_an_export_to_a_base_with_a_version_is_version_2(two_versions):
  assert sorted(os.listdir(two_versions)) == ["1", "2"]


def test_export_keeps_the_weights_and_the_program_text(listk_export):
  extra = pathlib.Path(listk_export) / EXTRA_DIR
  saved, compiled = ControllerWeights.load(extra), listk_weights(100.0)
  assert saved.register_names == compiled.register_names
  for name in compiled.shapes():
    np.testing.assert_array_equal(getattr(saved, name), getattr(compiled, name))
  assert (extra / PROGRAM_FILE).read_text() == pathlib.Path(LISTK).read_text()


@pytest.mark.parametrize("how", ["input", "inputs_file"])
def test_infer_prints_what_run_prints(listk_export, memories, tmp_path, how):
  if how == "input":
    input_flag = f"--input={LISTK_INPUT}"
  else:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(memories.tolist()))
    input_flag = f"--inputs_file={inputs}"
  inferred = tool("infer", f"--saved_model={listk_export}", input_flag)
  ran = tool("run", f"--program={LISTK}", f"--memory_size={MEMORY_SIZE}",
             f"--max_steps={MAX_STEPS}", input_flag)
  assert inferred.returncode == 0, inferred.stderr
  assert inferred.stdout == ran.stdout


def run_listk(max_steps):
  return tool("run", f"--program={LISTK}", f"--memory_size={MEMORY_SIZE}",
              f"--max_steps={max_steps}", f"--input={LISTK_INPUT}")


def test_infer_given_a_base_runs_its_newest_version(two_versions):
  inferred = tool("infer", f"--saved_model={two_versions}",
                  f"--input={LISTK_INPUT}")
  assert inferred.returncode == 0, inferred.stderr
  assert inferred.stdout == run_listk(SHORT_STEPS).stdout
  assert not json.loads(inferred.stdout)["halted"]  # not version 1's answer


def test_infer_given_a_base_and_a_version_runs_that_version(two_versions):
  inferred = tool("infer", f"--saved_model={two_versions}", "--version=1",
                  f"--input={LISTK_INPUT}")
  assert inferred.returncode == 0, inferred.stderr
  assert inferred.stdout == run_listk(MAX_STEPS).stdout


def test_infer_base_without_versions_is_a_one_line_usage_error(tmp_path):
  assert_usage_error(tool("infer", f"--saved_model={tmp_path}", "--input=1"),
                     f"no SavedModel in {tmp_path}", "version folders")


def test_infer_missing_version_is_a_one_line_usage_error(two_versions):
  assert_usage_error(tool("infer", f"--saved_model={two_versions}",
                          "--version=3", "--input=1"),
                     "no version 3", "(versions: 1, 2)")


def test_infer_missing_saved_model_is_a_one_line_usage_error(tmp_path):
  assert_usage_error(tool("infer", f"--saved_model={tmp_path / 'nowhere'}",
                          "--input=1"), "nowhere")


def test_infer_input_outside_the_range_is_a_one_line_usage_error(listk_export):
  assert_usage_error(tool("infer", f"--saved_model={listk_export}",
                          "--input=3,25"), "cell 1 holds 25", "[0, 20)")


@pytest.mark.parametrize("damaged, words", [
    ("variables/variables.data-00000-of-00001", ["not a readable SavedModel",
                                                 "Read less bytes"]),
    ("saved_model.pb", ["saved_model.pb"]),
])
def test_infer_on_a_damaged_saved_model_is_one_line_naming_it(
    listk_export, tmp_path, damaged, words):
  copy = tmp_path / "saved_model"
  shutil.copytree(listk_export, copy)
  path = copy / damaged
  path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
  assert_usage_error(tool("infer", f"--saved_model={copy}", "--input=1"),
                     *words)


def saved_model_cli(directory, outdir=None, **inputs):
  """`saved_model_cli run` on an export, each input a Python expression:
  the TF1 session loader that TF Serving shares. With `outdir`, each
  output is written there as `<name>.npy`."""
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  return subprocess.run(
      [cli, "run", "--dir", str(directory), "--tag_set", "serve",
       "--signature_def", "serving_default", "--input_exprs",
       ";".join(f"{name}={value}" for name, value in inputs.items()),
       *(["--outdir", str(outdir)] if outdir else [])],
      capture_output=True, text=True, timeout=300)


def test_saved_model_cli_runs_the_export(listk_export, tmp_path):
  result = saved_model_cli(listk_export, tmp_path, memory=f"[[{LISTK_INPUT}"
                           + ",0" * (MEMORY_SIZE - 11) + "]]")
  assert result.returncode == 0, result.stderr
  np.testing.assert_array_equal(np.load(tmp_path / "memory.npy"),
                                [[3, 3, 4, 5, 11, 7, 12, 9, 4, 0, 8] +
                                 [0] * 9])
  assert np.load(tmp_path / "steps.npy").tolist() == [17]


def test_the_export_holds_no_variables_for_a_session_loader_to_miss(
    listk_export):
  loaded = tf.saved_model.load(listk_export)
  assert not loaded.signatures["serving_default"].variables


def test_saved_model_cli_names_a_cell_outside_the_memory_range(listk_export):
  memories = [[0] * MEMORY_SIZE, [0] * MEMORY_SIZE]
  memories[1][7] = MEMORY_SIZE
  result = saved_model_cli(listk_export, memory=json.dumps(memories))
  assert result.returncode != 0
  assert "memory values must be in [0, 20)" in result.stderr
  assert "[[1 7]] [20]" in result.stderr


def test_the_signature_refuses_a_negative_cell(listk_export):
  serve = tf.saved_model.load(listk_export).signatures["serving_default"]
  memories = np.zeros((2, MEMORY_SIZE), np.int32)
  memories[0, 3] = -1
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"memory values must be in \[0, 20\)"):
    serve(memory=tf.constant(memories))
