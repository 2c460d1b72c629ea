"""Times full unrolled executions of the soft machine.

  python -m tf_anc.benchmarks.machine [--memory_sizes=10,20,40,80]
      [--batches=1,32,256] [--impls=tf,xla,fused] [--mode=train|forward]
      [--rounds=3] [--output=FILE.json]

`train` times forward + backward (the gradient of a loss on the final memory
with respect to every controller weight); `forward` the execution alone.
Controllers are random soft programs whose STOP logits are pushed down, so
every example runs all `--steps` steps. Prints examples/s and the cost per
example per step, whose growth with M shows the step's O(M^2) arithmetic,
and, when both are timed, the speed-up of the fused op over XLA.

Each shape's implementations are timed `--rounds` times, taking turns, and
a row gives each one's median speed (and its range over the rounds): a
machine whose load changes during the run slows every implementation
alike, and the fused/XLA ratio is the median of the rounds' own ratios,
each of two timings taken one after the other.

`--breakdown` also splits the fused op's time per call into TensorFlow's
cost of calling a traced function that returns the same gradients and
computes nothing (the floor every implementation pays), the op's fixed
cost and the steps' arithmetic, and prints the fused/XLA ratio that an op
of zero cost would reach, and the steps' share of this machine's peak:
their multiply-adds (`multiply_adds_per_step`, a count of the step's
arithmetic) a second against as many vector multiply-adds a second as
the cores they run on start, measured here (tf_anc.kernels.fma_peak).
The floor and a 1-step run of the fused op are timed in the same rounds,
taking turns with the rest: each round's steps are its full call less its
1-step call, timed seconds apart, and the split gives the median
over the rounds.
"""

import json
import math
import os
import time

from absl import flags
import numpy as np

from tf_anc import isa
from tf_anc.common import cli

_MEMORY_SIZES = flags.DEFINE_list("memory_sizes", ["10", "20", "40", "80"],
                                  "Memory sizes M to time.")
_BATCHES = flags.DEFINE_list("batches", ["1", "32", "256"], "Batch sizes.")
_IMPLS = flags.DEFINE_list(
    "impls", ["tf", "xla", "fused"],
    "tf: the plain-TF step in a tf.while_loop, in a graph; xla: the same, "
    "jit-compiled; fused: the whole run as one C++ op (tf_anc/kernels) in a "
    "graph.")
_REGISTERS = flags.DEFINE_integer("registers", 7, "R.", lower_bound=1)
_STEPS = flags.DEFINE_integer("steps", 75, "Steps per execution (T).",
                              lower_bound=1)
_MODE = flags.DEFINE_enum("mode", "train", ["train", "forward"],
                          "What one timed call does.")
_MIN_SECONDS = flags.DEFINE_float(
    "min_seconds", 1.0, "Repeat each measurement for at least this long.")
_ROUNDS = flags.DEFINE_integer(
    "rounds", 3, "Times each implementation is timed at each shape, taking "
    "turns with the others; rows give the median.", lower_bound=1)
_OUTPUT = flags.DEFINE_string("output", None, "Also write the rows as JSON.")
_BREAKDOWN = flags.DEFINE_bool(
    "breakdown", False,
    "After each fused row, split its time per call: TensorFlow's per-call "
    "floor, the op's fixed cost (a 1-step run) and the steps' arithmetic, "
    "and give the steps' share of this machine's multiply-add peak.")

IMPLS = ("tf", "xla", "fused")


def _random_machine(memory_size, num_registers, steps, seed, step_impl):
  # Imported here so that --help and flag errors need no TensorFlow.
  from tf_anc.machine import SoftMachine  # pylint: disable=g-import-not-at-top
  from tf_anc.weights import ControllerWeights  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)

  def logits(*shape):
    return rng.normal(0.0, 2.0, shape).astype(np.float32)

  instruction = logits(memory_size, isa.NUM_INSTRUCTIONS)
  instruction[:, isa.STOP] = -30.0  # never halt: time all `steps` steps
  weights = ControllerWeights(
      instruction_logits=instruction,
      first_argument_logits=logits(memory_size, num_registers),
      second_argument_logits=logits(memory_size, num_registers),
      output_logits=logits(memory_size, num_registers),
      initial_register_logits=logits(num_registers, memory_size),
      initial_ir_logits=logits(memory_size),
      register_names=tuple(f"r{i}" for i in range(num_registers)))
  return SoftMachine.from_weights(weights, steps, step_impl=step_impl)


def _timed_call(machine, impl, mode):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def forward(memory):
    return machine(memory)["memory"]

  def train(memory):
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(machine(memory)["memory"][:, :, 0])
    return tape.gradient(loss, machine.trainable_variables)

  return tf.function(forward if mode == "forward" else train,
                     jit_compile=(impl == "xla"))


def _floor_call(machine, mode):
  """A traced function with _timed_call's inputs and outputs, no machine."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def forward(memory):
    return tf.one_hot(memory, machine.memory_size)

  def train(memory):
    del memory
    with tf.GradientTape() as tape:
      loss = tf.add_n([tf.reduce_sum(v) for v in machine.trainable_variables])
    return tape.gradient(loss, machine.trainable_variables)

  return tf.function(forward if mode == "forward" else train)


def prepare(impl, memory_size, batch, num_registers, steps, mode):
  """One implementation's traced (and compiled) call at one shape, and its
  input: what `time_call` times.

  impl "floor": TensorFlow calling a traced function that computes nothing
  but returns what the timed call returns.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  machine = _random_machine(memory_size, num_registers, steps, seed=0,
                            step_impl="fused" if impl == "fused" else "tf")
  call = (_floor_call(machine, mode) if impl == "floor" else
          _timed_call(machine, impl, mode))
  # A tensor, so that no call pays for converting it.
  memory = tf.constant(np.random.default_rng(1).integers(
      0, memory_size, [batch, memory_size]), tf.int32)
  _block(call(memory))  # trace and compile outside the timing
  return call, memory


def time_call(call, memory, min_seconds):
  """Examples per second of `prepare`'s call, repeated for at least
  `min_seconds` (and 3 calls)."""
  calls, start = 0, time.perf_counter()
  while True:
    _block(call(memory))
    calls += 1
    elapsed = time.perf_counter() - start
    if elapsed >= min_seconds and calls >= 3:
      return calls * memory.shape[0] / elapsed


def multiply_adds_per_step(memory_size, num_registers, mode):
  """About how many multiply-adds one example's step takes in the fused op,
  forward: the controller M (11 + 3R), the arguments' selection 2RM, ADD
  and SUB (one convolution) and READ 2M^2, WRITE and the registers' write
  2M^2 + 2RM; training: three times that (the backward pass is about twice
  the forward) and the WRITEs replayed from the checkpoints once more.
  9,480 at M 20, R 7."""
  m, r = memory_size, num_registers
  write = 2 * m * m + 2 * r * m
  forward = (m * (isa.NUM_INSTRUCTIONS + 3 * r) + 2 * r * m + 2 * m * m +
             write)
  return forward if mode == "forward" else 3 * forward + write


def peak_share(memory_size, batch, num_registers, mode, per_step_ms,
               vector_rate, lanes, cores):
  """The steps' multiply-adds a second, and their share of the peak of
  the cores they run on, `vector_rate` vector multiply-adds a second each.

  The op runs a batch `lanes` examples to a vector (one vector operation
  for a group of up to `lanes` examples), its groups side by side on up to
  `cores` cores; a batch too small to fill half the lanes runs one example
  at a time, vectorised over its values (counted here as if perfectly).
  """
  groups = math.ceil(batch / lanes)
  vectors = groups if 2 * batch >= lanes else batch / lanes
  rate = (vectors * multiply_adds_per_step(memory_size, num_registers, mode)
          / (per_step_ms / 1e3))
  used = min(groups, cores)
  return rate * lanes, rate / (vector_rate * used), used


def breakdown(memory_size, batch, num_registers, steps, mode, rounds,
              xla_speed=None):
  """Splits the fused op's time per call (ms) and compares the steps with
  this machine's multiply-add peak, from examples/s in each round
  (`rounds`: "fused" the whole call, "floor" and "one_step" the calls
  that `prepare("floor", ...)` and a 1-step fused run make).

  A round's steps cost its full call less its 1-step call; the parts are
  the medians over the rounds, the op's fixed cost what the median call
  leaves besides the floor and the steps.
  """
  from tf_anc import kernels  # pylint: disable=g-import-not-at-top

  def milliseconds(speeds):
    return 1e3 * batch / np.asarray(speeds, dtype=np.float64)

  total = float(np.median(milliseconds(rounds["fused"])))
  floor = float(np.median(milliseconds(rounds["floor"])))
  rounds_per_step = ((milliseconds(rounds["fused"]) -
                      milliseconds(rounds["one_step"])) / (steps - 1))
  per_step = float(np.median(rounds_per_step))
  parts = {"floor_ms": floor, "op_fixed_ms": total - floor - steps * per_step,
           "per_step_ms": per_step, "steps_ms": steps * per_step,
           "total_ms": total,
           "rounds_per_step_ms": [float(ms) for ms in rounds_per_step]}
  if xla_speed:
    parts["xla_ms"] = 1e3 * batch / xla_speed
    parts["zero_cost_ratio"] = parts["xla_ms"] / floor
  vector_rate, lanes = kernels.fma_peak()
  multiply_adds, share, cores = peak_share(
      memory_size, batch, num_registers, mode, per_step, vector_rate, lanes,
      len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
      else os.cpu_count())
  parts.update(peak_vector_multiply_adds_per_second=vector_rate, lanes=lanes,
               cores=cores, steps_multiply_adds_per_second=multiply_adds,
               steps_peak_share=share)
  return parts


def _print_breakdown(steps, parts):
  line = (f"      per call {parts['total_ms']:.2f} ms = TensorFlow's floor "
          f"{parts['floor_ms']:.2f} + op fixed {parts['op_fixed_ms']:.2f} + "
          f"{steps} steps x {1e3 * parts['per_step_ms']:.1f} us "
          f"({parts['steps_ms']:.2f})")
  if "xla_ms" in parts:
    line += (f"; XLA {parts['xla_ms']:.2f} ms: an op of zero cost would be "
             f"{parts['zero_cost_ratio']:.0f}x XLA")
  print(line, flush=True)
  whose = f"{parts['cores']} cores'" if parts["cores"] > 1 else "1 core's"
  print(f"      steps: {parts['steps_multiply_adds_per_second'] / 1e9:.1f} G "
        f"multiply-adds/s, {100 * parts['steps_peak_share']:.0f}% of {whose} "
        f"peak (measured here: "
        f"{parts['peak_vector_multiply_adds_per_second'] / 1e9:.2f} G "
        f"multiply-adds/s a core on vectors of {parts['lanes']} floats)",
        flush=True)


def _block(result):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for tensor in tf.nest.flatten(result):
    tensor.numpy()


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  for impl in _IMPLS.value:
    if impl not in IMPLS:
      raise cli.UsageError(f"unknown --impls entry {impl!r}; choose from "
                           f"{', '.join(IMPLS)}")
  if _BREAKDOWN.value and _STEPS.value < 2:
    raise cli.UsageError("--breakdown compares runs of 1 and --steps steps: "
                         "give --steps of at least 2")
  try:
    memory_sizes = [int(m) for m in _MEMORY_SIZES.value]
    batches = [int(b) for b in _BATCHES.value]
  except ValueError as error:
    raise cli.UsageError(f"--memory_sizes and --batches take integers: "
                         f"{error}") from None
  rows = []
  print(f"{_MODE.value}, R = {_REGISTERS.value}, T = {_STEPS.value}")
  print(f"{'impl':<5s} {'M':>4s} {'batch':>6s} {'examples/s':>12s} "
        f"{'us/example/step':>16s} {'fused/xla':>10s}")
  for memory_size in memory_sizes:
    for batch in batches:
      calls = {impl: prepare(impl, memory_size, batch, _REGISTERS.value,
                             _STEPS.value, _MODE.value)
               for impl in _IMPLS.value}
      if "fused" in calls and _BREAKDOWN.value:
        calls["floor"] = prepare("floor", memory_size, batch,
                                 _REGISTERS.value, _STEPS.value, _MODE.value)
        calls["one_step"] = prepare("fused", memory_size, batch,
                                    _REGISTERS.value, 1, _MODE.value)
      # Each call's speed in each round, the rounds taking turns.
      rounds = {impl: [] for impl in calls}
      for _ in range(_ROUNDS.value):
        for impl, call in calls.items():
          rounds[impl].append(time_call(*call, _MIN_SECONDS.value))
      for impl in _IMPLS.value:
        speed = float(np.median(rounds[impl]))
        rows.append({"impl": impl, "memory_size": memory_size,
                     "registers": _REGISTERS.value, "steps": _STEPS.value,
                     "batch": batch, "examples_per_second": speed,
                     "rounds_examples_per_second": rounds[impl]})
        ratio = ""
        if impl == "fused" and "xla" in rounds:
          # Speed-up of the fused op over XLA: the median of the rounds'.
          rows[-1]["fused_over_xla"] = float(np.median(
              np.divide(rounds["fused"], rounds["xla"])))
          ratio = f"{rows[-1]['fused_over_xla']:>9.1f}x"
        per_step = 1e6 / (speed * _STEPS.value)
        spread = (f"  ({min(rounds[impl]):.1f}-{max(rounds[impl]):.1f})"
                  if _ROUNDS.value > 1 else "")
        print(f"{impl:<5s} {memory_size:>4d} {batch:>6d} {speed:>12.1f} "
              f"{per_step:>16.2f} {ratio:>10s}{spread}", flush=True)
        if impl == "fused" and _BREAKDOWN.value:
          rows[-1]["breakdown"] = breakdown(
              memory_size, batch, _REGISTERS.value, _STEPS.value,
              _MODE.value, rounds,
              float(np.median(rounds["xla"])) if "xla" in rounds else None)
          _print_breakdown(_STEPS.value, rows[-1]["breakdown"])
  if _OUTPUT.value:
    with open(_OUTPUT.value, "w") as f:
      json.dump(rows, f, indent=1)


if __name__ == "__main__":
  cli.run(main)
