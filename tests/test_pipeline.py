"""tf_anc.common.pipeline: batches drawn as a pure function of the step."""

import numpy as np
import tensorflow as tf

from tf_anc.common import pipeline

EXAMPLES = {"value": np.arange(100, dtype=np.int32) * 10,
            "pair": np.stack([np.arange(100), -np.arange(100)], axis=1)}


def _draw(step):
  return np.random.default_rng([7, step]).integers(0, 100, (2, 3))


def _values(dataset):
  return [batch["value"].numpy() for batch in dataset]


def test_each_batch_holds_the_examples_its_step_draws():
  batches = list(pipeline.drawn_batches(EXAMPLES, _draw, 0, 70,
                                        indices_shape=(2, 3)))
  assert len(batches) == 70
  for step, batch in enumerate(batches):
    np.testing.assert_array_equal(batch["value"], _draw(step) * 10)
    np.testing.assert_array_equal(batch["pair"], EXAMPLES["pair"][
        _draw(step)])
  assert batches[0]["pair"].shape == (2, 3, 2)


def test_a_pipeline_started_at_a_step_gives_the_uninterrupted_batches():
  whole = _values(pipeline.drawn_batches(EXAMPLES, _draw, 0, 90,
                                         indices_shape=(2, 3)))
  resumed = _values(pipeline.drawn_batches(EXAMPLES, _draw, 37, 90,
                                           indices_shape=(2, 3)))
  assert len(resumed) == 90 - 37
  for got, want in zip(resumed, whole[37:]):
    np.testing.assert_array_equal(got, want)


def test_draws_of_varying_shapes_give_batches_of_those_shapes():
  def growing(step):
    return np.arange(step % 4 + 1)

  batches = _values(pipeline.drawn_batches(EXAMPLES, growing, 0, 8))
  assert [len(batch) for batch in batches] == [1, 2, 3, 4, 1, 2, 3, 4]


def test_in_memory_holds_a_dataset_as_one_tensor_per_feature():
  dataset = tf.data.Dataset.from_tensor_slices(EXAMPLES)
  held = pipeline.in_memory(dataset)
  np.testing.assert_array_equal(held["value"], EXAMPLES["value"])
  np.testing.assert_array_equal(held["pair"], EXAMPLES["pair"])


def test_the_pipeline_is_not_autotuned_so_a_finished_loop_ends_at_once():
  """tf.data's autotuning thread held finished training loops open for up
  to a minute; the pipeline prefetches a fixed two draws ahead instead."""
  dataset = pipeline.drawn_batches(EXAMPLES, _draw, 0, 70,
                                   indices_shape=(2, 3))
  assert dataset.options().autotune.enabled is False


def _graph_draw(first_step, num_steps):
  # _draw's indices, computed in the graph (as a native op would).
  steps = tf.range(first_step, first_step + num_steps)
  return tf.map_fn(
      lambda step: tf.numpy_function(_draw, [step], tf.int64, stateful=False),
      steps, fn_output_signature=tf.TensorSpec((2, 3), tf.int64))


def test_a_graph_draw_gives_the_batches_its_python_draw_does():
  python = _values(pipeline.drawn_batches(EXAMPLES, _draw, 5, 75,
                                          indices_shape=(2, 3)))
  graph = _values(pipeline.drawn_batches(EXAMPLES, _draw, 5, 75,
                                         indices_shape=(2, 3),
                                         graph_draw=_graph_draw))
  assert len(graph) == 70
  for got, want in zip(graph, python):
    np.testing.assert_array_equal(got, want)
