"""Runs the pytest suite as a program (Bazel's `py_test` needs a main)."""

import os
import sys

import pytest

if __name__ == "__main__":
  sys.exit(pytest.main([os.path.dirname(os.path.abspath(__file__)), "-q"]))
