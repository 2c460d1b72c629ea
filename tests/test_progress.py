"""What a run shows while it works: a bar on a terminal, else its lines."""

import io
import re

from tf_anc.common import progress


class Terminal(io.StringIO):
  def isatty(self):
    return True


def on_a_terminal(monkeypatch) -> Terminal:
  """stdout a terminal, from here to the test's end. (Set in the test
  itself: pytest puts its own capture back in place after the fixtures.)"""
  screen = Terminal()
  monkeypatch.setattr("sys.stdout", screen)
  return screen


def test_progress_is_plain_lines_when_output_is_not_a_terminal(capsys):
  steps = progress.Progress(10, 0, progress.print_line)
  for step in range(1, 11):
    if step % 5:
      steps.update(step)
    else:
      steps.update(step, f"step {step}/10 loss 0.5", {"loss": 0.5})
  assert capsys.readouterr().out == "step 5/10 loss 0.5\nstep 10/10 loss 0.5\n"


def test_on_a_terminal_the_steps_are_a_keras_progress_bar(monkeypatch):
  terminal = on_a_terminal(monkeypatch)
  steps = progress.Progress(10, 0, progress.print_line)
  for step in range(1, 11):
    steps.update(step, f"step {step}/10 loss 0.25", {"loss": 0.25})
  shown = terminal.getvalue()
  assert "/10 loss" not in shown  # no plain line
  assert re.search(r"10/10.*━.*/step - loss: 0\.2500\n$", shown)


def test_a_line_logged_on_a_terminal_goes_above_the_bar(monkeypatch):
  terminal = on_a_terminal(monkeypatch)
  steps = progress.Progress(10, 0, progress.print_line)
  steps.update(3)
  progress.print_line("restart 1 diverged")
  # The bar's line is cleared, the line printed; the bar redraws below.
  assert terminal.getvalue().endswith("\r\x1b[Krestart 1 diverged\n")


def test_a_callers_own_log_gets_the_lines_even_on_a_terminal(monkeypatch):
  terminal = on_a_terminal(monkeypatch)
  lines = []
  steps = progress.Progress(10, 0, lines.append)
  steps.update(5, "step 5/10", {"loss": 1.0})
  assert lines == ["step 5/10"]
  assert terminal.getvalue() == ""


def test_a_stage_says_what_it_does_then_its_result_and_seconds():
  lines = []
  search = progress.Stage(lines.append, "program search", "4 chains")
  search.done("2 of 2 restarts replaced")
  assert lines[0] == "program search: 4 chains..."
  assert re.fullmatch(r"program search: 2 of 2 restarts replaced "
                      r"\(\d+\.\d s\)", lines[1])
