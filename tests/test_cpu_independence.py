"""A seed gives the same run on every CPU: numpy's SIMD code does not reach the model's state.

numpy picks its exp, log and tanh by the CPU (AVX-512, AVX2, baseline), and they differ in the
last bit; a client's responsiveness drawn with numpy's exp made one group-arm run in four
differ between AVX-512 and AVX2 numpy (seen here: 30 of 120 runs, 36 of 480 tables). The
model takes them from the C library (compiled code, `math`). This test runs the same seeds
with numpy held to each SIMD level this CPU has (``NPY_DISABLE_CPU_FEATURES``) and requires
the same tables, bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import hashlib
import pandas as pd
from groupsim import run
from groupsim.scenario import load_scenario

digest = hashlib.sha256()
for arm in ("no_intervention", "standard_group", "home_room"):
    scenario = load_scenario(f"scenarios/{arm}.toml")
    for seed in range(8):
        result = run(scenario, seed=seed)
        for table in (result.students, result.ties, result.sessions, result.questionnaire):
            digest.update(pd.util.hash_pandas_object(table, index=False).values.tobytes())
print(digest.hexdigest())
"""


def simd_caps() -> list[str]:
    """NPY_DISABLE_CPU_FEATURES values, from none to every SIMD target numpy found here.

    Disabling a target disables the ones above it, so each value caps numpy one level lower.
    """
    from numpy._core._multiarray_umath import (  # type: ignore[attr-defined]
        __cpu_dispatch__,
        __cpu_features__,
    )

    found = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    return [" ".join(found[k:]) for k in range(len(found), -1, -1)]


def test_a_seed_gives_the_same_runs_whatever_simd_numpy_uses():
    caps = simd_caps()
    if len(caps) < 2:
        pytest.skip("numpy found no SIMD target above its baseline on this CPU")
    digests = {}
    for cap in caps:
        result = subprocess.run(
            [sys.executable, "-c", PROBE],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            env={**os.environ, "NPY_DISABLE_CPU_FEATURES": cap},
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        digests[cap or "(none)"] = result.stdout.strip().splitlines()[-1]
    assert len(set(digests.values())) == 1, digests
