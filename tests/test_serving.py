"""`tf_anc.common.serving`: exports as numbered versions for TF Serving."""

import os
import re

import pytest

from tf_anc.common import serving


def write_saved_model(text):
  """A `write` for `serving.write_version`: a stand-in SavedModel file."""

  def write(directory):
    with open(os.path.join(directory, "saved_model.pb"), "w") as f:
      f.write(text)

  return write


def read_saved_model(directory):
  with open(os.path.join(directory, "saved_model.pb")) as f:
    return f.read()


def test_the_first_export_is_version_1(tmp_path):
  base = tmp_path / "saved_model"
  directory = serving.write_version(base, write_saved_model("first"))
  assert directory == str(base / "1")
  assert read_saved_model(directory) == "first"


def test_a_second_export_is_version_2_and_leaves_version_1_untouched(
    tmp_path):
  serving.write_version(tmp_path, write_saved_model("first"))
  directory = serving.write_version(tmp_path, write_saved_model("second"))
  assert directory == str(tmp_path / "2")
  assert read_saved_model(tmp_path / "1") == "first"
  assert read_saved_model(directory) == "second"


def test_the_next_version_follows_the_largest_not_the_count(tmp_path):
  for version in (1, 5):
    os.mkdir(tmp_path / str(version))
  assert serving.next_version_directory(tmp_path) == str(tmp_path / "6")


def test_only_numeric_folders_are_versions(tmp_path):
  for name in ("3", "latest", ".incoming-3", "4.bak"):
    os.mkdir(tmp_path / name)
  (tmp_path / "7").write_text("a file, not a folder")
  assert serving.versions(tmp_path) == [3]


def test_a_version_being_written_is_not_a_version_yet(tmp_path):
  seen = []
  serving.write_version(tmp_path, lambda _: seen.append(
      serving.versions(tmp_path)))
  assert seen == [[]]
  assert serving.versions(tmp_path) == [1]


def test_a_failed_write_leaves_neither_a_version_nor_its_temporary_folder(
    tmp_path):

  def fail(directory):
    write_saved_model("half")(directory)
    raise RuntimeError("disk full")

  with pytest.raises(RuntimeError, match="disk full"):
    serving.write_version(tmp_path, fail)
  assert not os.listdir(tmp_path)


def test_resolving_a_base_picks_its_newest_version(tmp_path):
  for text in ("first", "second"):
    serving.write_version(tmp_path, write_saved_model(text))
  assert serving.resolve_saved_model(tmp_path) == str(tmp_path / "2")


def test_resolving_a_version_folder_returns_it(tmp_path):
  serving.write_version(tmp_path, write_saved_model("first"))
  serving.write_version(tmp_path, write_saved_model("second"))
  assert serving.resolve_saved_model(tmp_path / "1") == str(tmp_path / "1")


def test_resolving_a_base_with_a_version_picks_that_version(tmp_path):
  serving.write_version(tmp_path, write_saved_model("first"))
  serving.write_version(tmp_path, write_saved_model("second"))
  assert serving.resolve_saved_model(tmp_path, 1) == str(tmp_path / "1")


def test_resolving_an_empty_base_names_the_base_and_the_versions_looked_for(
    tmp_path):
  with pytest.raises(serving.NoSavedModelError) as error:
    serving.resolve_saved_model(tmp_path)
  assert str(error.value) == (f"no SavedModel in {tmp_path}, nor numeric "
                              f"version folders ({tmp_path / '1'}, ...)")


def test_resolving_a_missing_version_lists_the_versions_there(tmp_path):
  serving.write_version(tmp_path, write_saved_model("first"))
  with pytest.raises(serving.NoSavedModelError,
                     match=r"no version 2 under .* \(versions: 1\)"):
    serving.resolve_saved_model(tmp_path, 2)


def test_resolving_a_missing_folder_says_it_does_not_exist(tmp_path):
  with pytest.raises(serving.NoSavedModelError,
                     match="nowhere: no such directory"):
    serving.resolve_saved_model(tmp_path / "nowhere")


def test_resolving_a_newest_version_without_a_saved_model_names_it(tmp_path):
  serving.write_version(tmp_path, write_saved_model("first"))
  os.mkdir(tmp_path / "2")
  with pytest.raises(serving.NoSavedModelError, match=re.escape(
      f"no SavedModel in version folder {tmp_path / '2'}")):
    serving.resolve_saved_model(tmp_path)
