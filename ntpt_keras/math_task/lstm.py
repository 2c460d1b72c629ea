"""The LSTM baseline of the MATH experiment (NTPT paper, section 5.2).

At each symbol of the tape the network takes the embeddings of the symbol
from net_0 and net_1 (their class distributions; in the symbols variant, the
symbol one-hot), updates a stack of LSTMs and, after the last symbol,
classifies the answer from the last hidden state. The paper's best: 3
layers of 1,024 units, dropout between layers. In the perceptual variant
net_0 and net_1 start from the neural library and train with the rest.

It is trained with supervision on a training split (the paper's 2-digit
`train`, or `train_upto_5`, 1-5 digits), in batches of one length each, to
convergence as the paper trains it: a share of the split's tapes is held
out, and training stops once their loss has not improved for `patience`
epochs, keeping the weights of the best epoch (Keras' `EarlyStopping`).
Then it is tested on `test_1` ... `test_16`.
"""

import dataclasses
import time
from typing import Dict, Optional

import keras
import numpy as np

from ntpt_keras.config import shipped_file
from ntpt_keras.library import NeuralLibrary
from ntpt_keras.math_task.config import MODEL_FILE
from ntpt_keras.math_task.trainer import compile_math
from ntpt_keras.model import NeuralProgram
from ntpt_keras.training import tfds_split
from tf_anc.common import progress

ANSWERS = 19  # values 0 ... M
SYMBOLS = 14
IMAGE = (28, 28)


@dataclasses.dataclass(frozen=True)
class LstmConfig:
  """One LSTM baseline run."""
  variant: str = "perceptual"
  train_split: str = "train_upto_5"
  library_dir: Optional[str] = None  # perceptual: net_0/net_1 start here
  units: int = 1024
  layers: int = 3
  dropout: float = 0.5
  # Training stops once the held-out tapes' loss has not improved for
  # `patience` epochs (converged), or after `epochs`.
  epochs: int = 200
  patience: int = 10
  validation_fraction: float = 0.1
  batch_size: int = 64
  learning_rate: float = 0.001
  max_digits: int = 16
  test_examples: Optional[int] = None  # per length; default: all
  data_dir: Optional[str] = None
  seed: int = 0


def _embedding_networks(library_dir: Optional[str]):
  """net_0 and net_1 as the perceptual MATH model declares them, bound from
  the library if one is given."""
  model = NeuralProgram(compile_math(1, True, shipped_file(MODEL_FILE)))
  if library_dir:
    NeuralLibrary(library_dir).bind(model)
  return {name: networks[0] for name, networks in model.networks.items()}


def make_lstm(config: LstmConfig) -> keras.Model:
  """tape `[B, L, 28, 28]` (or symbols `[B, L]`) → answer distribution."""
  if config.variant == "perceptual":
    tape = keras.Input((None, *IMAGE), name="tape")
    images = keras.layers.Reshape((-1, IMAGE[0] * IMAGE[1]))(tape)
    embeddings = []
    for network in _embedding_networks(config.library_dir).values():
      # Its dense layers, applied to every symbol at once.
      embedding = images
      for layer in network.layers:
        embedding = layer(embedding)
      embeddings.append(embedding)
    features = keras.layers.Concatenate()(embeddings)
  else:
    tape = keras.Input((None,), dtype="int32", name="tape")
    features = keras.layers.Embedding(SYMBOLS, SYMBOLS, trainable=False,
                                      embeddings_initializer="identity")(tape)
  hidden = features
  for layer in range(config.layers):
    if layer:
      hidden = keras.layers.Dropout(config.dropout)(hidden)
    hidden = keras.layers.LSTM(config.units,
                               return_sequences=layer < config.layers - 1)(
                                   hidden)
  answer = keras.layers.Dense(ANSWERS, activation="softmax")(hidden)
  return keras.Model(tape, answer, name="lstm")


def _tapes(config: LstmConfig, split: str, num_examples=None):
  """A split's tapes (of any lengths; images as intensities) and answers."""
  tapes, answers = [], []
  for example in tfds_split(f"math_tapes/{config.variant}", split,
                            config.data_dir, num_examples).as_numpy_iterator():
    tape = example["tape"]
    tapes.append(tape.astype(np.float32) / 255.0
                 if config.variant == "perceptual" else tape)
    answers.append(example["answer"])
  return tapes, np.asarray(answers)


def _by_length(tapes, answers):
  """{length: (tapes `[N, length, ...]`, answers `[N]`)}."""
  groups = {}
  for tape, answer in zip(tapes, answers):
    groups.setdefault(len(tape), ([], []))
    groups[len(tape)][0].append(tape)
    groups[len(tape)][1].append(answer)
  return {length: (np.stack(group), np.asarray(values))
          for length, (group, values) in groups.items()}


class _LengthBatches(keras.utils.PyDataset):
  """Batches of tapes of one length each, drawn afresh every epoch."""

  def __init__(self, tapes, answers, batch_size: int, seed: int):
    super().__init__()
    self._groups = _by_length(tapes, answers)
    self._batch_size = batch_size
    self._rng = np.random.default_rng(seed)
    self.on_epoch_end()

  def on_epoch_end(self):
    batches = [(length, indices)
               for length, (_, answers) in self._groups.items()
               for indices in np.array_split(
                   self._rng.permutation(len(answers)),
                   max(1, len(answers) // self._batch_size))]
    self._batches = [batches[i] for i in self._rng.permutation(len(batches))]

  def __len__(self):
    return len(self._batches)

  def __getitem__(self, index):
    length, indices = self._batches[index]
    tapes, answers = self._groups[length]
    return tapes[indices], answers[indices]


def train_and_test(config: LstmConfig,
                   log=progress.print_line) -> Dict[str, object]:
  """Trains the baseline to convergence and tests it: `{"accuracy_by_length":
  {"1": ...}, "training": {epochs run, best epoch, converged, losses}}`."""
  keras.utils.set_random_seed(config.seed)
  model = make_lstm(config)
  model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
  tapes, answers = _tapes(config, config.train_split)
  order = np.random.default_rng(config.seed).permutation(len(answers))
  held_out = order[:max(1, int(config.validation_fraction * len(answers)))]
  kept = order[len(held_out):]
  started = time.perf_counter()

  def log_epoch(epoch, logs):
    log(f"LSTM {config.variant} on {config.train_split}: epoch {epoch + 1} "
        f"loss {logs['loss']:.3f} held-out loss {logs['val_loss']:.3f} "
        f"accuracy {logs['val_accuracy']:.3f} "
        f"({time.perf_counter() - started:.0f} s)")

  stopping = keras.callbacks.EarlyStopping(
      monitor="val_loss", patience=config.patience, restore_best_weights=True)
  history = model.fit(
      _LengthBatches([tapes[i] for i in kept], answers[kept],
                     config.batch_size, config.seed),
      validation_data=_LengthBatches([tapes[i] for i in held_out],
                                     answers[held_out], config.batch_size,
                                     config.seed),
      # On a terminal, fit's own bar for each epoch (progress.shows_bar).
      epochs=config.epochs, verbose=int(progress.shows_bar(log)),
      callbacks=[stopping, keras.callbacks.LambdaCallback(
          on_epoch_end=log_epoch)]).history
  best = int(np.argmin(history["val_loss"]))
  training = {"epochs": len(history["loss"]), "best_epoch": best + 1,
              "converged": len(history["loss"]) < config.epochs,
              "loss": float(history["loss"][best]),
              "held_out_loss": float(history["val_loss"][best]),
              "held_out_accuracy": float(history["val_accuracy"][best]),
              "seconds": time.perf_counter() - started}
  accuracy = {}
  for digits in range(1, config.max_digits + 1):
    test_tapes, test_answers = _tapes(config, f"test_{digits}",
                                      config.test_examples)
    predicted = np.argmax(model.predict(np.stack(test_tapes), batch_size=256,
                                        verbose=0), axis=-1)
    accuracy[str(digits)] = float(np.mean(predicted == test_answers))
  log(f"LSTM {config.variant} on {config.train_split}: " + ", ".join(
      f"{n}: {value:.3f}" for n, value in accuracy.items()))
  return {"accuracy_by_length": accuracy, "training": training}
