"""The OpenAI SDK's type packages, each name imported on first use instead of all at import.

`import openai` runs `openai/types/__init__.py`, which re-exports every model and parameter type
of every API the SDK knows (`from .chat_completion import ChatCompletion as ChatCompletion`,
and so on for `openai.types.chat`, `.beta`, `.responses`...): ~470 modules, ~10 MiB that stay
in every model-calling worker while its calls use a few dozen (docs/benchmarks.md, "Idle memory
per tenant"). Installed before the SDK is imported (the worker's entry does it),
`DeferredTypesFinder` loads each such package without running its `__init__`: the package gets
a module-level `__getattr__` that imports a name's submodule when the name is first used, so
`openai.types.chat.ChatCompletion` and `from openai.types.chat import ChatCompletion` work as
before. Which name comes from which submodule is read from the `__init__`'s own source with
`ast`, without running it, so the map follows the installed SDK; an `__init__` that is anything
other than such re-exports, or whose source cannot be read, is imported as usual.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Mapping, Sequence
from importlib.abc import InspectLoader, Loader, MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import NamedTuple

ROOT = "openai.types"


class Origin(NamedTuple):
    """Where a package's name comes from: its submodule, and the attribute there (None: the
    submodule itself)."""

    submodule: str
    attribute: str | None


def reexports(source: str) -> dict[str, Origin] | None:
    """The names an `__init__` binds, when all it does is `from .x import Y as Z`; else None."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: dict[str, Origin] = {}
    imported: set[str] = set()
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if not isinstance(node, ast.ImportFrom):
            return None
        if node.module == "__future__" and node.level == 0:
            continue
        if node.level != 1 or any(alias.name == "*" for alias in node.names):
            return None
        if node.module is None:  # `from . import x`: the submodules themselves
            for alias in node.names:
                names[alias.asname or alias.name] = Origin(alias.name, None)
                imported.add(alias.name)
            continue
        # Importing `.x.y` binds `x` on the package the first time, as a running `__init__` would.
        top = node.module.partition(".")[0]
        if top not in imported:
            names[top] = Origin(top, None)
            imported.add(top)
        for alias in node.names:
            names[alias.asname or alias.name] = Origin(node.module, alias.name)
    return names


def defer(package: ModuleType, names: Mapping[str, Origin]) -> None:
    """Give `package` the `__getattr__` and `__dir__` that import `names` when first used."""
    missing = "module {!r} has no attribute {!r}"

    def __getattr__(name: str) -> object:
        # Any submodule too: a running `__init__` may have imported one it does not name.
        origin = names.get(name) or (Origin(name, None) if not name.startswith("__") else None)
        if origin is None:
            raise AttributeError(missing.format(package.__name__, name))
        submodule = f"{package.__name__}.{origin.submodule}"
        try:
            module = importlib.import_module(submodule)
        except ModuleNotFoundError as exc:
            if exc.name != submodule:
                raise
            raise AttributeError(missing.format(package.__name__, name)) from None
        value = module if origin.attribute is None else getattr(module, origin.attribute)
        setattr(package, name, value)  # the next use is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(package), *names})

    # `__all__`: `from package import *` gives what running the `__init__` would have bound.
    vars(package).update(
        __getattr__=__getattr__,
        __dir__=__dir__,
        __all__=sorted(name for name in names if not name.startswith("_")),
    )


class DeferredPackageLoader(Loader):
    """Runs no `__init__`: the package imports its re-exported names on first use."""

    def __init__(self, names: Mapping[str, Origin]) -> None:
        self._names = names

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        defer(module, self._names)


class DeferredTypesFinder(MetaPathFinder):
    """Finds `root` and the modules under it as the path finder does; loads the packages whose
    `__init__` only re-exports with `DeferredPackageLoader`."""

    def __init__(self, root: str = ROOT) -> None:
        self.root = root

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname != self.root and not fullname.startswith(self.root + "."):
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.submodule_search_locations is None:
            return spec  # a plain module: loaded as usual
        names = _package_reexports(spec)
        if names is not None:
            spec.loader = DeferredPackageLoader(names)
        return spec


def _package_reexports(spec: ModuleSpec) -> dict[str, Origin] | None:
    if not isinstance(spec.loader, InspectLoader):
        return None
    try:
        source = spec.loader.get_source(spec.name)
    except (ImportError, ValueError):  # unreadable, or not text
        return None
    return reexports(source) if source is not None else None


def install() -> None:
    """Defer the type packages of an OpenAI SDK imported from now on; once is enough."""
    if not any(isinstance(finder, DeferredTypesFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, DeferredTypesFinder(ROOT))
