"""The NTPT paper's Figure 8: MATH accuracy against expression length.

  python -m ntpt_keras.math_task.figure8 \\
      --ntpt_runs=runs/ntpt/math,runs/ntpt/math_symbols \\
      --output_dir=runs/ntpt/figure8

reads each MATH run's `results.json` (`python -m tf_anc.train
--flagfile=configs/ntpt/math.flags`, and `math_symbols.flags`), trains the
LSTM baseline of each run's variant on 2-digit tapes and on 1-5-digit tapes
(`ntpt_keras.math_task.lstm`; perceptual: from the run's library) and
writes every model's accuracy by length, 1-16 digits:
`figure8.json` (`{variant: {model: {"1": ..., "16": ...}}}`, with the
digit-accuracy bound of the perceptual NTPT run), `figure8.md` (a table per
variant) and `figure8.png` (a panel per variant; the `plots` extra draws
it). Each LSTM's curve is kept in `lstm_<variant>_<n>digit.json`: run
again, the command trains only the LSTMs whose settings changed.
"""

import json
import os
import sys

from absl import flags

from ntpt_keras.math_task import curves
from tf_anc.common import cli
from tf_anc.common import plots

_NTPT_RUNS = flags.DEFINE_list(
    "ntpt_runs", ["runs/ntpt/math", "runs/ntpt/math_symbols"],
    "MATH runs (their model_dir) to plot, one per variant.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/ntpt/figure8",
                                  "Where figure8.json, .md and .png go.")
_LSTM_DIGITS = flags.DEFINE_list(
    "lstm_digits", ["2", "5"],
    "Train an LSTM on tapes of 2 digits (the train split) and of 1 ... n "
    "digits (train_upto_n), for each n listed.")
_UNITS = flags.DEFINE_integer("lstm_units", 1024, "LSTM units per layer.",
                              lower_bound=1)
_LAYERS = flags.DEFINE_integer("lstm_layers", 3, "LSTM layers.",
                               lower_bound=1)
_EPOCHS = flags.DEFINE_integer(
    "lstm_epochs", 200, "The most epochs an LSTM trains, if its held-out "
    "loss keeps improving.", lower_bound=1)
_PATIENCE = flags.DEFINE_integer(
    "lstm_patience", 10, "An LSTM has converged once its held-out loss has "
    "not improved for this many epochs.", lower_bound=1)
_TEST_EXAMPLES = flags.DEFINE_integer(
    "test_examples", None, "Test tapes per length (default: all 1,000).",
    lower_bound=1)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tfds data directory.")
_SEED = flags.DEFINE_integer("seed", 0, "The LSTMs' seed.")


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  cli.import_tensorflow_and_tfds()
  from ntpt_keras.math_task import lstm  # pylint: disable=g-import-not-at-top
  output = _OUTPUT_DIR.value
  os.makedirs(output, exist_ok=True)
  figure = {}
  for run_dir in _NTPT_RUNS.value:
    variant, curve, bound, library_dir = curves.ntpt_curve(run_dir)
    models = figure.setdefault(variant, {})
    models["NTPT - 2digit"] = curve
    if bound:
      models[curves.BOUND] = bound
    for digits in _LSTM_DIGITS.value:
      split = "train" if digits == "2" else f"train_upto_{digits}"
      config = lstm.LstmConfig(
          variant=variant, train_split=split, library_dir=library_dir,
          units=_UNITS.value, layers=_LAYERS.value, epochs=_EPOCHS.value,
          patience=_PATIENCE.value,
          max_digits=max(int(n) for n in curve),
          test_examples=_TEST_EXAMPLES.value, data_dir=_DATA_DIR.value,
          seed=_SEED.value)
      models[f"LSTM - {digits}digit"] = curves.lstm_curve(
          config, os.path.join(output, f"lstm_{variant}_{digits}digit.json"))
  with open(os.path.join(output, "figure8.json"), "w") as f:
    json.dump({"command": " ".join(["python -m ntpt_keras.math_task.figure8",
                                    *sys.argv[1:]]),
               "curves": figure}, f, indent=1)
  table = curves.markdown(figure)
  with open(os.path.join(output, "figure8.md"), "w") as f:
    f.write(table)
  print(table)
  plotted = plots.draw_if_installed(curves.plot, figure,
                                    os.path.join(output, "figure8.png"))
  print(f"written: {output}/figure8.json, figure8.md"
        + (", figure8.png" if plotted else ""))


if __name__ == "__main__":
  cli.run(main)
