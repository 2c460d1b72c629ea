"""Population search across the restarts axis: exploit and explore.

Gradient descent only makes local changes (the paper's conclusion); a
population adds a global step in the manner of population-based training,
inside the one graph that trains the K restarts. Every `interval` steps each
restart is scored on the same fixed train examples (accuracy first, then
loss). The weakest `fraction` of the restarts each take a copy of one of the
strongest: its logits, its optimizer state and its hyper-parameters; then
explore: Gaussian noise on the copied logits, optionally a fresh draw of
some of its choices (`mutation`), and each hyper-parameter scaled by 0.8 or
1.25. The hyper-parameters (ANC's) are per-restart scales of the learning
rate and of the efficiency weight (gamma), held in variables so that a
checkpoint keeps them; NTPT's MATH model has none.

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
  """The per-restart hyper-parameters and the exploit/explore step.

  `hyperparameters` False: a population of the logits alone (the NTPT MATH
  model's, which has no per-restart hyper-parameters to explore).
  """

  def __init__(self, num_restarts, fraction, noise, seed,
               hyperparameters=True, mutation=0.0):
    self.num_restarts, self.fraction = num_restarts, fraction
    self.noise, self.seed = noise, seed
    # Each choice of a copy (a row of logits over its values) is drawn
    # afresh, N(0, 1), with this probability: a jump to a neighbouring
    # program that noise on saturated logits would never make.
    self.mutation = mutation
    self.scales = ()
    if hyperparameters:
      self.learning_rate_scale = tf.Variable(
          tf.ones([num_restarts]), trainable=False,
          name="learning_rate_scale")
      self.efficiency_scale = tf.Variable(
          tf.ones([num_restarts]), trainable=False, name="efficiency_scale")
      self.scales = (self.learning_rate_scale, self.efficiency_scale)

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
    for loser, source in replacements:
      for variable in (*logits, *optimizer_state, *self.scales):
        variable[loser].assign(variable[source])
      for variable in logits:
        shape = variable.shape[1:]
        copied = (variable[loser] + rng.normal(0.0, self.noise, shape).astype(
            np.float32)).numpy()
        if self.mutation:
          drawn = rng.random(shape[:-1]) < self.mutation
          copied[drawn] = rng.normal(0.0, 1.0, (int(drawn.sum()), shape[-1]))
        variable[loser].assign(copied)
      for scale in self.scales:
        scale[loser].assign(scale[loser] * rng.choice(_PERTURBATIONS))

  def evolve(self, accuracies, mean_steps, losses, logits, optimizer, step,
             log=print):
    """One move after `step`: the restarts, scored, exploit and explore.

    `logits`: the restarts-major variables, `[K, ...]`; the optimizer's
    slots of the same shape move with them. Logs who copied whom; returns
    the replacements.
    """
    replacements = self.replacements(accuracies, mean_steps, losses, step)
    state = [variable for variable in optimizer.variables
             if variable.shape.rank and variable.shape[0] == self.num_restarts]
    self.exploit_and_explore(replacements, logits, state, step)
    if replacements:
      log(f"step {step}: population: " + ", ".join(
          f"{source}->{loser}" for loser, source in replacements))
    return replacements

  def _rng(self, step, purpose):
    # Tagged so that it never meets the data's (seed, restart, step) streams.
    return np.random.default_rng([self.seed, step, purpose, 0x706F70])
