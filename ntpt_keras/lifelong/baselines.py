"""The purely neural baselines of the 2x2 tasks (paper, section 5.1).

A *column* (Figure 5a) reads a 2x2 grid: each image goes through an
embedding network (784 → 256 → 256 → 10, ReLU; shared by the four cells),
the four embeddings are concatenated (with d1, d2, d3 one-hot for
APPLY2x2) and a head of three hidden layers of 128 gives the 19 answers.

- `Indep`: one column per task, nothing shared.
- `Pnn`: progressive networks (Rusu et al., 2016): column t also reads,
  through lateral connections at every layer after the first, the
  activations of the columns of earlier tasks on the same grid; those are
  frozen (no gradient) when task t trains.
- `Mtnn`: a shared perceptual part (the library networks net_0 and net_1,
  each an embedding network) and a head per task: `Mtnn(1)` with three
  hidden layers everywhere, `Mtnn(2)` with one for ADD2x2 and three for
  APPLY2x2 (the paper's tuned sizes). As for NTPT, the first task sees
  net_0 only, and the perceptual part learns `perceptual_slowdown` times
  slower than the heads.

Every learner has the interface `ntpt_keras.lifelong.learners` describes.
"""

from typing import List, Sequence

import keras
import tensorflow as tf

from ntpt_keras.lifelong.learners import Group
from ntpt_keras.lifelong.learners import answer_loss
from ntpt_keras.lifelong.learners import is_apply

IMAGE_WIDTH = 28 * 28
EMBEDDING_SIZES = (256, 256, 10)
HEAD_SIZES = (128, 128, 128)
ANSWERS = 19  # M + 1
CELLS = 4
INTEGERS = 3  # d1, d2, d3 of APPLY2x2
DIGITS = 10


def _dense(units, input_size, name, activation=None, use_bias=True,
           initializer="glorot_uniform"):
  layer = keras.layers.Dense(units, activation=activation, use_bias=use_bias,
                             kernel_initializer=initializer, name=name)
  layer.build((None, input_size))
  return layer


def _cells(batch):
  """The grid's images as `[B * 4, 784]`."""
  return tf.reshape(batch["grid"], [-1, IMAGE_WIDTH])


def _head_input(task: str, batch, embeddings):
  """Per example: the cells' embeddings `[B * 4, e]` concatenated, and the
  integers one-hot for APPLY2x2."""
  features = [tf.reshape(embeddings, [tf.shape(batch["grid"])[0], -1])]
  if is_apply(task):
    features += [tf.one_hot(tf.cast(batch[name], tf.int32), DIGITS)
                 for name in ("d1", "d2", "d3")]
  return tf.concat(features, axis=-1)


def _head_input_size(task: str, embedding_size: int) -> int:
  return CELLS * embedding_size + (INTEGERS * DIGITS if is_apply(task) else 0)


class _Column(keras.layers.Layer):
  """One task's column, progressive when it has `earlier` columns to read."""

  def __init__(self, task: str, earlier: Sequence["_Column"] = (), **kwargs):
    super().__init__(**kwargs)
    self.task = task
    # Layer i of each part reads activation i: the images for the embedding
    # network, the head input for the head. Its laterals read activation i
    # of each earlier column (the first embedding layer has none: it reads
    # the images themselves).
    self.embedding, self.head = [], []
    self.embedding_laterals, self.head_laterals = [], []
    # Glorot scaled down so that the laterals' sum starts as large as one
    # input (Rusu et al. scale theirs too).
    lateral = keras.initializers.VarianceScaling(
        scale=1.0 / max(1, len(earlier)), mode="fan_avg",
        distribution="uniform")
    size = IMAGE_WIDTH
    for i, units in enumerate(EMBEDDING_SIZES):
      last = i == len(EMBEDDING_SIZES) - 1
      self.embedding.append(_dense(units, size, f"embedding_{i}",
                                   None if last else "relu"))
      self.embedding_laterals.append([] if i == 0 else [
          _dense(units, size, f"embedding_{i}_from_{j}", use_bias=False,
                 initializer=lateral) for j in range(len(earlier))])
      size = units
    sizes = [_head_input_size(task, EMBEDDING_SIZES[-1]), *HEAD_SIZES]
    for i, units in enumerate([*HEAD_SIZES, ANSWERS]):
      last = i == len(HEAD_SIZES)
      self.head.append(_dense(units, sizes[i], f"head_{i}",
                              None if last else "relu"))
      self.head_laterals.append([
          _dense(units, column.head[i].kernel.shape[0], f"head_{i}_from_{j}",
                 use_bias=False, initializer=lateral)
          for j, column in enumerate(earlier)])

  def activations(self, batch, earlier=()):
    """Every layer's input, and the logits last, of each part.

    `earlier`: the activations of the earlier columns on `batch`.
    """
    embedding = self._run(_cells(batch), self.embedding,
                          self.embedding_laterals,
                          [e["embedding"] for e in earlier])
    head = self._run(_head_input(self.task, batch, embedding[-1]),
                     self.head, self.head_laterals, [e["head"] for e in earlier])
    return {"embedding": embedding, "head": head}

  @staticmethod
  def _run(inputs, layers, laterals, earlier):
    """`[inputs, a_1, ..., a_n]`: a_i = layer_i(a_{i-1}) plus the laterals
    from the earlier columns' a_{i-1}, before the activation."""
    outputs = [inputs]
    for i, layer in enumerate(layers):
      pre_activation = tf.matmul(outputs[-1], layer.kernel) + layer.bias
      for lateral, activations in zip(laterals[i], earlier):
        pre_activation += tf.matmul(activations[i], lateral.kernel)
      outputs.append(layer.activation(pre_activation))
    return outputs


class _ColumnLearner:
  """One column per task, with or without laterals to the earlier ones."""

  def __init__(self, name: str, tasks: Sequence[str], learning_rate: float,
               lateral: bool):
    self.name = name
    self.tasks = tuple(tasks)
    self.lateral = lateral
    self.columns = []
    for task in self.tasks:
      self.columns.append(_Column(task, self.columns if lateral else (),
                                  name=f"column_{task}"))
    self.groups = {task: Group(column.trainable_variables, learning_rate)
                   for task, column in zip(self.tasks, self.columns)}

  def task_groups(self, task: int, seen: int = 0) -> List[str]:
    del seen  # a column always trains
    return [self.tasks[task]]

  def checkpointed(self) -> dict:
    return {task: list(column.variables)
            for task, column in zip(self.tasks, self.columns)}

  def logits(self, task: int, batch):
    earlier = []
    if self.lateral:
      # Earlier columns are frozen while this task trains.
      for column in self.columns[:task]:
        earlier.append(tf.nest.map_structure(
            tf.stop_gradient, column.activations(batch, earlier)))
    return self.columns[task].activations(batch, earlier)["head"][-1]

  def loss(self, task: int, batch):
    return answer_loss(self.logits(task, batch), batch["answer"])

  def predict(self, task: int, batch):
    return tf.argmax(self.logits(task, batch), axis=-1, output_type=tf.int32)



def Indep(tasks, learning_rate):  # pylint: disable=invalid-name
  return _ColumnLearner("indep", tasks, learning_rate, lateral=False)


def Pnn(tasks, learning_rate):  # pylint: disable=invalid-name
  return _ColumnLearner("pnn", tasks, learning_rate, lateral=True)


def _embedding_network(name: str) -> keras.Sequential:
  layers = [keras.Input(shape=(IMAGE_WIDTH,))]
  layers += [keras.layers.Dense(units, activation="relu")
             for units in EMBEDDING_SIZES[:-1]]
  layers.append(keras.layers.Dense(EMBEDDING_SIZES[-1]))
  return keras.Sequential(layers, name=name)


class Mtnn:
  """Shared perceptual networks net_0, net_1 and a head per task."""

  NETWORKS = ("net_0", "net_1")

  def __init__(self, version: int, tasks: Sequence[str],
               learning_rate: float, perceptual_slowdown: float):
    if version not in (1, 2):
      raise ValueError(f"MTNN-{version}: the versions are 1 and 2")
    self.name = f"mtnn{version}"
    self.tasks = tuple(tasks)
    self.networks = {name: _embedding_network(name) for name in self.NETWORKS}
    self.heads = []
    for number, task in enumerate(self.tasks):
      hidden = HEAD_SIZES if version == 1 or is_apply(task) else (
          HEAD_SIZES[:1])
      size = _head_input_size(task, EMBEDDING_SIZES[-1] *
                              len(self._networks_of(number)))
      layers = [keras.Input(shape=(size,))]
      layers += [keras.layers.Dense(units, activation="relu")
                 for units in hidden]
      layers.append(keras.layers.Dense(ANSWERS))
      self.heads.append(keras.Sequential(layers, name=f"head_{task}"))
    self.groups = {task: Group(head.trainable_variables, learning_rate)
                   for task, head in zip(self.tasks, self.heads)}
    self.groups.update({
        name: Group(network.trainable_variables,
                    learning_rate / perceptual_slowdown)
        for name, network in self.networks.items()})

  def _networks_of(self, task: int) -> List[str]:
    # The first task brings one untrained network, as NTPT's does.
    return list(self.NETWORKS[:1] if task == 0 else self.NETWORKS)

  def task_groups(self, task: int, seen: int = 0) -> List[str]:
    del seen  # the shared networks always train
    return [self.tasks[task], *self._networks_of(task)]

  def checkpointed(self) -> dict:
    return {"networks": {name: list(network.variables)
                         for name, network in self.networks.items()},
            "heads": {task: list(head.variables)
                      for task, head in zip(self.tasks, self.heads)}}

  def logits(self, task: int, batch):
    cells = _cells(batch)
    embeddings = tf.concat([self.networks[name](cells)
                            for name in self._networks_of(task)], axis=-1)
    return self.heads[task](_head_input(self.tasks[task], batch, embeddings))

  def loss(self, task: int, batch):
    return answer_loss(self.logits(task, batch), batch["answer"])

  def predict(self, task: int, batch):
    return tf.argmax(self.logits(task, batch), axis=-1, output_type=tf.int32)

