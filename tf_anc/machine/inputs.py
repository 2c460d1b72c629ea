"""What `SoftMachine` checks of its inputs, once a call, before it runs.

Shapes and dtypes are checked when the call is traced (a ValueError); cell
values and distribution rows only exist at run time, so they are checked
then: eagerly as a tf.errors.InvalidArgumentError raised at once, in a graph
as an assertion the run waits on, each message naming the first bad entry.
XLA has no assertions: under `jit_compile=True` only the traced checks
apply. A machine that runs fused checks integer cells (and one-hots the
memory) in one op of its library, ops/cells.cc, with the same messages: the
dozen small ops of the check cost more than the check.

Without these checks a value outside [0, M) becomes an all-zero one-hot row
(tf.one_hot) and runs on silently, an integer memory in a float dtype is
read as one distribution per example, and a memory of the wrong width fails
inside the fused op, which then names its width as M.
"""

import tensorflow as tf

from tf_anc import kernels
from tf_anc.common.checks import require

# The cell dtypes that ops/cells.cc's ops take.
_CELL_OP_DTYPES = (tf.int32, tf.int64)

# How far from 1 the sum of a memory distribution's row may be: float32
# softmax rows of M <= 1000 values sum to 1 within ~1e-5.
DISTRIBUTION_SUM_TOLERANCE = 1e-3


def memory_distributions(memory, memory_size, num_restarts, dtype,
                         fused=False):
  """`memory`, checked, as distributions `[(K,) B, M, M]` in `dtype`.

  Args:
    memory: integer cell values `[(K,) B, M]` or float distributions
      `[(K,) B, M, M]` (K with `num_restarts`).
    memory_size: M.
    num_restarts: K, or None for a machine without a restarts axis.
    dtype: the machine's compute dtype.
    fused: whether the machine runs as the fused op, whose library then
      checks and one-hots int32 and int64 cells in one op.
  """
  memory = tf.convert_to_tensor(memory)
  restarts = _restarts_axis(num_restarts)
  integer_shape = f"[{restarts}B, {memory_size}]"
  distribution_shape = f"[{restarts}B, {memory_size}, {memory_size}]"
  expected = (f"memory: expected {integer_shape} integer cell values or "
              f"{distribution_shape} float distributions (M = {memory_size})")
  given = f"got {_described(memory)}"
  if memory.shape.rank is None:
    raise ValueError(f"{expected}, {given}")
  leading = 0 if num_restarts is None else 1
  if memory.dtype.is_integer:
    if memory.shape.rank != leading + 2:
      raise ValueError(f"{expected}, {given}: integer memories are "
                       f"{integer_shape}")
    checks = _shape_checks(memory, memory_size, num_restarts, 1, expected,
                           given)
    if fused and memory.dtype in _CELL_OP_DTYPES:
      with tf.control_dependencies(checks):
        return kernels.one_hot_cells(memory, memory_size, "memory")
    checks += _value_checks(memory, "memory", memory_size)
    with tf.control_dependencies(checks):
      return tf.one_hot(memory, memory_size, dtype=dtype)
  if not memory.dtype.is_floating:
    raise ValueError(f"{expected}, {given}")
  if memory.shape.rank != leading + 3:
    raise ValueError(f"{expected}, {given}: cell values need an integer "
                     f"dtype, and float memories are distributions "
                     f"{distribution_shape}")
  checks = _shape_checks(memory, memory_size, num_restarts, 2, expected, given)
  checks += _distribution_checks(memory, memory_size)
  with tf.control_dependencies(checks):
    return tf.cast(memory, dtype)


def error_cells(error_target, error_mask, memory_size, num_restarts, dtype,
                fused=False):
  """The checked `error_target` (integer cells `[(K,) B, M]`) as int32 and
  `error_mask` (`[(K,) B, M]`, bool or numbers) in `dtype`, both flattened
  to `[K * B, M]` (the check one op where `fused`, as for the memory)."""
  error_target = tf.convert_to_tensor(error_target)
  error_mask = tf.convert_to_tensor(error_mask)
  restarts = _restarts_axis(num_restarts)
  leading = 0 if num_restarts is None else 1

  def expected(name):
    return (f"{name}: expected [{restarts}B, {memory_size}] "
            f"(M = {memory_size})")

  for name, tensor in (("error_target", error_target),
                       ("error_mask", error_mask)):
    if tensor.shape.rank != leading + 2:
      raise ValueError(f"{expected(name)}, got {_described(tensor)}")
  if not error_target.dtype.is_integer:
    raise ValueError(f"error_target: expected integer cell values, got "
                     f"{error_target.dtype.name}")
  if not error_target.shape.is_compatible_with(error_mask.shape):
    raise ValueError(f"error_target and error_mask must have one shape, got "
                     f"{_described(error_target)} and "
                     f"{_described(error_mask)}")
  checks = _shape_checks(error_target, memory_size, num_restarts, 1,
                         expected("error_target"),
                         f"got {_described(error_target)}")
  if fused and error_target.dtype in _CELL_OP_DTYPES:
    with tf.control_dependencies(checks):
      cells = kernels.checked_cells(error_target, memory_size, "error_target")
  else:
    checks += _value_checks(error_target, "error_target", memory_size)
    with tf.control_dependencies(checks):
      # An identity, so that the run waits on the checks when the target is
      # int32 already (tf.cast then adds no op).
      cells = tf.identity(tf.cast(error_target, tf.int32))
  return (tf.reshape(cells, [-1, memory_size]),
          tf.reshape(tf.cast(error_mask, dtype), [-1, memory_size]))


def gumbel_temperature(temperature):
  """`temperature`, checked positive and finite: the Gumbel-softmax divides
  the logits by it, so 0 makes NaN commands, a negative one prefers the
  least likely choices and inf makes every command uniform."""
  message = "gumbel_temperature must be positive and finite, got {}"
  if not tf.is_tensor(temperature):
    if not 0 < float(temperature) < float("inf"):
      raise ValueError(message.format(temperature))
    return temperature
  positive = (temperature > 0) & tf.math.is_finite(temperature)
  checks = require(tf.reduce_all(positive),
                    lambda: tf.strings.format(message, temperature))
  with tf.control_dependencies(checks):
    return tf.identity(temperature)


def _restarts_axis(num_restarts):
  return "" if num_restarts is None else f"K = {num_restarts}, "


def _described(tensor):
  """`int32 of shape [1, 12]` (`?` for a size unknown when traced)."""
  if tensor.shape.rank is None:
    return f"{tensor.dtype.name} of unknown rank"
  sizes = ", ".join("?" if size is None else str(size)
                    for size in tensor.shape.as_list())
  return f"{tensor.dtype.name} of shape [{sizes}]"


def _shape_checks(tensor, memory_size, num_restarts, cell_axes, expected,
                  given):
  """Checks the restarts axis and the last `cell_axes` axes (each M): now
  where the static shape knows them, else as run-time assertions."""
  axes = list(range(tensor.shape.rank - cell_axes, tensor.shape.rank))
  sizes = [memory_size] * cell_axes
  if num_restarts is not None:
    axes, sizes = [0] + axes, [num_restarts] + sizes
  checks = []
  for axis, size in zip(axes, sizes):
    static = tensor.shape[axis]
    if static is None:
      checks += require(tf.equal(tf.shape(tensor)[axis], size),
                         lambda: tf.strings.format(
                             f"{expected}, got {{}}", tf.shape(tensor)))
    elif static != size:
      raise ValueError(f"{expected}, {given}")
  return checks


def _value_checks(cells, name, memory_size):
  """Every cell value in [0, M)."""
  outside = (cells < 0) | (cells >= memory_size)

  def message():
    index = _first(outside)
    return _format(f"{name}[{{}}] = {{}} is outside [0, {memory_size}) "
                   f"(M = {memory_size}): a cell holds a value in [0, M)",
                   index, [tf.gather_nd(cells, index)])

  return require(tf.logical_not(tf.reduce_any(outside)), message)


def _distribution_checks(memory, memory_size):
  """Every row (cell) a distribution: non-negative, summing to 1."""
  sums = tf.reduce_sum(memory, axis=-1)
  smallest = tf.reduce_min(memory, axis=-1)
  valid = (smallest >= 0) & (tf.abs(sums - 1) <= DISTRIBUTION_SUM_TOLERANCE)

  def message():
    index = _first(tf.logical_not(valid))
    return _format(
        f"memory[{{}}] is not a distribution over [0, {memory_size}): its "
        f"values sum to {{}} and the smallest is {{}}; each row of a memory "
        f"distribution is non-negative and sums to 1 (within "
        f"{DISTRIBUTION_SUM_TOLERANCE})", index,
        [tf.gather_nd(sums, index), tf.gather_nd(smallest, index)])

  return require(tf.reduce_all(valid), message)


def _first(flags):
  """The index of the first true entry of `flags` (of all zeros if none)."""
  flat = tf.argmax(tf.cast(tf.reshape(flags, [-1]), tf.int32),
                   output_type=tf.int32)
  return tf.unravel_index(flat, tf.shape(flags, out_type=tf.int32))


def _format(template, index, values):
  """`template` with its first `{}` the index, written `i, j, ...`."""
  rank = index.shape[0]
  template = template.replace("{}", ", ".join(["{}"] * rank), 1)
  return tf.strings.format(template, tf.unstack(index) + values,
                           summarize=-1)
