"""``python -m qlib.warm``: one line per group, exit 1 when a group fails, 2 for bad usage."""

from __future__ import annotations

import subprocess
import sys

import qlib.warm as warm_mod


def test_warm_runs_every_group_and_prints_one_line_each():
    proc = subprocess.run([sys.executable, "-m", "qlib.warm"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    names = [name for name, _ in warm_mod.GROUPS]
    assert [ln.split()[1] for ln in lines[:-1]] == names, proc.stdout
    assert all(ln.split()[3] == "s" for ln in lines[:-1]), proc.stdout
    assert lines[-1].startswith("warm: numba caches ready")


def test_warm_failing_group_is_reported_and_exits_1_after_the_others(monkeypatch, capsys):
    def broken() -> str:
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(warm_mod, "GROUPS", (("broken", broken), ("ok", lambda: "fine")))
    assert warm_mod.main([]) == 1
    captured = capsys.readouterr()
    assert "warm broken" in captured.out and "FAILED  RuntimeError: kernel exploded" in captured.out
    assert "warm ok" in captured.out  # the next group still ran
    assert "Traceback" in captured.err and "broken: 1 group(s) failed" not in captured.err
    assert "1 group(s) failed: broken" in captured.err


def test_warm_unknown_group_exits_2_naming_known_groups(capsys):
    assert warm_mod.main(["nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown warm-up group(s) ['nope']" in err and "'backtest'" in err
