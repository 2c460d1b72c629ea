"""A package's public names, imported on first use (PEP 562).

The command-line tools import the packages to answer a bad flag before
TensorFlow loads; the public API's modules load TensorFlow, so a package
names them here and they load when first asked for.
"""

import importlib
from typing import Callable, Dict, Tuple


def exports(package: str, public: Dict[str, str]
            ) -> Tuple[Callable[[str], object], Callable[[], list]]:
  """The package's `__getattr__` and `__dir__` for `public`, `{name: the
  module that defines it}`."""

  def getattr_(name):
    if name in public:
      return getattr(importlib.import_module(public[name]), name)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")

  def dir_():
    return sorted(set(vars(importlib.import_module(package))) | set(public))

  return getattr_, dir_
