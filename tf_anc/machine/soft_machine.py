"""The soft machine: the controller and the machine step unrolled in time.

Like `keras.layers.RNN` around a cell: the step is a pure function of
(state, command); this layer owns the `tf.while_loop`, `T_max` and the
per-example halting mask that freezes examples once their halting
probability reaches `eta_stop`. With the fused implementation
(tf_anc.machine.fused, `step_impl`) one op runs that whole loop instead.
"""

from typing import NamedTuple

import keras
import tensorflow as tf

from tf_anc import kernels
from tf_anc.machine import fused
from tf_anc.machine import inputs
from tf_anc.machine import step
from tf_anc.machine.controller import Controller
from tf_anc.weights import ControllerWeights

DEFAULT_ETA_STOP = 0.9


@keras.saving.register_keras_serializable(package="tf_anc")
class SoftMachine(keras.layers.Layer):
  """Runs the differentiable machine on a batch of memories.

  Input: integer memories `[B, M]` (values in [0, M)) or memory
  distributions `[B, M, M]` (float rows, each non-negative and summing to
  1); anything else is refused naming what was expected and given
  (tf_anc.machine.inputs). With `num_restarts=K`, the layer holds K
  independent controllers and every input and output gains a leading axis
  of K: restart k runs on `memory[k]`.

  Output, a dict:
    memory: `[B, M, M]` final memory distributions.
    registers: `[B, R, M]` final register distributions.
    halting_probabilities: `[B, T_max]`, p_t for t = 1..T_max; constant once
      an example has halted (or the loop has ended).
    running: `[B, T_max]` bool, whether the example executed step t.
    steps: `[B]` int32, steps executed (the final STOP included).
    halted: `[B]` bool, whether p reached `eta_stop` within `T_max` steps.
    memory_trace: `[B, T_max, M, M]`, memory after each step; only with
      `trace_memory=True` (the layer's, or the call's).
    step_errors: `[B, T_max]`, `memory_error` of the memory after each step
      (what the confidence loss charges); only when called with
      `error_target` (`[B, M]` int target memories) and `error_mask`
      (`[B, M]` bool, the cells that count). Unlike a trace, this keeps
      T_max * M^2 values per example out of the graph.
    memory_at_halting: `[B, M, M]`, the memory a machine that stops where it
      halts would output (`memory_at_halting`); only when called with
      `halting_mixture=True`, which sums it as the machine runs, without a
      trace. It has no gradient on the fused op.

  Called with `gumbel_temperature` t and `seed` (`[2]` integers), the
  machine runs a Gumbel-softmax sample of its controller's program
  (`Controller.program_logits`) instead of the program itself.

  `step_impl`: "tf" (the plain-TF loop), "fused" (the whole run as one
  op) or "auto" (fused when its library loads); None defers to
  $TF_ANC_STEP, itself "auto" by default. `halting_gradient="authors"`
  backpropagates through the halting update as the authors' code does
  (`step.HALTING_GRADIENTS`).
  """

  def __init__(self, memory_size, register_names, max_steps,
               eta_stop=DEFAULT_ETA_STOP, trace_memory=False,
               num_restarts=None, step_impl=None, halting_gradient="exact",
               **kwargs):
    super().__init__(**kwargs)
    if step_impl is not None:
      fused.resolve_step_impl(step_impl)  # rejects unknown names now
    if halting_gradient not in step.HALTING_GRADIENTS:
      raise ValueError(f"unknown halting gradient {halting_gradient!r}; "
                       f"choose from {', '.join(step.HALTING_GRADIENTS)}")
    self.step_impl = step_impl
    self.halting_gradient = halting_gradient
    self.memory_size = int(memory_size)
    self.max_steps = int(max_steps)
    if self.max_steps < 1:
      raise ValueError(f"max_steps must be at least 1, got {max_steps}")
    self.eta_stop = float(eta_stop)
    self.trace_memory = bool(trace_memory)
    self.num_restarts = None if num_restarts is None else int(num_restarts)
    self.controller = Controller(memory_size, register_names,
                                 num_restarts=self.num_restarts or 1,
                                 dtype=self.dtype_policy, name="controller")

  @classmethod
  def from_weights(cls, weights: ControllerWeights, max_steps, **kwargs):
    """A machine running the program held by `weights` (e.g. compiled)."""
    machine = cls(weights.memory_size, weights.register_names, max_steps,
                  **kwargs)
    machine.controller.set_controller_weights(weights)
    machine.built = True
    return machine

  def build(self, input_shape=None):
    if not self.controller.built:
      self.controller.build()
    super().build(input_shape)

  def call(self, memory, error_target=None, error_mask=None,
           gumbel_temperature=None, seed=None, trace_memory=None,
           halting_mixture=False):
    use_fused = fused.use_fused(self.step_impl, self.compute_dtype)
    memory = inputs.memory_distributions(memory, self.memory_size,
                                         self.num_restarts, self.compute_dtype,
                                         fused=use_fused)
    if self.num_restarts is not None:  # [K, B, ...] -> restart-major [K*B, ...]
      memory = tf.reshape(memory, [-1, self.memory_size, self.memory_size])
    errors = None
    if (error_target is None) != (error_mask is None):
      raise ValueError("error_target and error_mask go together")
    if error_target is not None:
      errors = ErrorTarget(*inputs.error_cells(
          error_target, error_mask, self.memory_size, self.num_restarts,
          self.compute_dtype, fused=use_fused))
    if (gumbel_temperature is None) != (seed is None):
      raise ValueError("gumbel_temperature and seed go together")
    if gumbel_temperature is not None:
      gumbel_temperature = inputs.gumbel_temperature(gumbel_temperature)
    logits = self.controller.program_logits(gumbel_temperature, seed)
    state = self.controller.initial_state(memory, logits, fused=use_fused)
    if trace_memory is None:
      trace_memory = self.trace_memory
    if use_fused:
      outputs = self._fused_run(state, logits, errors, trace_memory,
                                halting_mixture)
    else:
      outputs = self._unrolled_run(state, logits, errors, trace_memory,
                                   halting_mixture)
    if self.num_restarts is not None:
      outputs = {name: tf.reshape(value, [self.num_restarts, -1] +
                                  value.shape[1:].as_list())
                 for name, value in outputs.items()}
    return outputs

  def _fused_run(self, state, logits, errors, trace_memory,
                 halting_mixture=False):
    run = kernels.machine_run(
        state, (logits["instruction_logits"],
                logits["first_argument_logits"],
                logits["second_argument_logits"], logits["output_logits"]),
        self.max_steps, self.eta_stop, trace_memory=trace_memory,
        error_target=None if errors is None else errors.cells,
        error_mask=None if errors is None else errors.mask,
        halting_gradient=self.halting_gradient,
        halting_mixture=halting_mixture)
    outputs = {
        "memory": run.final_memory,
        "registers": run.final_registers,
        "halting_probabilities": run.halting_probabilities,
        "running": run.running,
        "steps": run.steps,
        "halted": tf.logical_not(
            run.halting_probabilities[:, -1] < self.eta_stop),
    }
    if trace_memory:
      outputs["memory_trace"] = run.memory_trace
    if errors is not None:
      outputs["step_errors"] = run.step_errors
    if halting_mixture:
      outputs["memory_at_halting"] = run.memory_at_halting
    return outputs

  def _unrolled_run(self, state, logits, errors, trace_memory,
                    halting_mixture=False):
    if errors is not None:
      target_rows = tf.one_hot(errors.cells, self.memory_size,
                               dtype=state.memory.dtype)
    not_running = tf.zeros_like(state.halting_probability, tf.bool)
    traced = ["halting_probabilities", "running"]
    if trace_memory:
      traced.append("memory_trace")
    if errors is not None:
      traced.append("step_errors")

    def traced_values(state, running):
      values = {"halting_probabilities": state.halting_probability,
                "running": running, "memory_trace": state.memory}
      if errors is not None:
        values["step_errors"] = memory_error(state.memory, target_rows,
                                             errors.mask)
      return values

    def is_running(state):
      return state.halting_probability < self.eta_stop

    def loop_condition(t, state, steps, trace_arrays, mixture):
      del t, steps, trace_arrays, mixture
      return tf.reduce_any(is_running(state))

    def mixed(mixture, state):
      """The memory at halting's sum with the memory after a step added,
      weighted by p_t - p_{t-1}; and p_t."""
      if not halting_mixture:
        return mixture
      total, previous_halting = mixture
      weight = state.halting_probability - previous_halting
      return (total + weight[:, None, None] * state.memory,
              state.halting_probability)

    def loop_body(t, state, steps, trace_arrays, mixture):
      running = is_running(state)
      stepped = step.machine_step(
          state, self.controller(state.instruction_register, logits),
          self.halting_gradient)
      state = tf.nest.map_structure(
          lambda new, old: _where_running(running, new, old), stepped, state)
      steps += tf.cast(running, tf.int32)
      values = traced_values(state, running)
      trace_arrays = {name: array.write(t, values[name])
                      for name, array in trace_arrays.items()}
      return t + 1, state, steps, trace_arrays, mixed(mixture, state)

    initial_values = traced_values(state, not_running)
    trace_arrays = {
        name: tf.TensorArray(initial_values[name].dtype, size=self.max_steps,
                             element_shape=initial_values[name].shape)
        for name in traced}
    # p_0 = 0, as memory_at_halting has it.
    mixture = ((tf.zeros_like(state.memory),
                tf.zeros_like(state.halting_probability))
               if halting_mixture else ())
    num_steps, state, steps, trace_arrays, mixture = tf.while_loop(
        loop_condition, loop_body,
        (0, state, tf.zeros_like(not_running, tf.int32), trace_arrays,
         mixture),
        maximum_iterations=self.max_steps)

    outputs = {
        "memory": state.memory,
        "registers": state.registers,
        "steps": steps,
        "halted": tf.logical_not(is_running(state)),
    }
    # Steps the loop did not reach repeat the final (frozen) values.
    reached = tf.range(self.max_steps) < num_steps
    final_values = traced_values(state, not_running)
    for name, array in trace_arrays.items():
      final = final_values[name]
      time_major = tf.where(
          tf.reshape(reached, [-1] + [1] * final.shape.rank),
          array.stack(), final[None])
      outputs[name] = _batch_major(time_major)
    if halting_mixture:
      # The final memory's weight, 1 - p_T, and p_T - p_{t-1} where the
      # loop ended before the step that reached p_T (every example halted
      # from the start: no step ran).
      total, previous_halting = mixture
      outputs["memory_at_halting"] = (
          total + (1.0 - previous_halting)[:, None, None] * state.memory)
    return outputs

  def get_config(self):
    config = super().get_config()
    config.update(memory_size=self.memory_size,
                  register_names=list(self.controller.register_names),
                  max_steps=self.max_steps, eta_stop=self.eta_stop,
                  trace_memory=self.trace_memory,
                  num_restarts=self.num_restarts, step_impl=self.step_impl,
                  halting_gradient=self.halting_gradient)
    return config


class ErrorTarget(NamedTuple):
  """What `step_errors` measures the memory against: a target memory, each
  cell weighted."""
  cells: tf.Tensor  # [B, M] int32 target cell values (one-hot rows)
  mask: tf.Tensor  # [B, M] weight of each row (cell): 1 counts, 0 not


def memory_error(memory, target_rows, mask):
  """sum_i mask_i sum_c (memory[i, c] - target_rows[i, c])^2: [..., M, M],
  [..., M, M] and [..., M] -> [...], the squared error of the cells that
  count."""
  cell_error = _sum_of_squares(memory - target_rows)
  return tf.reduce_sum(cell_error * mask, axis=-1)


@tf.custom_gradient
def _sum_of_squares(values):
  """sum_c values[..., c]^2. Its gradient has the values TF's own gives,
  the upstream gradient times 2 values, but broadcasts the upstream
  gradient where TF tiles it: tiling [..., M] to [..., M, M] was a tenth of
  a training step at Table 1's ListK (docs/fused-ops.md)."""

  def gradient(upstream):
    return upstream[..., None] * (values * 2.0)

  return tf.reduce_sum(tf.square(values), axis=-1), gradient


def halting_at_each_step(halting_probabilities):
  """p_t - p_{t-1} (p_0 = 0): `[..., T]`, the probability of halting at each
  step, from the cumulative `halting_probabilities`."""
  rank = halting_probabilities.shape.rank
  steps = tf.shape(halting_probabilities)[-1]
  # Shifted by a Slice and a Pad, whose gradients (a Pad and a Slice) cost
  # a fraction of a strided slice's and a concatenation's.
  previous = tf.pad(
      tf.slice(halting_probabilities, [0] * rank,
               tf.concat([[-1] * (rank - 1), [steps - 1]], 0)),
      [[0, 0]] * (rank - 1) + [[1, 0]])
  return halting_probabilities - previous


def last_step(values):
  """`values[..., -1]` of a `[..., T]` tensor, by a Slice: its gradient, a
  Pad, costs a fraction of a strided slice's."""
  rank = values.shape.rank
  return tf.squeeze(
      tf.slice(values, tf.concat([[0] * (rank - 1), [tf.shape(values)[-1] - 1]],
                                 0), [-1] * (rank - 1) + [1]), -1)


def memory_at_halting(outputs):
  """The memory a machine that stops where it halts would output:
  sum_t (p_t - p_{t-1}) memory_t + (1 - p_T) memory_T (p_0 = 0), `[B, M,
  M]`, from the outputs of a run called with `halting_mixture=True`, or
  else of a traced one (`trace_memory`).

  The confidence loss charges this mixture's error. Where the final memory
  is right but this is not, the halting probability says the machine
  stopped before the work was done and the answer comes from the little
  mass that ran on: a collapse into early halting, not a faster program.
  """
  if "memory_at_halting" in outputs:
    return outputs["memory_at_halting"]
  halting = outputs["halting_probabilities"]  # [B, T], constant once halted
  mixture = tf.einsum("...t,...tij->...ij", halting_at_each_step(halting),
                      outputs["memory_trace"])
  still_running = (1.0 - halting[..., -1])[..., None, None]
  return mixture + still_running * outputs["memory"]


def _where_running(running, new, old):
  running = tf.reshape(running, [-1] + [1] * (new.shape.rank - 1))
  return tf.where(running, new, old)


def _batch_major(time_major):
  permutation = [1, 0] + list(range(2, time_major.shape.rank))
  return tf.transpose(time_major, permutation)
