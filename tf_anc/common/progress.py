"""What a long run shows while it works: a progress bar, or log lines.

Every trainer (ANC, NTPT, lifelong, MATH) counts its steps with `Progress`
and announces its step-less stages (a program search, an evaluation) with
`Stage`. Where a trainer logs with `print_line` (its default) and stdout is
a terminal, the steps are Keras' progress bar, the one `fit` shows: steps
done, rate, ETA and the trainer's latest values. Anywhere else (a file, CI,
a test's captured output, a `log` of the caller's own) they are the
trainer's own lines, `step 300/2000 loss ...`, exactly as they always were:
scripts and tests parse them.
"""

import sys
import time
from typing import Callable, Dict, Optional

# Is a progress bar's line on the terminal, not ended by a newline yet?
_bar_line_open = False


def print_line(line: str):
  """The trainers' default `log`: prints `line`; on a terminal, above the
  progress bar, which redraws below it at its next update."""
  global _bar_line_open
  if _bar_line_open:
    sys.stdout.write("\r\x1b[K")  # back to the line's start, and clear it
    _bar_line_open = False
  print(line, flush=True)


def shows_bar(log: Callable[[str], None]) -> bool:
  """Do steps logged to `log` show as a bar? Only `print_line`'s, on a
  terminal."""
  return log is print_line and sys.stdout.isatty()


class Progress:
  """A training loop's steps, from `start_step` to `total_steps`.

  Call `update(step)` after every step, and `update(step, line, values)`
  where the trainer logs: the bar takes the `values` (`{name: number}`,
  shown as they are, not averaged), the log the `line`. The bar counts the
  steps this process trains, so that its rate and ETA hold for a resumed
  run too; like `fit`'s, it leaves the first step (which traces the graph)
  out of the rate.
  """

  def __init__(self, total_steps: int, start_step: int,
               log: Callable[[str], None], unit: str = "step"):
    self._log = log
    self._start = start_step
    self._bar = None
    if shows_bar(log) and total_steps > start_step:
      import keras  # pylint: disable=g-import-not-at-top
      # stateless_metrics=(): every value as it was last given.
      self._bar = keras.utils.Progbar(total_steps - start_step,
                                      stateless_metrics=(), unit_name=unit)
      self._show(start_step)

  def update(self, step: int, line: Optional[str] = None,
             values: Optional[Dict[str, float]] = None):
    if self._bar is None:
      if line is not None:
        self._log(line)
    else:
      self._show(step, values)

  def _show(self, step, values=None):
    global _bar_line_open
    self._bar.update(step - self._start,
                     list(values.items()) if values else None)
    _bar_line_open = step - self._start < self._bar.target


class Stage:
  """A stage with no steps to count (one native call, an evaluation): a
  line as it starts, `name: what...`, and one as it ends, `name: result
  (S s)`."""

  def __init__(self, log: Callable[[str], None], name: str, what: str):
    self._log = log
    self._name = name
    self._started = time.perf_counter()
    log(f"{name}: {what}...")

  def seconds(self) -> float:
    """Wall seconds since the stage started."""
    return time.perf_counter() - self._started

  def done(self, result: str):
    self._log(f"{self._name}: {result} ({self.seconds():.1f} s)")
