"""Population search across the restarts axis: exploit and explore.

Gradient descent only makes local changes (the paper's conclusion); a
population adds a global step in the manner of population-based training,
inside the one graph that trains the K restarts. Every `interval` steps each
restart is scored on the same fixed train examples (accuracy first, then
loss). The weakest `fraction` of the restarts each take a copy of one of the
strongest: its logits, its optimizer state and its hyper-parameters; then
explore: Gaussian noise on the copied logits and each hyper-parameter scaled
by 0.8 or 1.25. The hyper-parameters are per-restart scales of the learning
rate and of the efficiency weight (gamma), held in variables so that a
checkpoint keeps them.

The work per step is the independent restarts' plus one forward pass over
the scoring examples every `interval` steps.
"""

import numpy as np
import tensorflow as tf

_PERTURBATIONS = (0.8, 1.25)


def ranking(accuracies, mean_steps, losses):
  """Restarts best first, in the order success asks: the most accurate, then
  the fewest steps, then the lowest loss."""
  return np.lexsort((np.asarray(losses), np.asarray(mean_steps),
                     -np.asarray(accuracies)))


class Population:
  """The per-restart hyper-parameters and the exploit/explore step."""

  def __init__(self, num_restarts, fraction, noise, seed):
    self.num_restarts, self.fraction = num_restarts, fraction
    self.noise, self.seed = noise, seed
    self.learning_rate_scale = tf.Variable(
        tf.ones([num_restarts]), trainable=False, name="learning_rate_scale")
    self.efficiency_scale = tf.Variable(
        tf.ones([num_restarts]), trainable=False, name="efficiency_scale")

  def replacements(self, accuracies, mean_steps, losses, step):
    """`[(loser, source)]`: which restarts copy which, after `step`.

    A pure function of the scores and (seed, step), so that a resumed run
    replaces as the uninterrupted one did.
    """
    order = ranking(accuracies, mean_steps, losses)
    count = min(int(round(self.fraction * self.num_restarts)),
                self.num_restarts // 2)
    if count == 0:
      return []
    rng = self._rng(step, 0)
    winners, losers = order[:count], order[len(order) - count:]
    return [(int(loser), int(rng.choice(winners))) for loser in losers]

  def exploit_and_explore(self, replacements, logits, optimizer_state, step):
    """Copies each source restart into its loser, then perturbs the loser.

    Args:
      replacements: from `replacements`.
      logits: the controller's variables, each `[K, ...]`.
      optimizer_state: the optimizer's per-variable slots, each `[K, ...]`.
      step: the step just done (seeds the perturbations).
    """
    rng = self._rng(step, 1)
    scales = (self.learning_rate_scale, self.efficiency_scale)
    for loser, source in replacements:
      for variable in (*logits, *optimizer_state, *scales):
        variable[loser].assign(variable[source])
      for variable in logits:
        shape = variable.shape[1:]
        variable[loser].assign(variable[loser] + rng.normal(
            0.0, self.noise, shape).astype(np.float32))
      for scale in scales:
        scale[loser].assign(scale[loser] * rng.choice(_PERTURBATIONS))

  def _rng(self, step, purpose):
    # Tagged so that it never meets the data's (seed, restart, step) streams.
    return np.random.default_rng([self.seed, step, purpose, 0x706F70])
