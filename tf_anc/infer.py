"""Runs an exported machine (`tf_anc.export`) on memories.

  python -m tf_anc.infer --saved_model=BASE --input=3,1,4
  python -m tf_anc.infer --saved_model=BASE --version=1 --input=3,1,4
  python -m tf_anc.infer --saved_model=BASE/2 --inputs_file=F.json

`--saved_model` is the base folder an export writes its numbered versions
under (`model_dir/saved_model`, see `tf_anc.export`), whose newest version
runs unless `--version` picks one, or a version folder itself.

Prints the same JSON as `python -m tf_anc.run`: `{"memory": [...],
"steps": n, "halted": true}` for `--input`, a list for `--inputs_file`. M
comes from the SavedModel's signature; T_max and eta_stop were fixed at
export.
"""

from absl import flags
import numpy as np

from tf_anc import memory_flags
from tf_anc.common import cli
from tf_anc.common import serving

_SAVED_MODEL = flags.DEFINE_string(
    "saved_model", None,
    "Base folder of versions written by tf_anc.export (the newest runs), or "
    "one version folder.", required=True)
_VERSION = flags.DEFINE_integer(
    "version", None, "Run this version under --saved_model, not the newest.",
    lower_bound=0)
_MEMORIES = memory_flags.MemoryFlags()


def _load_signature(directory):
  """The export's serving signature and the memory size M it takes."""
  # Imported here: flag errors should not wait for TensorFlow to load.
  tf = cli.import_tensorflow()
  try:
    signatures = tf.saved_model.load(directory).signatures
  # A damaged file: TF reports a cut variables file as IndexError, a
  # garbled one as an OpError, in messages of many lines.
  except (IndexError, ValueError, tf.errors.OpError) as error:
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    raise cli.UsageError(f"{directory}: not a readable SavedModel "
                         f"({reason})") from None
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
  try:
    directory = serving.resolve_saved_model(_SAVED_MODEL.value, _VERSION.value)
  except serving.NoSavedModelError as error:
    raise cli.UsageError(str(error)) from None
  signature, memory_size = _load_signature(directory)
  memories = _MEMORIES.read(memory_size)
  outputs = signature(memory=np.asarray(memories, np.int32))
  _MEMORIES.print_results([
      memory_flags.result(*run) for run in zip(outputs["memory"].numpy(),
                                      outputs["steps"].numpy(),
                                      outputs["halted"].numpy())])


if __name__ == "__main__":
  cli.run(main)
