"""Imports run one way, and BUILD declares every import the code has.

The layers: `tf_anc/train.py` (the one training command) dispatches to
ANC (`tf_anc`) and NTPT (`ntpt_keras`), which both stand on
`tf_anc.common` and the tfds builders (`datasets/`, imported as
`tf_anc_datasets`), which stand on nothing of the models.
"""

import ast
import functools
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
# Import name -> folder, for the packages of this repository.
PACKAGES = {"tf_anc": "tf_anc", "ntpt_keras": "ntpt_keras",
            "tf_anc_datasets": "datasets"}
DISPATCHER = "tf_anc/train.py"


def _sources():
  for package, folder in PACKAGES.items():
    for path in sorted((REPO / folder).rglob("*.py")):
      relative = path.relative_to(REPO).as_posix()
      # NTPT model files are data the compiler reads, never imported.
      if not relative.startswith("ntpt_keras/models/"):
        yield relative


def _module_file(name: str):
  """The repository file of module `name`, or None if it is not ours."""
  package, *rest = name.split(".")
  if package not in PACKAGES:
    return None
  base = pathlib.Path(PACKAGES[package], *rest)
  for candidate in (base.with_suffix(".py"), base / "__init__.py"):
    if (REPO / candidate).is_file():
      return candidate.as_posix()
  return None


@functools.lru_cache(maxsize=None)
def imports(relative: str) -> frozenset:
  """The repository files `relative` imports, at any depth of its code."""
  tree = ast.parse((REPO / relative).read_text(), relative)
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      # `from a import b`: module a.b if it is one, else a's attribute b.
      names = [f"{node.module}.{alias.name}" for alias in node.names]
      names = [name if _module_file(name) else node.module for name in names]
    else:
      continue
    found.update(filter(None, map(_module_file, names)))
  found.discard(relative)
  return frozenset(found)


def test_ntpt_keras_imports_nothing_of_tf_anc_but_tf_anc_common():
  wrong = {(source, target) for source in _sources()
           if source.startswith("ntpt_keras/")
           for target in imports(source)
           if target.startswith("tf_anc/")
           and not target.startswith("tf_anc/common/")
           and target != "tf_anc/__init__.py"}
  assert not wrong


def test_only_the_dispatcher_of_tf_anc_imports_ntpt_keras():
  importers = {source for source in _sources()
               if source.startswith("tf_anc/")
               for target in imports(source)
               if target.startswith("ntpt_keras/")}
  assert importers <= {DISPATCHER}


def test_the_datasets_import_no_model_code():
  wrong = {(source, target) for source in _sources()
           if source.startswith("datasets/")
           for target in imports(source)
           if not target.startswith(("datasets/", "tf_anc/common/"))
           and target != "tf_anc/__init__.py"}
  assert not wrong


def test_tf_anc_common_imports_only_itself():
  wrong = {(source, target) for source in _sources()
           if source.startswith("tf_anc/common/")
           for target in imports(source)
           if not target.startswith("tf_anc/common/")}
  assert not wrong


# --- BUILD ----------------------------------------------------------------

def _glob(include, exclude=()):
  excluded = {path.relative_to(REPO).as_posix()
              for pattern in exclude for path in REPO.glob(pattern)}
  return sorted({path.relative_to(REPO).as_posix()
                 for pattern in include for path in REPO.glob(pattern)}
                - excluded)


@functools.lru_cache(maxsize=None)
def build_targets() -> dict:
  """BUILD's rules by name: `{"srcs": [...], "deps": [...], ...}`.

  BUILD is Starlark, which for this file is Python: it runs with the rules
  recorded instead of declared.
  """
  targets = {}

  def rule(kind):
    def record(**attributes):
      targets[attributes["name"]] = dict(attributes, kind=kind)
    return record

  rules = {kind: rule(kind) for kind in (
      "cc_binary", "genrule", "py_library", "py_binary", "py_test")}
  exec(compile((REPO / "BUILD").read_text(), "BUILD", "exec"), dict(  # pylint: disable=exec-used
      rules, load=lambda *args: None, package=lambda **kwargs: None,
      glob=_glob, OP_COPTS=[], TF_COPTS=[]))
  return targets


def _python_sources(target: dict):
  """A Python target's source files, through the genrules that copy them."""
  for source in target.get("srcs", []):
    if source.startswith(":"):
      yield from build_targets()[source[1:]]["srcs"]
    else:
      yield source


@functools.lru_cache(maxsize=None)
def owners() -> dict:
  """Each source file -> the name of the py_library or py_binary owning it."""
  owned = {}
  for name, target in build_targets().items():
    if target["kind"] in ("py_library", "py_binary"):
      for source in _python_sources(target):
        owned.setdefault(source, name)
  return owned


@pytest.mark.parametrize("source", list(_sources()))
def test_build_has_a_target_for_every_module(source):
  assert source in owners()


@pytest.mark.parametrize("source", list(_sources()))
def test_build_declares_every_import_as_a_dependency(source):
  target = owners()[source]
  declared = {dep.lstrip(":") for dep in build_targets()[target].get(
      "deps", [])} | {target}
  needed = {owners()[imported] for imported in imports(source)}
  assert needed <= declared, f"{source} ({target}) imports from {needed}"
