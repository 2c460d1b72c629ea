"""Runs an exported machine (`tf_anc.export`) on memories.

  python -m tf_anc.infer --saved_model=DIR --input=3,1,4
  python -m tf_anc.infer --saved_model=DIR --inputs_file=F.json

Prints the same JSON as `python -m tf_anc.run`: `{"memory": [...],
"steps": n, "halted": true}` for `--input`, a list for `--inputs_file`. M
comes from the SavedModel's signature; T_max and eta_stop were fixed at
export.
"""

from absl import flags
import numpy as np

from tf_anc import cli

_SAVED_MODEL = flags.DEFINE_string(
    "saved_model", None, "Directory written by tf_anc.export.", required=True)
_MEMORIES = cli.MemoryFlags()


def _load_signature(directory):
  """The export's serving signature and the memory size M it takes."""
  # Imported here: flag errors should not wait for TensorFlow to load.
  tf = cli.import_tensorflow()
  if not tf.saved_model.contains_saved_model(directory):
    raise cli.UsageError(f"no SavedModel in {directory}")
  signatures = tf.saved_model.load(directory).signatures
  key = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
  if key not in signatures:
    raise cli.UsageError(f"{directory}: the SavedModel has no {key!r} "
                         f"signature")
  spec = signatures[key].structured_input_signature[1].get("memory")
  if spec is None or spec.shape.rank != 2 or spec.shape[1] is None:
    raise cli.UsageError(f"{directory}: {key!r} does not take memory: "
                         f"int32[None, M]")
  return signatures[key], spec.shape[1]


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  signature, memory_size = _load_signature(_SAVED_MODEL.value)
  memories = _MEMORIES.read(memory_size)
  outputs = signature(memory=np.asarray(memories, np.int32))
  _MEMORIES.print_results([
      cli.result(*run) for run in zip(outputs["memory"].numpy(),
                                      outputs["steps"].numpy(),
                                      outputs["halted"].numpy())])


if __name__ == "__main__":
  cli.run(main)
