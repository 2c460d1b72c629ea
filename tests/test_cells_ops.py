"""tf_anc.kernels.one_hot_cells and checked_cells: a fused machine's integer
memories and error targets, checked and one-hot (or int32) in one op each,
held to the TensorFlow ops and messages of tf_anc.machine.inputs."""

import re

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import kernels
from tf_anc import lang
from tf_anc.lang.compiler import compile_program
from tf_anc.machine import SoftMachine, fused

pytestmark = pytest.mark.skipif(
    not fused.fused_available(),
    reason="the fused op library is not built (python -m tf_anc.kernels.build)")

COUNTDOWN = ("var n = READ(0); loop: n = DEC(n); JEZ(n, end); JEZ(0, loop); "
             "end: STOP();")


def random_cells(shape, memory_size, dtype, seed=0):
  return tf.constant(np.random.default_rng(seed).integers(
      0, memory_size, shape), dtype)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
@pytest.mark.parametrize("shape", [(3, 10), (2, 4, 10), (0, 10)])
def test_one_hot_cells_is_tf_one_hot(shape, dtype):
  cells = random_cells(shape, 10, dtype)
  distributions = kernels.one_hot_cells(cells, 10)
  assert distributions.dtype == tf.float32
  np.testing.assert_array_equal(distributions, tf.one_hot(cells, 10))


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_checked_cells_are_the_cells_as_int32(dtype):
  cells = random_cells((5, 10), 10, dtype)
  checked = kernels.checked_cells(cells, 10)
  assert checked.dtype == tf.int32
  np.testing.assert_array_equal(checked, cells)


def test_the_output_shape_is_known_when_traced():
  @tf.function(input_signature=[tf.TensorSpec([None, 10], tf.int32)])
  def shapes(cells):
    assert kernels.one_hot_cells(cells, 10).shape.as_list() == [None, 10, 10]
    assert kernels.checked_cells(cells, 10).shape.as_list() == [None, 10]
    return cells

  shapes(random_cells((2, 10), 10, tf.int32))


CALLS = {"eager": lambda function: function,
         "traced": lambda function: tf.function(function)}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("value", [10, 12, -1])
def test_the_first_cell_outside_is_named_with_its_value(call, value):
  cells = np.zeros([2, 3, 10], np.int64)
  cells[1, 2, 4] = value
  cells[1, 2, 7] = 99  # a later one is not the one named
  for op, what in ((kernels.one_hot_cells, "memory"),
                   (kernels.checked_cells, "error_target")):
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(
        f"{what}[1, 2, 4] = {value} is outside [0, 10) (M = 10): a cell "
        f"holds a value in [0, M)")):
      CALLS[call](lambda x, op=op, what=what: op(x, 10, what))(cells)


def countdown_machine(step_impl):
  program = lang.parse_program(COUNTDOWN, 10)
  return SoftMachine.from_weights(compile_program(program), 30,
                                  step_impl=step_impl)


def refusal(step_impl, memory, **error_target):
  """What a traced machine says of a bad cell (the graph's error wraps it)."""
  with pytest.raises(tf.errors.InvalidArgumentError) as raised:
    tf.function(countdown_machine(step_impl))(memory, **error_target)
  return re.search(r"\w+\[[\d, ]+\] = -?\d+ is outside .*?a cell holds a "
                   r"value in \[0, M\)", raised.value.message).group(0)


def test_fused_and_plain_machines_refuse_a_bad_memory_alike():
  memory = np.zeros([3, 10], np.int32)
  memory[2, 4] = 17
  assert refusal("fused", memory).startswith(
      "memory[2, 4] = 17 is outside [0, 10)")
  assert refusal("fused", memory) == refusal("tf", memory)


def test_fused_and_plain_machines_refuse_a_bad_error_target_alike():
  target = np.zeros([1, 10], np.int64)
  target[0, 7] = 11
  errors = {"error_target": target, "error_mask": np.ones([1, 10], bool)}
  memory = np.zeros([1, 10], np.int32)
  message = refusal("fused", memory, **errors)
  assert message.startswith("error_target[0, 7] = 11 is outside [0, 10)")
  assert message == refusal("tf", memory, **errors)


def test_a_fused_machine_checks_its_cells_in_one_op():
  machine = countdown_machine("fused")
  graph = tf.function(machine).get_concrete_function(
      tf.TensorSpec([4, 10], tf.int32),
      error_target=tf.TensorSpec([4, 10], tf.int32),
      error_mask=tf.TensorSpec([4, 10], tf.float32)).graph
  types = [op.type for op in graph.get_operations()]
  assert types.count("AncOneHotCells") == 1
  assert types.count("AncCheckedCells") == 1
  assert "Assert" not in types
  assert "OneHot" not in types
