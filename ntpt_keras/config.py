"""What an NTPT training run is: model, instances, schedule, outputs.

A plain dataclass, so the command line can read the defaults without
loading TensorFlow; each field is also a flag (tf_anc.common.config_flags).
"""

import dataclasses
import importlib.resources
import os
import pathlib
from typing import NamedTuple, Optional, Sequence, Tuple

from tf_anc.common import config_flags
from tf_anc.common.config_flags import setting


class Curriculum(NamedTuple):
  """Stage i (`curriculum_steps` steps) draws only the training instances
  whose scalar Output `output` is at most `bounds[i]`; then all of them."""
  output: str
  bounds: Tuple[int, ...]


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


def curriculum_text(curriculum: Curriculum) -> str:
  """The `--curriculum` text of a curriculum (parse_curriculum's inverse)."""
  return f"{curriculum.output}:" + ",".join(map(str, curriculum.bounds))


def tensor_labels_text(pairs) -> list:
  """The `--tensor_labels` items of pairs (parse_tensor_labels' inverse)."""
  return [f"{tensor}:{feature}" for tensor, feature in pairs]


@dataclasses.dataclass(frozen=True)
class NtptConfig:
  """One NTPT training run (see `python -m tf_anc.train --helpfull`)."""
  model_file: str = setting(
      help="The NTPT model file to train (docs/ntpt-language.md).")
  model_dir: str = setting("runs/ntpt")
  hypers_file: Optional[str] = setting(
      None, "JSON {config: {hyper: value}} for the model's Hyper()s.")
  hypers: Optional[str] = setting(
      None, "The config of --hypers_file (default: its only one).")
  # Instances: a TerpreT data file and its batches ...
  data_file: Optional[str] = setting(
      None, "A TerpreT data file (JSON list of batches).")
  train_batch: str = setting("train", "The batch of --data_file to train on.")
  test_batch: Optional[str] = setting(
      None, "The batch of --data_file to test on (default: the training "
      "batch).")
  # ... or a tfds dataset "builder/config" with train and test splits.
  dataset: Optional[str] = setting(
      None, "A tfds dataset 'builder/config' with train and test splits, "
      "instead of --data_file.")
  data_dir: Optional[str] = setting(None)
  train_examples: Optional[int] = setting(
      None, "Training instances taken from --dataset (default: all).")
  test_examples: Optional[int] = setting(
      None, "Test instances taken from --dataset (default: all).")
  tensor_labels: Tuple[Tuple[str, str], ...] = setting(
      (), "tensor:feature pairs; reports each network's accuracy on the "
      "labelled cells of that tensor.", parse=parse_tensor_labels,
      unparse=tensor_labels_text)
  restarts: int = setting(20, "Program restarts trained side by side.")
  train_steps: int = setting(1000)
  batch_size: int = setting(50)
  optimizer: str = setting("adam")
  learning_rate: float = setting(
      0.1, "Learning rate of the program params.")
  neural_learning_rate: Optional[float] = setting(
      None, "Learning rate of the learned functions' networks (default: "
      "--learning_rate).", lower=0.0)
  param_init_stddev: float = setting(1.0)
  seed: int = setting(0)
  library_dir: Optional[str] = setting(
      None, "A neural library: its networks are bound before training and "
      "the best restart's are saved back.")
  curriculum: Optional[Curriculum] = setting(
      None, "output:v1,v2,...: stage i draws only training instances whose "
      "scalar Output is at most v_i; then all of them.",
      parse=parse_curriculum, unparse=curriculum_text)
  curriculum_steps: int = setting(
      300, "Training steps per curriculum stage.", lower=1)
  checkpoint_every: int = setting(200)
  log_every: int = setting(100)
  summary_every: int = setting(
      250, "Steps between TensorBoard heatmaps of the first "
      "--imaged_restarts restarts' params (also at the end): a panel per "
      "param, a row per cell, a column per value.",
      lower=1)
  imaged_restarts: int = setting(
      4, "Restarts whose params are drawn at each summary: the first this "
      "many (0: none).", lower=0)
  jit_compile: bool = setting(False)


def resolve(config: NtptConfig) -> NtptConfig:
  """Checks a config; raises ValueError with a one-line message."""
  config_flags.check(config)
  if (config.data_file is None) == (config.dataset is None):
    raise ValueError("give exactly one of --data_file and --dataset")
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
