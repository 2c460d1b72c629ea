"""NeuralProgram's checks where a batch enters: names, shapes, dtypes and
values of its Inputs and observed Outputs, eager and inside tf.function."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ntpt_keras.model import NeuralProgram

# An Input, an InputTensor and an Output.
_MODEL = """\
images = InputTensor(4, 4)[2]
offset = Input(3)
choice = Param(2)
answer = Output(3)


@Learn([Tensor(4, 4)], 3, hid_sizes=[8])
def net(image):
    pass


@Runtime([3, 3], 3)
def add(a, b):
    return (a + b) % 3


with choice as i:
    answer.set_to(add(net(images[i]), offset))
"""


@pytest.fixture(name="model")
def _model(tmp_path):
  path = tmp_path / "shifted.py"
  path.write_text(_MODEL)
  return NeuralProgram.from_file(str(path), restarts=2, seed=0,
                                 name="shifted")


def _inputs(**changes):
  inputs = {"images": np.zeros([3, 2, 4, 4], np.float32),
            "offset": np.array([0, 1, 2], np.int32)}
  inputs.update(changes)
  return {name: value for name, value in inputs.items() if value is not None}


OBSERVED = {"answer": np.array([0, -1, 2], np.int32)}


def test_well_formed_inputs_give_every_restarts_marginals(model):
  assert model(_inputs())["answer"].shape == (2, 3, 3)


def test_a_missing_input_is_named_with_what_the_model_takes(model):
  with pytest.raises(ValueError, match=r"shifted: missing Input offset "
                     r"\(the model's Inputs are InputTensor images float32 "
                     r"\[None, 2, 4, 4\], Input offset int32 \[None\] in "
                     r"\[0, 3\)\)"):
    model(_inputs(offset=None))


def test_an_unknown_input_is_named(model):
  with pytest.raises(ValueError, match="shifted: unknown 'ofset'"):
    model(_inputs(ofset=np.array([0, 1, 2])))


def test_an_input_of_another_shape_names_both_shapes(model):
  with pytest.raises(ValueError, match=r"Input offset has shape \[3, 1\], "
                     r"expected \[None\]"):
    model(_inputs(offset=np.zeros([3, 1], np.int32)))


def test_an_input_tensor_of_another_cell_shape_names_both_shapes(model):
  with pytest.raises(ValueError, match=r"InputTensor images has shape "
                     r"\[3, 2, 4, 5\], expected \[None, 2, 4, 4\]"):
    model(_inputs(images=np.zeros([3, 2, 4, 5], np.float32)))


def test_an_input_of_strings_names_its_dtype(model):
  with pytest.raises(TypeError, match="Input offset has dtype string, "
                     "expected int32"):
    model(_inputs(offset=np.array(["0", "1", "2"])))


def test_an_input_tensor_of_uint8_pixels_asks_for_floats(model):
  with pytest.raises(TypeError, match="InputTensor images has dtype uint8, "
                     "expected float32"):
    model(_inputs(images=np.zeros([3, 2, 4, 4], np.uint8)))


def test_an_input_value_outside_its_range_is_named(model):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"Input offset: every value must be a whole "
                     r"number in \[0, 3\); got 3"):
    model(_inputs(offset=np.array([0, 3, 1])))


def test_a_float_input_must_hold_whole_numbers(model):
  with pytest.raises(tf.errors.InvalidArgumentError, match="got 1.5"):
    model(_inputs(offset=np.array([0, 1.5, 1], np.float32)))


def test_a_float_input_holding_whole_numbers_is_read_as_ints(model):
  np.testing.assert_array_equal(
      model(_inputs(offset=np.array([0, 1, 2], np.float32)))["answer"],
      model(_inputs())["answer"])


def test_a_value_outside_its_range_is_caught_inside_a_tf_function(model):
  call = tf.function(model)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"Input offset: every value must be a whole "
                     r"number in \[0, 3\); got -1"):
    call(_inputs(offset=tf.constant([0, -1, 1])))


def test_a_shape_unknown_when_tracing_is_checked_as_the_batch_runs(model):
  call = tf.function(model, input_signature=[{
      "images": tf.TensorSpec([None, None, None, None], tf.float32),
      "offset": tf.TensorSpec([None], tf.int32)}])
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"InputTensor images has shape \[3 2 4 5\], "
                     r"expected \[None, 2, 4, 4\]"):
    call(_inputs(images=np.zeros([3, 2, 4, 5], np.float32)))


def test_inputs_of_different_batch_sizes_are_an_error(model):
  call = tf.function(model, input_signature=[{
      "images": tf.TensorSpec([None, 2, 4, 4], tf.float32),
      "offset": tf.TensorSpec([None], tf.int32)}])
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="Input offset: a batch of 2 instances, not 3 as "
                     "InputTensor images"):
    call(_inputs(offset=np.array([0, 1], np.int32)))


def test_an_observed_output_outside_its_range_is_named(model):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"Output answer: every value must be a whole "
                     r"number in \[-1, 3\); got 3"):
    model.negative_log_likelihood(_inputs(),
                                  {"answer": np.array([0, 3, 2])})


def test_observed_outputs_of_another_batch_size_are_an_error(model):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match="Output answer: a batch of 2 instances, not 3 as "
                     "the Inputs"):
    model.negative_log_likelihood(_inputs(), {"answer": np.array([0, 1])})


def test_fit_names_a_missing_observed_output(model):
  model.compile(optimizer=keras.optimizers.Adam(0.1))
  dataset = tf.data.Dataset.from_tensor_slices((_inputs(), {})).batch(3)
  with pytest.raises(ValueError, match="shifted: missing Output answer"):
    model.fit(dataset, verbose=0)


def test_fit_names_an_input_value_outside_its_range(model):
  model.compile(optimizer=keras.optimizers.Adam(0.1))
  dataset = tf.data.Dataset.from_tensor_slices(
      (_inputs(offset=np.array([0, 1, 7], np.int32)), OBSERVED)).batch(3)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r"Input offset: every value must be a whole "
                     r"number in \[0, 3\); got 7"):
    model.fit(dataset, verbose=0)


def test_evaluate_names_an_observed_output_of_another_shape(model):
  model.compile()
  dataset = tf.data.Dataset.from_tensor_slices(
      (_inputs(), {"answer": np.zeros([3, 2], np.int32)})).batch(3)
  with pytest.raises(ValueError, match=r"Output answer has shape "
                     r"\[None, 2\], expected \[None\]"):
    model.evaluate(dataset, verbose=0)
