"""Adaptive Neural Compilation in TensorFlow/Keras.

The pipeline: `.anc` text (`tf_anc.lang`) -> IR -> controller weights
(`tf_anc.weights`) -> soft machine (`tf_anc.machine`), checked against the
discrete machine (`tf_anc.reference`).
"""
