"""Recorded memories files: what is read, and each way one can be bad."""

import json

import numpy as np
import pytest

from tf_anc import memories
from tf_anc.memories import MemoriesError

GOOD = [[1, 2, 0], [0, 0, 2]]


def _write_json(tmp_path, value, name="inputs.json"):
  path = tmp_path / name
  path.write_text(json.dumps(value))
  return path


def test_json_npy_and_npz_files_read_the_same_memories(tmp_path):
  np.save(tmp_path / "inputs.npy", np.array(GOOD, np.int64))
  np.savez(tmp_path / "named.npz", inputs=np.array(GOOD), other=np.zeros(2))
  np.savez(tmp_path / "single.npz", np.array(GOOD, np.int16))
  for name in ("inputs.npy", "named.npz", "single.npz"):
    array = memories.read(tmp_path / name)
    assert array.dtype == np.int32
    np.testing.assert_array_equal(array, GOOD)
  np.testing.assert_array_equal(
      memories.read(_write_json(tmp_path, GOOD)), GOOD)


@pytest.mark.parametrize("value,words", [
    ([], "no memories"),
    ({"a": 1}, "expected a list of memories"),
    ([[1, 2, 0], 3], "memory 1 is int"),
    ([[1, 2, 0], [1, 2]], "memory 1 has 2 cells, memory 0 has 3"),
    ([[1, 2, 0], [1, 2.5, 0]], "memory 1, cell 1 is 2.5, not an integer"),
    ([[1, True, 0]], "memory 0, cell 1 is True"),
    ([[1, 2, 0], [0, 3, 0]], "memory 1, cell 1 holds 3, outside [0, 3)"),
    ([[1, -1, 0]], "memory 0, cell 1 holds -1"),
])
def test_a_bad_json_memory_is_named_by_row_and_cell(tmp_path, value, words):
  path = _write_json(tmp_path, value)
  with pytest.raises(MemoriesError) as error:
    memories.read(path)
  assert str(error.value).startswith(str(path))
  assert words in str(error.value)


def test_invalid_utf8_names_the_file_and_byte(tmp_path):
  path = tmp_path / "inputs.json"
  path.write_bytes(b"[[1, 0]\xff]")
  with pytest.raises(MemoriesError, match=r"inputs.json: not UTF-8 text "
                     r"\(byte 7\)"):
    memories.read(path)


def test_malformed_json_names_line_and_column(tmp_path):
  path = tmp_path / "inputs.json"
  path.write_text("[[1, 0],\n [0, 1]")
  with pytest.raises(MemoriesError, match=r"inputs.json:2:8: not JSON"):
    memories.read(path)


def test_json_nested_too_deeply_is_a_clear_error(tmp_path):
  path = tmp_path / "inputs.json"
  path.write_text("[" * 100_000 + "]" * 100_000)
  with pytest.raises(MemoriesError, match="nested too deeply"):
    memories.read(path)


def test_a_float_or_3d_array_is_refused(tmp_path):
  np.save(tmp_path / "float.npy", np.array(GOOD, np.float32))
  np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2), np.int32))
  with pytest.raises(MemoriesError, match="expected integers, got dtype "
                     "float32"):
    memories.read(tmp_path / "float.npy")
  with pytest.raises(MemoriesError, match=r"shape \[2, 2, 2\]"):
    memories.read(tmp_path / "cube.npy")


def test_a_truncated_npy_file_is_a_clear_error(tmp_path):
  np.save(tmp_path / "inputs.npy", np.array(GOOD))
  data = (tmp_path / "inputs.npy").read_bytes()
  (tmp_path / "cut.npy").write_bytes(data[:-4])
  with pytest.raises(MemoriesError, match="cut.npy: not a readable .npy"):
    memories.read(tmp_path / "cut.npy")


def test_an_npz_with_several_unnamed_arrays_asks_for_inputs(tmp_path):
  np.savez(tmp_path / "two.npz", a=np.array(GOOD), b=np.array(GOOD))
  with pytest.raises(MemoriesError, match="name the memories 'inputs'"):
    memories.read(tmp_path / "two.npz")


def test_an_unknown_suffix_is_refused(tmp_path):
  with pytest.raises(MemoriesError, match="unknown memories file type "
                     "'.csv'"):
    memories.read(tmp_path / "inputs.csv")


def test_memories_wider_than_the_limit_are_refused_before_anything_runs(
    tmp_path):
  width = memories.MAX_MEMORY_SIZE + 1
  np.save(tmp_path / "wide.npy", np.zeros((2, width), np.int32))
  with pytest.raises(MemoriesError, match=f"memories of {width} cells; M is "
                     f"at most {memories.MAX_MEMORY_SIZE}"):
    memories.read(tmp_path / "wide.npy")
