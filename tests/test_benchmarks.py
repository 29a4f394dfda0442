"""The benchmark scripts' command line: a bad `--against` is one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

AGAINST = [
    "bench_run.py",
    "bench_campus.py",
    "bench_scale.py",
    "bench_demo.py",
    "bench_equivalence.py",
    "bench_shared_cohort.py",
    "bench_identity.py",
]


def _worktrees() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("script", AGAINST)
def test_a_revision_git_cannot_check_out_is_one_line_and_exit_2(script):
    before = _worktrees()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--against", "no-such-revision"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "--against no-such-revision: cannot check it out "
        "(fatal: invalid reference: no-such-revision)"
    ]
    assert _worktrees() == before  # nothing left behind
