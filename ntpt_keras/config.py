"""What an NTPT training run is: model, instances, schedule, outputs.

A plain dataclass, so the command line can read the defaults without
loading TensorFlow.
"""

import dataclasses
import importlib.resources
import os
import pathlib
from typing import NamedTuple, Optional, Sequence, Tuple

from tf_anc.common import finite
from tf_anc.common import optimizers


class Curriculum(NamedTuple):
  """Stage i (`curriculum_steps` steps) draws only the training instances
  whose scalar Output `output` is at most `bounds[i]`; then all of them."""
  output: str
  bounds: Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class NtptConfig:
  """One NTPT training run (see `python -m tf_anc.train --helpfull`)."""
  model_file: str
  model_dir: str = "runs/ntpt"
  hypers_file: Optional[str] = None
  hypers: Optional[str] = None  # a config name of the hypers file
  # Instances: a TerpreT data file and its batches ...
  data_file: Optional[str] = None
  train_batch: str = "train"
  test_batch: Optional[str] = None  # default: the training batch
  # ... or a tfds dataset "builder/config" with train and test splits.
  dataset: Optional[str] = None
  data_dir: Optional[str] = None
  train_examples: Optional[int] = None  # default: all
  test_examples: Optional[int] = None  # default: all
  # (tensor, feature) pairs: score each network on the labelled cells of
  # that tensor, the feature holding their labels.
  tensor_labels: Tuple[Tuple[str, str], ...] = ()
  restarts: int = 20
  train_steps: int = 1000
  batch_size: int = 50
  optimizer: str = "adam"
  learning_rate: float = 0.1  # the program params'
  neural_learning_rate: Optional[float] = None  # default: learning_rate
  param_init_stddev: float = 1.0
  seed: int = 0
  library_dir: Optional[str] = None
  curriculum: Optional[Curriculum] = None
  curriculum_steps: int = 300
  checkpoint_every: int = 200
  log_every: int = 100
  jit_compile: bool = False


def resolve(config: NtptConfig) -> NtptConfig:
  """Checks a config; raises ValueError with a one-line message."""
  finite.check_config(config)
  if (config.data_file is None) == (config.dataset is None):
    raise ValueError("give exactly one of --data_file and --dataset")
  optimizers.check_name(config.optimizer)
  if config.neural_learning_rate is None:
    config = dataclasses.replace(config,
                                 neural_learning_rate=config.learning_rate)
  return dataclasses.replace(
      config, model_file=shipped_file(config.model_file),
      hypers_file=shipped_file(config.hypers_file),
      data_file=shipped_file(config.data_file))


def shipped_file(path: Optional[str]) -> Optional[str]:
  """`path`, or the installed package's copy of the file it names.

  The flagfiles name the model files and data shipped in ntpt_keras/models
  by their path in a checkout (`ntpt_keras/models/turing.py`); run from
  anywhere else, such a path names the installed package's copy.
  """
  if path is None or os.path.exists(path):
    return path
  package, _, rest = pathlib.PurePath(path).as_posix().partition("/")
  if package == "ntpt_keras" and rest:
    shipped = importlib.resources.files("ntpt_keras") / rest
    if shipped.is_file():
      return str(shipped)
  return path


def parse_curriculum(text: str) -> Curriculum:
  """`"output:v1,v2"` → `Curriculum("output", (v1, v2))`; ValueError if
  malformed."""
  output, _, values = text.partition(":")
  try:
    bounds = tuple(int(v) for v in values.split(","))
  except ValueError:
    bounds = ()
  if not output or not bounds:
    raise ValueError(f"--curriculum takes output:v1,v2,..., got {text!r}")
  return Curriculum(output, bounds)


def parse_tensor_labels(pairs: Sequence[str]) -> Tuple[Tuple[str, str], ...]:
  """`["tensor:feature", ...]` → `(("tensor", "feature"), ...)`; ValueError
  if a pair is malformed."""
  parsed = []
  for pair in pairs:
    tensor, colon, feature = pair.partition(":")
    if not colon or not tensor or not feature or ":" in feature:
      raise ValueError(f"--tensor_labels takes tensor:feature, got {pair!r}")
    parsed.append((tensor, feature))
  return tuple(parsed)
