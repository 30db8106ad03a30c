"""Packages whose ``__init__`` imports its public names lazily (PEP 562 ``__getattr__``).

Issue 11, "First result in seconds": ``import qlib.engine`` used to import scipy.stats
through ``qlib.risk`` (0.7 s of a 2.4 s import). The lazy packages must keep every public
name (same object as the submodule's), keep the ``TYPE_CHECKING`` imports, the lazy table
and ``__all__`` in step, keep a function named like a submodule bound to the function, and
keep the heavy optional dependencies out of the first backtest's imports.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "qlib"
LAZY_PACKAGES = ["data", "plots", "risk", "signals", "strategy"]


def _type_checking_imports(pkg: str) -> dict[str, tuple[str, ...]]:
    tree = ast.parse((ROOT / pkg / "__init__.py").read_text(encoding="utf-8"))
    out: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), ast.unparse(imp)
                out[imp.module] = tuple(a.name for a in imp.names)
    return out


def _submodule_names(pkg: str) -> set[str]:
    d = ROOT / pkg
    return {p.stem for p in d.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in d.iterdir() if (p / "__init__.py").exists()}


@pytest.mark.parametrize("pkg", LAZY_PACKAGES)
def test_lazy_init_table_matches_type_checking_imports_and_all(pkg):
    mod = importlib.import_module(f"qlib.{pkg}")
    assert _type_checking_imports(pkg) == mod._LAZY
    lazy_names = [n for names in mod._LAZY.values() for n in names]
    assert len(lazy_names) == len(set(lazy_names)), "a name is listed under two submodules"
    assert len(mod.__all__) == len(set(mod.__all__))
    eager = {n for n in mod.__all__ if n in vars(mod) and n not in lazy_names}
    assert set(lazy_names) | eager == set(mod.__all__)


@pytest.mark.parametrize("pkg", LAZY_PACKAGES)
def test_lazy_init_every_public_name_is_the_submodules_object(pkg):
    mod = importlib.import_module(f"qlib.{pkg}")
    for module, names in mod._LAZY.items():
        sub = importlib.import_module(module)
        for name in names:
            assert getattr(mod, name) is getattr(sub, name), f"qlib.{pkg}.{name}"
    assert set(mod.__all__) <= set(dir(mod))


@pytest.mark.parametrize("pkg", LAZY_PACKAGES)
def test_lazy_init_unknown_name_raises_attribute_error(pkg):
    mod = importlib.import_module(f"qlib.{pkg}")
    with pytest.raises(AttributeError, match=f"qlib.{pkg}' has no attribute 'no_such_name'"):
        getattr(mod, "no_such_name")
    assert not hasattr(mod, "no_such_name")


@pytest.mark.parametrize("pkg", LAZY_PACKAGES)
def test_lazy_init_function_named_like_a_submodule_stays_the_function(pkg):
    mod = importlib.import_module(f"qlib.{pkg}")
    clashes = set(mod.__all__) & _submodule_names(pkg)
    assert clashes == set(getattr(mod, "_SHADOWED", ())), \
        f"qlib.{pkg}: list {sorted(clashes)} in _SHADOWED"
    for name in clashes:
        importlib.import_module(f"qlib.{pkg}.{name}")  # binds the submodule on the package
        value = getattr(mod, name)
        assert not isinstance(value, types.ModuleType), f"qlib.{pkg}.{name} is the module"
        assert value is getattr(importlib.import_module(mod._SOURCE[name]), name)


def test_lazy_init_signals_submodule_still_importable():
    # the function keeps the package attribute; the module is still in sys.modules
    from qlib.signals.ofi import ofi_regression

    assert sys.modules["qlib.signals.ofi"].ofi_regression is ofi_regression


def test_lazy_init_first_backtest_imports_leave_out_heavy_dependencies():
    code = (
        "import sys\n"
        "from qlib.data import simulate\n"
        "from qlib.engine import backtest\n"
        "from qlib.strategy import TouchMM, strategy, quote, lots\n"
        "import qlib.risk, qlib.signals, qlib.plots\n"
        "heavy = ('scipy.stats', 'scipy.optimize', 'plotly', 'dask', 'distributed',\n"
        "         'statsmodels', 'papermill')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
