"""The TF Serving layout every SavedModel export is written in.

TF Serving's `--model_base_path` names a base folder of numeric version
folders, `<base>/1/`, `<base>/2/`, ..., each a SavedModel; it serves the
largest number and ignores every other name. Exports follow it:

  directory = write_version(base, lambda d: tf.saved_model.save(m, d))

writes the SavedModel into a temporary folder in `base` and renames it to
the next version (1 for the first export, then one past the largest
existing number), so a server polling `base` never sees a half-written
version and no export overwrites another. `resolve_saved_model` turns a
base, a version folder or a plain SavedModel folder into the SavedModel to
load.

Plain Python, no TensorFlow: a tool can reject a wrong path before paying
for TensorFlow's import.
"""

import os
import re
import shutil
from typing import Callable, Dict, List, Optional
import uuid

# What `tf.saved_model.contains_saved_model` looks for.
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
# TF Serving reads a folder name as a version if it parses as an integer.
_VERSION_NAME = re.compile(r"[0-9]+")


class NoSavedModelError(FileNotFoundError):
  """No SavedModel where one was asked for; the message says where it looked."""


def _version_folders(base) -> Dict[int, str]:
  """{version: folder name} of the numeric folders in `base`; {} if absent."""
  if not os.path.isdir(base):
    return {}
  return {int(name): name for name in os.listdir(base)
          if _VERSION_NAME.fullmatch(name)
          and os.path.isdir(os.path.join(base, name))}


def versions(base) -> List[int]:
  """The versions under `base`, ascending; [] if it is absent or has none."""
  return sorted(_version_folders(os.fspath(base)))


def next_version_directory(base) -> str:
  """`<base>/<n>`: n is 1 if `base` holds no version, else the largest + 1."""
  base = os.fspath(base)
  return os.path.join(base, str(max(versions(base), default=0) + 1))


def write_version(base, write: Callable[[str], object]) -> str:
  """Publishes what `write(folder)` writes as the next version of `base`.

  Args:
    base: the model's base folder; created if absent.
    write: fills the empty folder it is given (a SavedModel and its extras).

  Returns:
    The version folder, `next_version_directory(base)` as of the rename.

  Raises:
    OSError: if another export to `base` took the version meanwhile;
      nothing is overwritten. The temporary folder is removed either way.
  """
  base = os.fspath(base)
  os.makedirs(base, exist_ok=True)
  # A non-numeric name in the same folder: servers skip it while `write`
  # runs, and the rename below is atomic on one file system.
  incoming = os.path.join(base, f".incoming-{uuid.uuid4().hex}")
  os.mkdir(incoming)
  try:
    write(incoming)
    directory = next_version_directory(base)
    # Refuses a non-empty destination: an export that took this version
    # meanwhile makes this one fail instead of being overwritten.
    os.rename(incoming, directory)
  finally:
    if os.path.exists(incoming):
      shutil.rmtree(incoming)
  return directory


def _holds_saved_model(directory) -> bool:
  return any(os.path.isfile(os.path.join(directory, name))
             for name in _SAVED_MODEL_FILES)


def resolve_saved_model(path, version: Optional[int] = None) -> str:
  """The SavedModel folder that `path` (and `version`) name.

  Args:
    path: a base folder of numeric versions, one version folder, or any
      SavedModel folder.
    version: a version under the base `path`; None for `path` itself if it
      is a SavedModel, else its newest version.

  Returns:
    A folder holding a SavedModel.

  Raises:
    NoSavedModelError: if there is none there; the message names the
      folder and the versions looked for.
  """
  path = os.fspath(path)
  if not os.path.isdir(path):
    raise NoSavedModelError(f"no SavedModel in {path}: no such directory")
  folders = _version_folders(path)
  if version is not None:
    if version not in folders:
      found = ", ".join(map(str, sorted(folders))) or "none"
      raise NoSavedModelError(
          f"no version {version} under {path} (versions: {found})")
    directory = os.path.join(path, folders[version])
  elif _holds_saved_model(path):
    return path
  elif folders:
    directory = os.path.join(path, folders[max(folders)])
  else:
    raise NoSavedModelError(
        f"no SavedModel in {path}, nor numeric version folders "
        f"({os.path.join(path, '1')}, ...)")
  if not _holds_saved_model(directory):
    raise NoSavedModelError(f"no SavedModel in version folder {directory}")
  return directory
