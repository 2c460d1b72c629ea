"""The largest model the compiler accepts, checked before allocating.

A model file is a program that runs at compile time: loops unroll, `with`
blocks compile once per value, Runtime functions are tabulated and
declarations become arrays. A few lines can ask for more memory or time
than any machine has, so every size is checked against the limits below
before anything of that size exists, and going over one is a located
`ModelError` naming the limit. The limits are far above the shipped models
(the largest, maze.py, compiles 4,746 statements; its widest range is 19).
"""

from typing import Optional

from ntpt_keras.lang.errors import snippet

# Static ints (literals, hypers, arithmetic results) lie in
# [-MAX_INT, MAX_INT]: bigger ones only come from typos or attacks, and
# their arithmetic can take unbounded time.
MAX_INT = 2**63 - 1
# One size: a range `n` of Param(n)..., an array dimension, a Runtime
# argument domain, a tensor dimension, a hidden layer width.
MAX_SIZE = 2**16
# Cells of all declarations together.
MAX_CELLS = 2**20
# Floats per instance of all declarations together: cells × range, or cells
# × tensor elements for an InputTensor.
MAX_VALUES = 2**24
# Entries of all Runtime functions' indicator tensors together (the product
# of a function's domains and output size); each argument tuple is one
# Python call at compile time.
MAX_TABLE_ENTRIES = 2**20
# Weights of all learned functions' networks together.
MAX_WEIGHTS = 2**24
# Statements compiled, counting each unrolled loop iteration, each value of
# a `with` block and each inlined call (tens of thousands a second).
MAX_STEPS = 2**17


class Usage:
  """What a compilation has used so far, against the limits.

  `error(node, message)` makes the located error to raise.
  """

  def __init__(self, error):
    self.error = error
    self.totals = {"cells": 0, "values": 0, "table entries": 0,
                   "weights": 0, "steps": 0}

  def add(self, node, what: str, amount: int, limit: int, reason: str):
    """Counts `amount` more `what`, refusing to go over `limit`."""
    total = self.totals[what] + amount
    if total > limit:
      raise self.error(node, f"{reason} takes the model to {total} {what}, "
                       f"over the limit of {limit}")
    self.totals[what] = total

  def step(self, node):
    if self.totals["steps"] >= MAX_STEPS:
      raise self.error(node, f"the model compiles more than {MAX_STEPS} "
                       "statements (loops unrolled, `with` bodies per value, "
                       "inline calls)")
    self.totals["steps"] += 1


def check_int(value: int, error, node, what: Optional[str] = None) -> int:
  """`value` if it is a static int within [-MAX_INT, MAX_INT]; `what` names
  it in the error (by default, the code of `node`)."""
  if abs(value) > MAX_INT:
    # Its digits are not printed: Python refuses to format ints this long.
    raise error(node, f"{what or snippet(node)} has {value.bit_length()} "
                "bits, outside the static ints [-(2**63 - 1), 2**63 - 1]")
  return value


def check_size(value: int, error, node, what: str) -> int:
  """`value` if it is a size in [1, MAX_SIZE]."""
  if not 1 <= value <= MAX_SIZE:
    raise error(node, f"{what} must be in [1, {MAX_SIZE}], got {value}")
  return value
