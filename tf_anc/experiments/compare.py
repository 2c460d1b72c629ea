"""Variants of the same runs side by side: success rates with intervals.

  python -m tf_anc.experiments.compare --flagfile=configs/anc/experiments/audit.flags

Each task's flagfile (`<configs>/<task>.flags`: a Table 1 task's, or a
user's program on an inputs file) is run once per variant and seed, with the variant's flags added: `--variant=NAME` runs it as it is,
`--variant=NAME:--padding=random --init_noise=0` adds flags. The restarts of
a variant's seeds are pooled into one success rate with its 95% (Wilson)
interval, written as `compare.md` and `compare.json` in `--output_dir`
(runs already finished there are read, not trained again). The audit
against the authors' code and the population search are measured this way
(docs/reproduction.md).
"""

import json
import os
import time

from absl import flags

from tf_anc import shipped
from tf_anc.common import cli
from tf_anc.experiments import task_runs

_TASKS = flags.DEFINE_list("tasks", list(task_runs.PAPER), "Task specs to run "
                           "(e.g. listk@biased_k_upto_l).")
_VARIANTS = flags.DEFINE_multi_string(
    "variant", [], "NAME or NAME:FLAGS, the flags added to every run of it.")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds each variant runs with.")
_RESTARTS = flags.DEFINE_integer("restarts", 20, "Restarts per run.",
                                 lower_bound=1)
_CONFIGS = flags.DEFINE_string(
    "configs", str(shipped.configs_dir() / "anc"),
    "Directory of the <task>.flags files to run.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/compare",
                                  "Where runs and tables go.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "tfds data directory.")


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not _VARIANTS.value:
    raise cli.UsageError("give at least one --variant=NAME[:FLAGS]")
  try:
    variants = [task_runs.parse_variant(text) for text in _VARIANTS.value]
    seeds = [int(seed) for seed in _SEEDS.value]
  except ValueError as error:
    raise cli.UsageError(str(error)) from None
  task_runs.check_tasks(_TASKS.value, _CONFIGS.value, paper_only=False)
  # Its start-up notices kept off the terminal, as in every command.
  cli.import_tensorflow_and_tfds()
  rows = []
  for spec in _TASKS.value:
    for name, added in variants:
      started = time.perf_counter()
      reports = [task_runs.run_task(
          spec, _RESTARTS.value,
          os.path.join(_OUTPUT_DIR.value, spec, name, f"seed{seed}"),
          _DATA_DIR.value, _CONFIGS.value, [*added, f"--seed={seed}"])
                 for seed in seeds]
      rows.append(task_runs.pooled(spec, name, reports,
                                   time.perf_counter() - started))
      print(task_runs.variants_markdown(rows[-1:]).splitlines()[-1], flush=True)
  table = task_runs.variants_markdown(rows)
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  with open(os.path.join(_OUTPUT_DIR.value, "compare.md"), "w") as f:
    f.write(table)
  with open(os.path.join(_OUTPUT_DIR.value, "compare.json"), "w") as f:
    json.dump(rows, f, indent=1)
  print(table)
  print(f"wrote compare.md and compare.json to {_OUTPUT_DIR.value}")


if __name__ == "__main__":
  cli.run(main)
