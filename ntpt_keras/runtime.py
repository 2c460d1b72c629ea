"""Marginal arithmetic: evaluates a compiled program's graph with TensorFlow.

Every value is a tensor of probabilities `[K, B, n]`: restart, example,
the value's range (Params, Inputs and constants are broadcast to that shape
once, so every later operation sees one shape). The three operations of TerpreT's semantics (paper, section
2.1) are `apply` (a Runtime function's indicator tensor contracted with its
arguments' marginals), `mix` (a branch join weighted by its selector's
marginal) and reading a learned function's output; `learned` below applies
each network once per tensor array rather than once per call site.
"""

from typing import Callable, Dict, Mapping

import numpy as np
import tensorflow as tf

from ntpt_keras.lang import program as ir


def one_hot(values, size: int):
  """The point masses of int `values` `[...]`, as `[..., size]`."""
  return tf.one_hot(values, size, dtype=tf.float32)


def apply(indicator: np.ndarray, args):
  """`mu_out[i] = sum_{j,k} I[j, k, i] mu_x[j] mu_y[k]` for any arity.

  `args` holds an int (a static argument: a slice of the indicator) or a
  marginal `[K, B, d]` per argument.
  """
  table = indicator[tuple(a if isinstance(a, int) else slice(None)
                          for a in args)]
  marginals = [a for a in args if not isinstance(a, int)]
  axes = "defghijlmopqrstuvwxyz"[:len(marginals)]
  subscripts = ",".join(f"kb{axis}" for axis in axes)
  return tf.einsum(f"{subscripts},{axes}n->kbn", *marginals,
                   tf.constant(table))


def mix(selector, cases):
  """`sum_c P(selector in values_c) * value_c` over `cases` [(values, value)].

  All marginals are `[K, B, n]`: the cases' values are stacked and
  contracted with their weights in one einsum.
  """
  size = selector.shape[-1]
  cases = [(values, value) for values, value in cases if values]
  if [values for values, _ in cases] == [(v,) for v in range(size)]:
    weights = selector
  else:  # Some case (an else) covers several values: sum their masses.
    membership = np.zeros([size, len(cases)], np.float32)
    for case, (values, _) in enumerate(cases):
      membership[list(values), case] = 1.0
    weights = tf.einsum("kbs,sc->kbc", selector, membership)
  return tf.einsum("kbc,kbcn->kbn", weights,
                   tf.stack([value for _, value in cases], axis=2))


def evaluate(program: ir.Program, param_probabilities: Mapping[str, tf.Tensor],
             inputs: Mapping[str, tf.Tensor],
             apply_network: Callable[[str, tf.Tensor], tf.Tensor],
             leading_shape) -> Dict[str, tf.Tensor]:
  """The marginal of every Output, `[K, B, *shape, n]`.

  `param_probabilities[name]` is `[K, *shape, n]`; `inputs` maps Inputs to
  ints `[B, *shape]` and InputTensors to floats `[B, *shape, *size]`;
  `apply_network(function, features)` maps features `[K|1, N, width]` to
  the network's output distributions `[K, N, n]`, restart by restart;
  `leading_shape` is `[K, B]`.
  """
  values = []
  # A learned function applied to one tensor array: run once on all cells.
  on_arrays = {}

  def learned_on_array(function, tensor_name):
    key = (function, tensor_name)
    if key not in on_arrays:
      declaration = program.declarations[tensor_name]
      images = inputs[tensor_name]
      features = tf.reshape(images, [1, -1, int(np.prod(declaration.size))])
      outputs = apply_network(function, features)  # [K, B * cells, n]
      on_arrays[key] = tf.reshape(
          outputs, [tf.shape(outputs)[0], -1, *declaration.shape,
                    program.learned_functions[function].size])
    return on_arrays[key]

  def full(value, size):
    return tf.broadcast_to(value, tf.concat([leading_shape, [size]], 0))

  for node in program.nodes:
    if isinstance(node, ir.Constant):
      value = full(one_hot(node.value, node.size), node.size)
    elif isinstance(node, ir.ParamCell):
      fixed = program.fixed_params.get((node.name, node.index))
      if fixed is not None:
        value = full(one_hot(fixed, node.size), node.size)
      else:
        probabilities = param_probabilities[node.name]
        value = full(probabilities[(slice(None),) + node.index][:, None, :],
                     node.size)
    elif isinstance(node, ir.InputCell):
      cell = inputs[node.name][(slice(None),) + node.index]
      value = full(one_hot(cell, node.size)[None], node.size)
    elif isinstance(node, ir.Apply):
      indicator = program.runtime_functions[node.function].indicator
      value = _renormalized(apply(indicator, [
          a if kind == "int" else values[a] for kind, a in node.args]))
    elif isinstance(node, ir.Mix):
      value = _renormalized(mix(values[node.selector], [
          (cells, values[case]) for cells, case in node.cases]))
    elif isinstance(node, ir.LearnApply):
      value = _learn_apply(node, values, inputs, learned_on_array,
                           apply_network, leading_shape)
    else:
      raise TypeError(f"unknown node {node!r}")
    values.append(value)

  outputs = {}
  for declaration in program.declarations_of(ir.OUTPUT):
    cells = [values[program.outputs[(declaration.name, i)]]
             for i in declaration.cells()]
    stacked = tf.stack(cells, axis=2)  # [K, B, cells, n]
    outputs[declaration.name] = tf.reshape(stacked, tf.concat(
        [leading_shape, list(declaration.shape), [declaration.size]], 0))
  return outputs


def _renormalized(marginal):
  """`marginal` scaled to total mass 1.

  In exact arithmetic it already is; in float32 each apply or mix multiplies
  the rounding errors of its inputs' masses, and over tens of interpreter
  steps (each state depending on the last two) that error grows
  geometrically until the marginals overflow.
  """
  return marginal / tf.reduce_sum(marginal, axis=-1, keepdims=True)


def _learn_apply(node, values, inputs, learned_on_array, apply_network,
                 leading_shape):
  """A learned function's output `[K, B, n]` at one call site."""
  if len(node.args) == 1 and node.args[0][0] == "tensor":
    cell = node.args[0][1]
    outputs = learned_on_array(node.function, cell.name)
    return outputs[(slice(None), slice(None)) + cell.index]
  features = []
  for kind, arg in node.args:
    if kind == "tensor":
      image = inputs[arg.name][(slice(None),) + arg.index]
      feature = tf.reshape(image, [1, tf.shape(image)[0], -1])
    else:
      feature = values[arg]
    features.append(tf.broadcast_to(feature, tf.concat(
        [leading_shape, tf.shape(feature)[2:]], 0)))
  return apply_network(node.function, tf.concat(features, axis=-1))
