"""Adaptive Neural Compilation in TensorFlow/Keras.

The pipeline: `.anc` text (`tf_anc.lang`) -> IR -> controller weights
(`tf_anc.weights`) -> soft machine (`tf_anc.machine`), checked against the
discrete machine (`tf_anc.reference`) -> trained on a task's examples
(`tf_anc.tasks`, `tf_anc.training`) -> exported (`tf_anc.export`).

The public API (docs/python-api.md):

    tf_anc.parse(text_or_path, memory_size)   # -> the program's IR
    tf_anc.Task.from_inputs(program, inputs)  # a program on its inputs
    tf_anc.TrainingConfig(...)                # the run's settings
    tf_anc.train_and_evaluate(config, task=task)  # -> results.json's report
    tf_anc.AncModel(task, restarts=8)         # the restarts as a keras.Model

These load on first use, so that the command-line tools (`python -m
tf_anc.X`) can answer a bad flag before TensorFlow loads.
"""

from tf_anc.common import lazy

_PUBLIC = {
    "parse": "tf_anc.lang.parser",
    "Task": "tf_anc.tasks",
    "TrainingConfig": "tf_anc.training.config",
    "LossWeights": "tf_anc.training.config",
    "train_and_evaluate": "tf_anc.training.trainer",
    "AncModel": "tf_anc.training.model",
}
__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy.exports(__name__, _PUBLIC)
