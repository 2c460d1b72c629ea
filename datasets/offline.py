"""What the project's tfds builders share: their data is made here, offline.

`OfflineBuilder` is the base of every builder in this package: it fixes
tfds' `code_path` (see its docstring) and is abstract, so tfds does not
register it. `prepare` builds a builder's data without any network access.
"""

import inspect

from etils import epath
import tensorflow_datasets as tfds


class OfflineBuilder(tfds.core.GeneratorBasedBuilder):
  """A builder whose examples are generated, never downloaded.

  Subclasses implement `_info` and `_generate_examples(split)` for each of
  `SPLITS`.
  """

  SPLITS = ("train", "test")

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Nothing to download.
    return {split: self._generate_examples(split) for split in self.SPLITS}

  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls) -> epath.Path:
    """The builder's own file, which tfds' `code_path` would also find.

    tfds 4.9.10's version checks `importlib_resources.abc.Traversable`, a
    module it only requires on Python < 3.9, and so fails with
    ModuleNotFoundError on newer Pythons without it
    (tensorflow/datasets#11212).
    """
    return epath.Path(inspect.getfile(cls))


def prepare(builder: tfds.core.DatasetBuilder) -> tfds.core.DatasetBuilder:
  """Generates `builder`'s data if needed, never reaching for the network."""
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(try_download_gcs=False))
  return builder
