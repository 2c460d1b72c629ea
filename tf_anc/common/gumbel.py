"""Gumbel-softmax relaxation: a relaxed draw of one discrete program.

Both systems hold a program as logits over discrete choices and run it
softly. Trained on the softmax of those logits, a restart can settle on a
mixture of choices that only the soft interpreter can exploit, whose argmax
program is wrong. Trained instead on a Gumbel-softmax sample (Maddison et
al. and Jang et al., 2017), each step runs one relaxed draw of a program:
the draw's largest entry falls on each value with that value's softmax
probability (the Gumbel-max trick), and such mixtures no longer pay.
"""

import numpy as np
import tensorflow as tf


def gumbel_logits(logits, temperature, seed):
  """(logits + G) / temperature, G standard Gumbel noise of logits' shape.

  Its softmax over the last axis is a Gumbel-softmax sample. `seed` (`[2]`
  integers) fixes G statelessly, so a run resumed from a checkpoint draws
  what the uninterrupted run drew.
  """
  uniform = tf.random.stateless_uniform(
      tf.shape(logits), seed, minval=np.finfo(np.float32).tiny,
      dtype=logits.dtype)
  gumbel = -tf.math.log(-tf.math.log(uniform))
  return (logits + gumbel) / temperature


def relaxed_samples(logits_by_name, temperature, seed):
  """`gumbel_logits` of every tensor in the (ordered) mapping, the i-th drawn
  from `seed` folded with i: independent noise for each."""
  return {name: gumbel_logits(
              logits, temperature,
              tf.random.experimental.stateless_fold_in(seed, number))
          for number, (name, logits) in enumerate(logits_by_name.items())}


def training_relaxation(temperature, seed, step):
  """The `gumbel_temperature` and `seed` keyword arguments a training step
  runs its programs under: none when `temperature` is None, else a sample
  drawn from (seed, step), so that a resumed run draws what the
  uninterrupted one would have. `step`: an int64 tensor."""
  if temperature is None:
    return {}
  return {"gumbel_temperature": temperature,
          "seed": tf.stack([tf.constant(seed, tf.int64), step])}
