"""The lab's scenarios. Every module in this folder whose name does not start with
an underscore is imported by `load_all()`; a module registers its scenarios with
`@labkit.scenario("name")`, so adding a file is all it takes to add scenarios."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
