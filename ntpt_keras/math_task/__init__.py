"""The MATH experiment of the NTPT paper (section 6.2, Figure 8).

  model file (models/math.py) ──trainer──▶ restarts over the neural library,
  convergence on validation, accuracy by tape length ──export──▶ a SavedModel
  over tapes of any length; ──lstm──▶ the LSTM baseline; ──figure8──▶
  accuracy against length for every model, a table and a plot.

`python -m tf_anc.train --math` (`math_task.train`) runs one MATH model;
`python -m ntpt_keras.math_task.figure8` makes Figure 8.
"""
