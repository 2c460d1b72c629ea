"""Writes the example tasks' recorded inputs (docs/examples.md).

  python docs/examples/record_inputs.py                  # the shipped files
  python docs/examples/record_inputs.py --seed=9 --count=500 --suffix=_fresh

Stands in for a user's recording: each memory as the program would see it
in use. checksum: a record of 8 fields (cells 1-8) of which only the first
three are ever set, summed into cell 9; find: a key (cell 0) that is at
index 1 (3 times in 4) or 2 of the array in cells 1-8; multiply: a value
(cell 0) times a factor (cell 1) that is always 2.
"""

import argparse
import json
import os

import numpy as np

M = 10


def checksum(rng):
  memory = [0] * M
  memory[0] = int(rng.integers(M))
  for cell in (1, 2, 3):
    memory[cell] = int(rng.integers(M))
  return memory


def find(rng):
  key = int(rng.integers(M))
  index = 1 if rng.random() < 0.75 else 2
  others = [value for value in range(M) if value != key]
  memory = [key] + [int(value) for value in rng.choice(others, 8)] + [0]
  memory[index] = key
  return memory


def multiply(rng):
  memory = [int(value) for value in rng.integers(0, M, M)]
  memory[1], memory[2] = 2, 0
  return memory


def write(path, memories):
  with open(path, "w") as f:
    f.write("[\n" + ",\n".join(json.dumps(m) for m in memories) + "\n]\n")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seed", type=int, default=None,
                      help="one seed for all three (default: the shipped "
                      "files' own)")
  parser.add_argument("--count", type=int, default=1000)
  parser.add_argument("--suffix", default="")
  args = parser.parse_args()
  here = os.path.dirname(os.path.abspath(__file__))
  # The shipped files: checksum's then find's memories from one generator
  # seeded 2026, multiply's from one seeded 7.
  shared = np.random.default_rng(2026 if args.seed is None else args.seed)
  own = np.random.default_rng(7 if args.seed is None else args.seed + 1)
  for name, sample, rng in (("checksum", checksum, shared),
                            ("find", find, shared),
                            ("multiply", multiply, own)):
    path = os.path.join(here, f"{name}_inputs{args.suffix}.json")
    write(path, [sample(rng) for _ in range(args.count)])
    print(path)


if __name__ == "__main__":
  main()
