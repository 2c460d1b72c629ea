"""A run's settings and results for TensorBoard's HParams dashboard.

Every ANC and NTPT run writes, in its own summary writer, its config as
hyper-parameters when it starts (`write_settings`) and its results as
metric scalars when it ends (`write_metrics`). Runs under one log directory
(`tensorboard --logdir runs/anc` over `runs/anc/a`, `runs/anc/b`, ...) are
then rows of one table, compared at a glance.
"""

import dataclasses
from typing import Dict, Mapping, Optional, Sequence

import tensorflow as tf

# The dashboard's metrics are scalar tags under this prefix.
PREFIX = "hparams"


def flat_settings(config: Mapping[str, object]) -> Dict[str, object]:
  """`config` (a dict, nested dicts as `outer.inner`) as HParams values:
  bools, numbers and strings as they are, sequences as text; unset (None)
  settings are left out, blank in the dashboard."""
  flat = {}
  for name, value in config.items():
    if isinstance(value, Mapping):
      flat.update({f"{name}.{inner}": inner_value for inner, inner_value in
                   flat_settings(value).items()})
    elif value is None:
      continue
    elif isinstance(value, (bool, int, float, str)):
      flat[name] = value
    else:
      flat[name] = str(value)
  return flat


def metric_tag(name: str) -> str:
  return f"{PREFIX}/{name}"


def write_settings(config, metrics: Sequence[str]):
  """Records `config` (a dataclass or a dict) as the run's hyper-parameters
  and declares its `metrics` (names for `write_metrics`), in the default
  summary writer."""
  from tensorboard.plugins.hparams import api as hp  # pylint: disable=g-import-not-at-top
  if dataclasses.is_dataclass(config):
    config = dataclasses.asdict(config)
  values = flat_settings(config)
  hp.hparams_config(
      hparams=[hp.HParam(name) for name in sorted(values)],
      metrics=[hp.Metric(metric_tag(name), display_name=name)
               for name in metrics])
  hp.hparams(values)


def write_metrics(metrics: Mapping[str, Optional[float]], step: int):
  """The run's results, `{name: value}` (None: none to report), as the
  dashboard's metric scalars, in the default summary writer."""
  for name, value in metrics.items():
    if value is not None:
      tf.summary.scalar(metric_tag(name), value, step=step)
