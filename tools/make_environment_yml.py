"""Write environment.yml from pyproject.toml (the one source of dependencies).

Conda users get the same packages as pip users: every runtime and test dependency,
with the same version bounds, from conda-forge, except the few that conda-forge does
not carry under the PyPI name (listed in PIP_ONLY), which go in the ``pip:`` section.
``tests/unit/test_environment_yml.py`` fails when the two files disagree.

Usage: ``python tools/make_environment_yml.py`` (or ``make lock``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: PyPI name -> conda-forge name, where they differ.
PYPI_TO_CONDA: dict[str, str] = {"arch": "arch-py", "QuantLib": "quantlib"}
#: Installed with pip inside the conda env (not on conda-forge under this name).
PIP_ONLY = {"databento-dbn"}


def _split(req: str) -> tuple[str, str]:
    name = re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0]
    return name, req.strip()[len(name):].strip()


def main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    python = project["requires-python"]
    conda, pip = [], []
    for req in reqs:
        name, spec = _split(req)
        if name in PIP_ONLY:
            pip.append(f"{name}{spec}")
        else:
            conda.append(f"{PYPI_TO_CONDA.get(name, name)}{spec}")
    lines = [
        "# Generated from pyproject.toml by tools/make_environment_yml.py - do not edit by hand.",
        "# conda env create -f environment.yml && conda activate qlib",
        "name: qlib",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python{python}",
        *[f'  - "{c}"' for c in conda],
        "  - pip",
        "  - pip:",
        *[f'      - "{p}"' for p in pip],
        "      - -e .",
    ]
    (ROOT / "environment.yml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
