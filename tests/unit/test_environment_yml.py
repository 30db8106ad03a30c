"""environment.yml must list exactly the dependencies of pyproject.toml."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pypi_to_conda() -> dict[str, str]:
    """The generator's PyPI -> conda-forge name map, normalised."""
    spec = importlib.util.spec_from_file_location("make_env", ROOT / "tools" / "make_environment_yml.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {_name(k): _name(v) for k, v in module.PYPI_TO_CONDA.items()}


def _name(req: str) -> str:
    base = re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", base).lower()


def _spec(req: str) -> str:
    return re.sub(r"\s+", "", req.strip()[len(re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0]):])


def test_environment_yml_matches_pyproject_same_packages_and_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    to_conda = _pypi_to_conda()
    want = {to_conda.get(_name(r), _name(r)): _spec(r) for r in reqs}
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    have: dict[str, str] = {}
    for d in deps:
        if isinstance(d, dict):
            for r in d.get("pip", []):
                if not r.startswith("-"):
                    have[_name(r)] = _spec(r)
        elif _name(d) not in {"python", "pip"}:
            have[_name(d)] = _spec(d)
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    assert not missing and not extra, f"environment.yml missing {missing}, extra {extra}"
    differ = {k: (want[k], have[k]) for k in want if want[k] != have[k]}
    assert not differ, f"version bounds differ (pyproject, environment.yml): {differ}"


def test_environment_yml_python_bound_matches_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pythons = [d for d in deps if isinstance(d, str) and _name(d) == "python"]
    assert pythons == [f"python{project['requires-python']}"]
