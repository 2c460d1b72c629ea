"""Runs the pytest suite as a program (Bazel's `py_test` needs a main).

Arguments go to pytest; without any it runs every test.
"""

import os
import sys

import pytest

if __name__ == "__main__":
  sys.exit(pytest.main(
      ["-q"] + (sys.argv[1:] or [os.path.dirname(os.path.abspath(__file__))])))
