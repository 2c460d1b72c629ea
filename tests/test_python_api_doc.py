"""docs/python-api.md's examples run as written, in order."""

import os
import re

from tests.test_cli import REPO

PAGE = os.path.join(REPO, "docs", "python-api.md")


def python_blocks(path):
  with open(path, encoding="utf-8") as f:
    return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_the_page_has_examples():
  assert len(python_blocks(PAGE)) >= 5


def test_every_example_on_the_python_api_page_runs(tmp_path, monkeypatch):
  # From a folder of its own, where `docs/` is the repository's and the
  # runs it writes stay out of the checkout.
  os.symlink(os.path.join(REPO, "docs"), tmp_path / "docs")
  monkeypatch.chdir(tmp_path)
  namespace = {}
  for index, block in enumerate(python_blocks(PAGE)):
    exec(compile(block, f"{PAGE} block {index + 1}", "exec"), namespace)  # pylint: disable=exec-used
  assert (tmp_path / "runs" / "python-api" / "multiply" /
          "results.json").exists()
