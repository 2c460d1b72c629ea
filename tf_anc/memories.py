"""Recorded memories: the inputs a user's program really sees, from a file.

A memories file holds N initial memories of M cells each, every cell an
integer in [0, M) (M is the memories' width, and so the machine's memory
size, at most `MAX_MEMORY_SIZE`):

- `.json`: a list of N lists of M integers;
- `.npy`: an integer array `[N, M]`;
- `.npz`: an integer array `[N, M]` named `inputs` (or the archive's only
  array).

Every problem is a `MemoriesError` naming the file and, where there is one,
the memory (row) and the cell.
"""

import json
import os

import numpy as np

SUFFIXES = (".json", ".npy", ".npz")
# The widest memories accepted: the soft machine holds M x M values per
# example and step (M = 256: 65,536 floats), and the controller M rows.
MAX_MEMORY_SIZE = 256
# The name of the array an `.npz` file holds its memories under, when it
# holds more than one.
NPZ_KEY = "inputs"


class MemoriesError(ValueError):
  """Memories that cannot be run; the message names the file and row."""


def check(memories, what: str = "memories") -> np.ndarray:
  """`memories` (a list of lists or an array) as an int32 array `[N, M]`.

  Raises MemoriesError, its message starting with `what`, for no memories,
  ragged rows, values that are not integers, and values outside [0, M).
  """
  if isinstance(memories, np.ndarray):
    array = memories
    if array.ndim != 2:
      raise MemoriesError(f"{what}: expected an array [N, M] of memories, "
                          f"got shape {list(array.shape)}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
      raise MemoriesError(f"{what}: expected integers, got dtype "
                          f"{array.dtype}")
  else:
    array = _from_lists(memories, what)
  if array.shape[0] == 0 or array.shape[1] == 0:
    raise MemoriesError(f"{what}: no memories (shape "
                        f"{list(array.shape)})")
  width = array.shape[1]
  if width > MAX_MEMORY_SIZE:
    raise MemoriesError(
        f"{what}: memories of {width} cells; M is at most "
        f"{MAX_MEMORY_SIZE} (the soft machine holds M x M values per "
        "example and step)")
  outside = np.argwhere((array < 0) | (array >= width))
  if len(outside):
    row, cell = (int(index) for index in outside[0])
    raise MemoriesError(
        f"{what}: memory {row}, cell {cell} holds {int(array[row, cell])}, "
        f"outside [0, {width}) (M = {width}, the memories' width)")
  return array.astype(np.int32)


def _from_lists(memories, what: str) -> np.ndarray:
  if not isinstance(memories, (list, tuple)):
    raise MemoriesError(f"{what}: expected a list of memories, got "
                        f"{type(memories).__name__}")
  width = None
  for row, memory in enumerate(memories):
    if not isinstance(memory, (list, tuple)):
      raise MemoriesError(f"{what}: memory {row} is "
                          f"{type(memory).__name__}, not a list of integers")
    if width is None:
      width = len(memory)
    elif len(memory) != width:
      raise MemoriesError(f"{what}: memory {row} has {len(memory)} cells, "
                          f"memory 0 has {width}")
    for cell, value in enumerate(memory):
      if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise MemoriesError(f"{what}: memory {row}, cell {cell} is "
                            f"{value!r}, not an integer")
      if not 0 <= value < len(memory):
        raise MemoriesError(
            f"{what}: memory {row}, cell {cell} holds {value}, outside "
            f"[0, {len(memory)}) (M = {len(memory)}, the memories' width)")
  return np.array(memories, dtype=np.int64).reshape(len(memories), width or 0)


def read(path) -> np.ndarray:
  """The memories in the file `path` (module docstring), `[N, M]` int32.

  Raises MemoriesError naming `path` for anything but a readable file of
  valid memories, OSError when it cannot be opened.
  """
  path = os.fspath(path)
  suffix = os.path.splitext(path)[1].lower()
  if suffix not in SUFFIXES:
    raise MemoriesError(f"{path}: unknown memories file type {suffix!r}; "
                        f"use {', '.join(SUFFIXES)}")
  if suffix == ".json":
    return check(read_json(path), path)
  try:
    loaded = np.load(path, allow_pickle=False)
  except (ValueError, EOFError) as error:  # not an .npy/.npz, or cut short
    raise MemoriesError(f"{path}: not a readable {suffix} file ({error})"
                        ) from None
  if suffix == ".npz":
    with loaded:
      names = list(loaded.files)
      if NPZ_KEY in names:
        name = NPZ_KEY
      elif len(names) == 1:
        name = names[0]
      else:
        raise MemoriesError(f"{path}: holds arrays {', '.join(names)}; name "
                            f"the memories {NPZ_KEY!r}")
      try:
        loaded = loaded[name]
      except (ValueError, EOFError, OSError) as error:
        raise MemoriesError(f"{path}: array {name!r} is not readable "
                            f"({error})") from None
  return check(loaded, path)


def read_json(path):
  """The JSON value in the file `path`; MemoriesError naming it when it is
  not UTF-8, not JSON (with line:col) or nested too deeply."""
  with open(path, "rb") as f:
    raw = f.read()
  try:
    text = raw.decode("utf-8")
  except UnicodeDecodeError as error:
    raise MemoriesError(f"{path}: not UTF-8 text (byte {error.start})"
                        ) from None
  try:
    return json.loads(text)
  except json.JSONDecodeError as error:
    raise MemoriesError(f"{path}:{error.lineno}:{error.colno}: not JSON: "
                        f"{error.msg}") from None
  except RecursionError:
    raise MemoriesError(f"{path}: JSON nested too deeply for a list of "
                        "memories") from None
