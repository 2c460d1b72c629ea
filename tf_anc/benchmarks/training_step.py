"""Times an ANC training configuration's step, and the machine in it.

  python -m tf_anc.benchmarks.training_step --flagfile=configs/anc/searched/listk.flags
      --restarts=100 [--checkpoint_dir=runs/table1_methods/listk/gradient]
      [--libraries=OLD.so,NEW.so] [--rounds=2] [--timed_batches=40]
      [--output=FILE.json]

The training flags (those of `python -m tf_anc.train`) say what to time:
the whole training step (`Trainer._train_step`: the losses, their gradient
and the optimizer's update), the steps as `train` runs them
(`Trainer._train_steps`: all the timed batches' steps in one call, each
batch's indices drawn and its examples gathered by the training pipeline
while the steps run), the machine alone forward and backward (the
gradient of its final memory with respect to every controller weight),
and the machine's forward pass, each in ms per call, on `--timed_batches`
training batches, the best of 3 passes over them. Nothing is written to
the flags' `--model_dir`. With `--checkpoint_dir`, the controllers are
first restored from that run's latest checkpoint: late in training the
examples halt after differing numbers of steps, where the compiled program
makes them all alike.

With `--libraries`, each op library (TF_ANC_OP_LIBRARY) is timed in a
process of its own, the libraries taking turns for `--rounds` rounds, so
that an old and a new build meet the same machine load; printed: every
round's times and, for each call, the median over the rounds of the first
library's time over each other's.
"""

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import flags

from tf_anc import kernels
from tf_anc.common import cli
from tf_anc.training import train

_CHECKPOINT_DIR = flags.DEFINE_string(
    "checkpoint_dir", None, "Restore the controllers from this training "
    "run's latest checkpoint (its model_dir) before timing.")
_LIBRARIES = flags.DEFINE_list(
    "libraries", [], "Op libraries to time in turns, each in a process of "
    "its own (TF_ANC_OP_LIBRARY); default: the one tf_anc loads.")
_ROUNDS = flags.DEFINE_integer(
    "rounds", 2, "With --libraries, times each library is timed, taking "
    "turns.", lower_bound=1)
_TIMED_BATCHES = flags.DEFINE_integer(
    "timed_batches", 40, "Training batches each call is timed on.",
    lower_bound=1)
_OUTPUT = flags.DEFINE_string("output", None, "Also write the times as JSON.")
_JSON_LINE = flags.DEFINE_bool(
    "json_line", False, "Print only the times, as one JSON line (what a "
    "--libraries run reads from each process).")

CALLS = ("train_step", "train_step_from_pipeline",
         "machine_forward_and_gradient", "machine_forward")
ANC_FLAGS = train.Flags()


def measure(config, checkpoint_dir, timed_batches) -> dict:
  """{call: ms per call, "mean_steps": the machine's mean steps}."""
  # pylint: disable=g-import-not-at-top
  import numpy as np
  import tensorflow as tf
  from tf_anc.training import trainer as trainer_module
  with tempfile.TemporaryDirectory() as model_dir:
    trainer = trainer_module.Trainer(
        dataclasses.replace(config, model_dir=model_dir),
        log=lambda *args, **kwargs: None)
    if checkpoint_dir:
      latest = tf.train.latest_checkpoint(
          os.path.join(checkpoint_dir, "checkpoints"))
      if latest is None:
        raise cli.UsageError(f"--checkpoint_dir: no checkpoint in "
                             f"{checkpoint_dir}/checkpoints")
      try:
        tf.train.Checkpoint(controller=trainer.machine.controller).restore(
            latest).expect_partial().assert_existing_objects_matched()
      except (AssertionError, ValueError, tf.errors.OpError) as error:
        raise cli.UsageError(
            f"--checkpoint_dir: {latest} does not hold these flags' "
            f"controllers ({str(error).splitlines()[0]})") from None
    model = trainer.model
    variables = model.machine.trainable_variables

    @tf.function
    def machine_forward_and_gradient(inputs):
      with tf.GradientTape() as tape:
        memory = model.machine(inputs)["memory"]
        loss = tf.reduce_sum(memory[..., 0])
      return tape.gradient(loss, variables)

    @tf.function
    def machine_forward(inputs):
      return model.machine(inputs)["memory"]

    first_step = int(trainer.step.numpy())
    if first_step + timed_batches > config.train_steps:
      raise cli.UsageError(f"--timed_batches={timed_batches}: more than the "
                           f"run's {config.train_steps} training steps")
    batches = [tuple(tf.gather(trainer.train_data[name],
                               trainer._indices(step))  # pylint: disable=protected-access
                     for name in ("input", "target", "mask"))
               for step in range(first_step, first_step + timed_batches)]
    train_step = trainer._train_step  # pylint: disable=protected-access

    def over_batches(call):
      """A pass of `call` over the batches drawn beforehand."""
      def timed_pass():
        for batch in batches:
          result = call(*batch)
        return result
      return timed_pass

    def from_pipeline():
      """A pass of training steps as `train` runs them: one call, the
      batches drawn and gathered by the training pipeline meanwhile."""
      return trainer._train_steps(  # pylint: disable=protected-access
          iter(trainer.batches(first_step)), tf.constant(timed_batches))

    passes = {
        "train_step": over_batches(train_step),
        "train_step_from_pipeline": from_pipeline,
        "machine_forward_and_gradient": over_batches(
            lambda inputs, targets, masks: machine_forward_and_gradient(
                inputs)),
        "machine_forward": over_batches(
            lambda inputs, targets, masks: machine_forward(inputs)),
    }
    times = {}
    for name, timed_pass in passes.items():
      best = float("inf")
      for _ in range(4):  # a pass that traces, then the best of 3
        started = time.perf_counter()
        for tensor in tf.nest.flatten(timed_pass()):
          tensor.numpy()
        best = min(best, time.perf_counter() - started)
      times[name] = 1e3 * best / timed_batches
    steps = np.concatenate([model.machine(batch[0])["steps"].numpy().ravel()
                            for batch in batches])
    times["mean_steps"] = float(steps.mean())
    return times


def _time_library(library, flagfile) -> dict:
  """measure() with `library`, in a process of its own, with the flags in
  `flagfile`."""
  result = subprocess.run(
      [sys.executable, "-m", "tf_anc.benchmarks.training_step",
       f"--flagfile={flagfile}", "--libraries=", "--output=",
       "--json_line"],
      env={**os.environ, kernels.LIBRARY_ENV: library},
      capture_output=True, text=True, check=False)
  if result.returncode != 0:
    raise cli.UsageError(f"timing with {library} failed: "
                         f"{result.stderr.strip().splitlines()[-1]}")
  return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  config = ANC_FLAGS.config()
  if not _LIBRARIES.value:
    cli.import_tensorflow_and_tfds()
    from tf_anc.machine import fused  # pylint: disable=g-import-not-at-top
    library = os.environ.get(kernels.LIBRARY_ENV)
    if library and not (fused.use_fused() and not config.jit_compile):
      raise cli.UsageError(f"{kernels.LIBRARY_ENV}={library}: the machine "
                           "would not run the fused op (see above)")
    times = measure(config, _CHECKPOINT_DIR.value, _TIMED_BATCHES.value)
    if _JSON_LINE.value:
      print(json.dumps(times), flush=True)
      return
    for name in CALLS:
      print(f"{name:<30s} {times[name]:8.2f} ms")
    print(f"{'machine mean steps':<30s} {times['mean_steps']:8.2f}")
    results = {"times": times}
  else:
    for library in _LIBRARIES.value:
      if not os.path.isfile(library):
        raise cli.UsageError(f"--libraries: no file {library}")
    rounds = {library: [] for library in _LIBRARIES.value}
    with tempfile.TemporaryDirectory() as directory:
      flagfile = os.path.join(directory, "flags")
      flags.FLAGS.append_flags_into_file(flagfile)
      for round_number in range(_ROUNDS.value):
        for library in _LIBRARIES.value:
          times = _time_library(library, flagfile)
          rounds[library].append(times)
          print(f"round {round_number + 1} {library}: " + ", ".join(
              f"{name} {times[name]:.2f} ms" for name in CALLS), flush=True)
    first = _LIBRARIES.value[0]
    speedups = {}
    for library in _LIBRARIES.value[1:]:
      speedups[library] = {}
      for name in CALLS:
        speedups[library][name] = statistics.median(
            before[name] / after[name] for before, after in zip(
                rounds[first], rounds[library]))
        print(f"{name}: {first} / {library} = "
              f"{speedups[library][name]:.2f}x (median of "
              f"{_ROUNDS.value} rounds)")
    results = {"rounds": rounds, "speedups": speedups}
  if _OUTPUT.value:
    with open(_OUTPUT.value, "w") as f:
      json.dump(results, f, indent=1)


if __name__ == "__main__":
  cli.run(main)
