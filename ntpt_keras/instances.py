"""Instances for training and testing: TerpreT's data files and tfds splits.

TerpreT's data format is a JSON list of batches
`{"batch_name": ..., "hypers": config name, "instances": [{name: value}]}`,
each instance mapping Input and Output names to ints or nested lists, an
Output value `null` being unobserved. `Instances` holds a set of them as
arrays in the model's shapes: Inputs and Outputs as int32 (Outputs -1 where
unobserved), InputTensors as float32; tfds splits load into the same form
(images stored as uint8 read as intensities in [0, 1]). `Instances.dataset`
is what `NeuralProgram.fit` takes, once batched.
"""

import dataclasses
from typing import Dict, Iterable, Mapping, Optional

import numpy as np
import tensorflow as tf

from ntpt_keras.lang import program as ir
from ntpt_keras.lang import source
from tf_anc.common import pipeline

UNOBSERVED = -1


@dataclasses.dataclass
class Instances:
  """Instances as arrays `[N, ...]`: Inputs/InputTensors and Outputs."""
  inputs: Dict[str, np.ndarray]
  outputs: Dict[str, np.ndarray]
  # Other features of the source (e.g. image labels), for evaluation only.
  extras: Dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

  def __len__(self):
    for values in self.outputs.values():
      return len(values)
    return 0

  def take(self, indices) -> "Instances":
    return Instances(*({name: values[indices] for name, values in part.items()}
                       for part in (self.inputs, self.outputs, self.extras)))

  def dataset(self) -> tf.data.Dataset:
    """The instances in order as `(inputs, outputs)` pairs of dicts by
    name (the extras left out): `NeuralProgram.fit`'s examples."""
    return tf.data.Dataset.from_tensor_slices((self.inputs, self.outputs))


def from_records(program: ir.Program, records: Iterable[Mapping],
                 where: str) -> Instances:
  """Instances from dicts of values (`where` names their source in errors)."""
  records = list(records)
  inputs, outputs = {}, {}
  for declaration in program.declarations.values():
    if declaration.kind in (ir.INPUT, ir.INPUT_TENSOR):
      target = inputs
    elif declaration.kind == ir.OUTPUT:
      target = outputs
    else:
      continue
    values = []
    for number, record in enumerate(records):
      if declaration.name not in record:
        if declaration.kind == ir.OUTPUT:
          values.append(np.full(declaration.shape, UNOBSERVED))
          continue
        raise ValueError(f"{where}: instance {number} has no value for "
                         f"{declaration.kind} {declaration.name}")
      values.append(_check(declaration, record[declaration.name],
                           f"{where}: instance {number}"))
    dtype = np.float32 if declaration.kind == ir.INPUT_TENSOR else np.int32
    target[declaration.name] = np.asarray(values, dtype=dtype).reshape(
        (len(records),) + declaration.shape + (
            declaration.size if declaration.kind == ir.INPUT_TENSOR else ()))
  return Instances(inputs, outputs)


def _check(declaration: ir.Declaration, value, where: str) -> np.ndarray:
  if declaration.kind == ir.INPUT_TENSOR:
    array = np.asarray(value, dtype=np.float32)
    expected = declaration.shape + declaration.size
    if array.shape != expected:
      raise ValueError(f"{where}: {declaration.name} has shape {array.shape}, "
                       f"declared {expected}")
    return array
  array = np.asarray([UNOBSERVED if v is None else v for v in
                      np.ravel(np.asarray(value, dtype=object))],
                     dtype=object)
  if array.size != max(1, int(np.prod(declaration.shape))) or (
      np.ndim(value) != len(declaration.shape)):
    raise ValueError(f"{where}: {declaration.name} should have shape "
                     f"{declaration.shape}, got {np.shape(value)}")
  observed = array != UNOBSERVED
  if declaration.kind != ir.OUTPUT and not observed.all():
    raise ValueError(f"{where}: Input {declaration.name} may not be null")
  if any(not isinstance(v, (int, np.integer)) or isinstance(v, bool)
         or not 0 <= v < declaration.size for v in array[observed]):
    raise ValueError(f"{where}: {declaration.name} = {value} is outside its "
                     f"range [0, {declaration.size})")
  return array.astype(np.int64).reshape(declaration.shape)


def read_batches(path: str) -> list:
  """The batches of a TerpreT data file."""
  batches = source.read_json(path)
  if not isinstance(batches, list) or not all(
      isinstance(b, dict) and {"batch_name", "instances"} <= set(b)
      for b in batches):
    raise ValueError(f"{path}: a data file is a list of batches "
                     '{"batch_name", "hypers", "instances"}')
  return batches


def read_terpret(program: ir.Program, path: str, batch_name: str = "train",
                 hypers_name: Optional[str] = None) -> Instances:
  """The instances of one batch of a TerpreT data file; with
  `hypers_name`, a batch for other hypers is refused."""
  batches = {b["batch_name"]: b for b in read_batches(path)}
  if batch_name not in batches:
    raise ValueError(f"{path}: no batch {batch_name!r} (it has "
                     f"{', '.join(batches)})")
  batch = batches[batch_name]
  if hypers_name is not None and batch.get("hypers", hypers_name) != (
      hypers_name):
    raise ValueError(f"{path}: batch {batch_name!r} is for hypers "
                     f"{batch['hypers']!r}, not {hypers_name!r}")
  return from_records(program, batch["instances"],
                      f"{path} batch {batch_name!r}")


def tfds_split(name: str, split: str, data_dir=None, num_examples=None
               ) -> tf.data.Dataset:
  """A tfds split's examples in order, prepared offline."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tf_anc_datasets import offline  # pylint: disable=g-import-not-at-top
  builder = offline.prepare(tfds.builder(name, data_dir=data_dir))
  if num_examples is not None:
    split = f"{split}[:{num_examples}]"
  return builder.as_dataset(split=split, shuffle_files=False)


def load_tfds(name: str, split: str, data_dir=None, num_examples=None):
  """A tfds split as a dict of numpy arrays (its examples' shapes equal)."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  return tfds.as_numpy(pipeline.in_memory(
      tfds_split(name, split, data_dir, num_examples)))


def read_tfds(program: ir.Program, name: str, split: str, data_dir=None,
              num_examples=None) -> Instances:
  """The instances of a tfds split (`builder/config`), its first
  `num_examples` (default all); its other features are extras."""
  return from_arrays(program, load_tfds(name, split, data_dir, num_examples),
                     f"{name} {split}")


def from_arrays(program: ir.Program, arrays: Mapping[str, np.ndarray],
                where: str) -> Instances:
  """Instances from feature arrays (a tfds split); other features are extras."""
  names = {d.name for d in program.declarations.values()
           if d.kind in (ir.INPUT, ir.INPUT_TENSOR, ir.OUTPUT)}
  tensors = {d.name for d in program.declarations.values()
             if d.kind == ir.INPUT_TENSOR}
  arrays = {name: _as_input_tensor(values) if name in tensors else values
            for name, values in arrays.items()}
  number = len(next(iter(arrays.values())))
  records = [{name: _python_value(arrays[name][i]) for name in names
              if name in arrays} for i in range(number)]
  instances = from_records(program, records, where)
  instances.extras = {name: np.asarray(values) for name, values in
                      arrays.items() if name not in names}
  return instances


def _as_input_tensor(values: np.ndarray) -> np.ndarray:
  """An InputTensor's values as float32: images stored as uint8 (the tfds
  builders' compact form) become intensities in [0, 1]."""
  if values.dtype == np.uint8:
    return tf.image.convert_image_dtype(values, tf.float32).numpy()
  return values


def _python_value(value):
  """Ints as Python ints (the range checks want them), tensors as arrays."""
  if np.ndim(value) == 0:
    return int(value)
  return value.tolist() if value.dtype.kind in "iu" else value
