"""The project keeps the layout and the two commands its README promises."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layout_top_level_has_design_card_entries():
    for name in ("notebooks", "qlib", "environment.yml", "tests", "reports", "README.md",
                 "pyproject.toml", "benchmarks", ".ci/run", "Makefile", "requirements.lock"):
        assert (ROOT / name).exists(), f"{name} missing at the top level"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in first_block.splitlines() if ln.strip()]
    assert commands == ["make reports", "make test"]
    ci = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()
          if ln.strip() and not ln.startswith("#") and not ln.startswith(("set ", "cd "))]
    assert ci == ["make test"], f".ci/run must run the README's test command only, runs {ci}"


def test_readme_warns_about_microsoft_qlib_name_clash():
    readme = (ROOT / "README.md").read_text()
    assert "pyqlib" in readme and "cannot be installed in one environment" in readme


def test_makefile_targets_install_pinned_dependencies_into_local_venv():
    mk = (ROOT / "Makefile").read_text()
    assert re.search(r"^VENV\s*\?=\s*\.venv$", mk, re.M)
    assert "-c requirements.lock" in mk
    for target in ("reports:", "test:", "lab:"):
        assert re.search(rf"^{target} \$\(STAMP\)", mk, re.M), target


def test_requirements_lock_pins_numba_one_version_within_pyproject_range():
    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(ln.split("==", 1) for ln in lock.splitlines() if "==" in ln)
    assert pins["numba"].startswith("0.68.")
    major, minor = (int(x) for x in pins["numpy"].split(".")[:2])
    assert (major, minor) < (2, 6)
