"""Times the discrete machine and the program search: Python against native.

  python -m tf_anc.benchmarks.search [--tasks=listk,sort] [--candidates=200]
      [--examples=20] [--search_steps=1000] [--chains=8] [--output=FILE.json]

At each task's shape (its memory size, registers and T_max, its biased
inputs), the candidates are what the search proposes: the generic program
with one to three choices drawn afresh (program_search's neighbours), so
that some halt early, some loop to T_max and some are right. Both machines
run every candidate on every input: `python` one run at a time on the
reference (tf_anc.reference), `batched` all in one call of the native op
(tf_anc.machine.discrete). Printed and written: candidates x examples per
second for each, and their ratio; `batched` runs candidates already encoded
as arrays (as the native search holds them), `batched_from_programs`
counts encoding each ir.Program too.

Then the whole search: `--chains` chains of `--search_steps` annealing
steps from the generic program (program_search.anneal_many), in Python and
in native code, timed in proposals per second, with a check that both
returned the same programs. Needs the op library (tf_anc.kernels).
"""

import json
import random
import time

from absl import flags

from tf_anc.common import cli

_TASKS = flags.DEFINE_list("tasks", ["listk", "sort"],
                           "Tasks whose shapes and inputs to time.")
_CANDIDATES = flags.DEFINE_integer("candidates", 200,
                                   "Candidate programs per task.",
                                   lower_bound=1)
_EXAMPLES = flags.DEFINE_integer("examples", 20,
                                 "Distinct biased inputs per task.",
                                 lower_bound=1)
_SEARCH_STEPS = flags.DEFINE_integer(
    "search_steps", 1000, "Annealing steps per chain in the search's timing "
    "(0: time the machines only).", lower_bound=0)
_CHAINS = flags.DEFINE_integer("chains", 8, "Chains (restarts) searched.",
                               lower_bound=1)
_MIN_SECONDS = flags.DEFINE_float(
    "min_seconds", 1.0, "Repeat each measurement for at least this long.")
_OUTPUT = flags.DEFINE_string("output", None, "Also write the rows as JSON.")


def _timed(work, min_seconds):
  """Calls per second of `work` over at least `min_seconds` (one call at
  least), and its last result."""
  calls, start = 0, time.perf_counter()
  while True:
    result = work()
    calls += 1
    elapsed = time.perf_counter() - start
    if elapsed >= min_seconds:
      return calls / elapsed, result


def _candidates(program, count, seed):
  # pylint: disable=g-import-not-at-top,protected-access
  from tf_anc.training import program_search
  rng = random.Random(seed)
  candidates = []
  for _ in range(count):
    candidate = program_search.padded(program)
    for _ in range(rng.randint(1, 3)):
      candidate = program_search._neighbour(candidate, rng)
    candidates.append(candidate)
  return candidates


def measure(task_name, num_candidates, num_examples, search_steps, chains,
            min_seconds):
  """One task's row: the machines' and the search's speeds."""
  # Imported here so that --help and flag errors need no TensorFlow.
  # pylint: disable=g-import-not-at-top
  from tf_anc import lang
  from tf_anc import tasks
  from tf_anc.machine import discrete
  from tf_anc.training import program_search
  from tf_anc_datasets import anc_distributions
  task = tasks.TASKS[task_name]
  program = lang.load_program(tasks.program_path(task), task.memory_size)
  examples = program_search.distinct_examples(
      *anc_distributions.sample(task_name, "biased", 20 * num_examples,
                                seed=0), num_examples)
  inputs = examples[0]
  candidates = _candidates(program, num_candidates, seed=0)
  row = {"task": task_name, "memory_size": task.memory_size,
         "registers": program.num_registers, "max_steps": task.max_steps,
         "candidates": num_candidates, "examples": len(inputs)}
  encoded = discrete.encode(candidates)
  machines = {
      "python": lambda: discrete.run(candidates, inputs, task.max_steps,
                                     use_native=False),
      "batched": lambda: discrete.run_encoded(encoded, inputs,
                                              task.max_steps),
      "batched_from_programs": lambda: discrete.run(
          candidates, inputs, task.max_steps, use_native=True)}
  for name, work in machines.items():
    calls, runs = _timed(work, min_seconds)
    row[name] = calls * num_candidates * len(inputs)
  row["ratio"] = row["batched"] / row["python"]
  row["mean_candidate_steps"] = float(runs.steps.mean())
  if search_steps:
    generic = program_search.score(program, examples, task.max_steps)[1]
    seeds = [f"0/{chain}" for chain in range(chains)]
    search = {"chains": chains, "steps": search_steps}
    found = {}
    for name, use_native in (("python", False), ("native", True)):
      calls, found[name] = _timed(
          lambda native=use_native: program_search.anneal_many(
              [program] * chains, examples, task.max_steps, search_steps,
              seeds, [generic] * chains, use_native=native),
          min_seconds)
      search[name] = calls * chains * search_steps
    search["ratio"] = search["native"] / search["python"]
    search["same_programs"] = found["python"] == found["native"]
    row["search"] = search
  return row


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  # pylint: disable=g-import-not-at-top
  from tf_anc import tasks
  from tf_anc.machine import discrete
  for name in _TASKS.value:
    if name not in tasks.TASKS:
      raise cli.UsageError(f"unknown task {name!r} in --tasks; choose from "
                           f"{', '.join(sorted(tasks.TASKS))}")
  if not discrete.native():
    raise cli.UsageError("the op library did not load (see the warning "
                         "above): there is no native machine to time")
  rows = {}
  print(f"{'task':<10s} {'M':>3s} {'R':>3s} {'T':>4s} "
        f"{'python c*e/s':>13s} {'batched c*e/s':>14s} {'ratio':>7s} "
        f"{'search python/s':>16s} {'native/s':>10s} {'ratio':>7s}")
  for name in _TASKS.value:
    row = measure(name, _CANDIDATES.value, _EXAMPLES.value,
                  _SEARCH_STEPS.value, _CHAINS.value, _MIN_SECONDS.value)
    rows[name] = row
    search = row.get("search")
    search_text = ("" if search is None else
                   f"{search['python']:>16.0f} {search['native']:>10.0f} "
                   f"{search['ratio']:>6.0f}x"
                   + ("" if search["same_programs"]
                      else "  (programs differ!)"))
    print(f"{name:<10s} {row['memory_size']:>3d} {row['registers']:>3d} "
          f"{row['max_steps']:>4d} {row['python']:>13.0f} "
          f"{row['batched']:>14.0f} {row['ratio']:>6.0f}x {search_text}",
          flush=True)
  if _OUTPUT.value:
    with open(_OUTPUT.value, "w") as f:
      json.dump(rows, f, indent=1)


if __name__ == "__main__":
  cli.run(main)
