"""Writes `add2x2_ints_data.json`: ADD2x2 over integers, all four tasks.

    python ntpt_keras/models/instances/make_add2x2_ints.py

For each task (the sum of the top row, left column, bottom row or right
column of a 2x2 grid of digits 0-9) a `<task>_train` batch of 100 and a
`<task>_test` batch of 1,000 instances, in TerpreT's data format. Seeded:
the file is always the same.
"""

import json
import os

import numpy as np

CELLS = {"top": [(0, 0), (0, 1)], "left": [(0, 0), (1, 0)],
         "bottom": [(1, 0), (1, 1)], "right": [(0, 1), (1, 1)]}
SIZES = {"train": 100, "test": 1000}


def batches(seed=0):
  rng = np.random.default_rng(seed)
  result = []
  for task, cells in CELLS.items():
    for split, size in SIZES.items():
      grids = rng.integers(0, 10, [size, 2, 2])
      result.append({
          "batch_name": f"{task}_{split}",
          "instances": [{"grid": grid.tolist(),
                         "answer": int(sum(grid[c] for c in cells))}
                        for grid in grids]})
  return result


if __name__ == "__main__":
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "add2x2_ints_data.json")
  with open(path, "w") as f:
    json.dump(batches(), f, separators=(",", ":"))
