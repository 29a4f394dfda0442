"""Does this tree give a git revision's runs to the last bit? Table digests over many cases.

    python benchmarks/bench_identity.py --against HEAD       # should a change change no number?
    python benchmarks/bench_identity.py --against HEAD --seeds 1   # quicker

For a change meant to leave every number alone (a faster loop, fewer pauses, lazier
recording), `bench_equivalence.py` compares distributions; this compares every bit. In this
tree and in REF (a temporary git worktree, each in its own process), it runs 8 scenario
cases (the shipped arms, the formal room, a campus of 800 students, the three group
selections, three groups) with seeds 0..N-1 in five recording modes: every table; `compare`'s
(student rows of the outcome weeks, no faculty rows); the three outcome weeks with faculty
rows; the outcome weeks alone (as a sweep runs); nothing recorded (as a power study and a
calibration run: the questionnaires, latent scores, expected totals and final state are
digested). Then a cohort from data, three arms sharing their settled cohort, and a model
stepped week by week. Each table's digest is pandas' row hash (`hash_pandas_object`) with its
column names. Prints how many of the digests agree, the first that do not, and exits 1 if any
differ (2 for a revision git cannot check out).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench_equivalence import checked_out

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the tree being checked (its own `groupsim` on sys.path, its own scenario files);
# prints {case: digest} as JSON.
PROBE = r"""
import hashlib, json, os, sys
tree, seeds = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, os.path.join(tree, "src"))
os.chdir(tree)
import numpy as np
import pandas as pd
import groupsim
assert groupsim.__file__.startswith(tree), groupsim.__file__
from groupsim import load_scenario, run
from groupsim.model.model import HomeRoomModel
from groupsim.runs.outcomes import outcome_weeks
from groupsim.runs.runner import build_model, collect

out = {}

def digest(frame):
    if frame is None or len(frame) == 0:
        return "empty"
    h = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    h.update(",".join(map(str, frame.columns)).encode())
    return h.hexdigest()[:16]

def tables(result, key):
    for name in ("weekly", "sessions", "students", "questionnaire", "ties", "faculties"):
        out[f"{key}/{name}"] = digest(getattr(result, name))

def unrecorded(scenario, seed, key):
    model = build_model(scenario, seed, record_students=False, record_ties=False, record_weeks=())
    model.run_model()
    h = hashlib.sha256()
    for name, values in (*sorted(model.questionnaire.items()), *sorted(model.latent.items()),
                         *sorted(model.expected_totals.items())):
        h.update(name.encode())
        h.update(np.asarray(values, dtype=float).tobytes())
    h.update(model.social_interaction.tobytes())
    h.update(model.states.dropped_out.tobytes())
    out[key + "/unrecorded"] = h.hexdigest()[:16]

cases = [("home_room", {}), ("no_intervention", {}), ("standard_group", {}),
         ("home_room_formal_room", {}),
         ("campus_control", {"cohort.students_per_faculty": 40}),
         ("home_room", {"group.selection": "across_faculties"}),
         ("home_room", {"group.selection": "random_screened"}),
         ("home_room", {"program.groups": 3})]
for name, overrides in cases:
    scenario = load_scenario(f"scenarios/{name}.toml", overrides)
    weeks = list(outcome_weeks(scenario).values())
    for seed in range(seeds):
        key = f"{name}{overrides}/{seed}"
        tables(run(scenario, seed=seed), key + "/all")
        tables(run(scenario, seed=seed, record_students=True, record_ties=False,
                   record_faculties=False, student_weeks=weeks), key + "/compare")
        tables(run(scenario, seed=seed, record_students=False, record_ties=False,
                   record_weeks=weeks), key + "/outcome weeks")
        tables(run(scenario, seed=seed, record_students=False, record_ties=False,
                   record_faculties=False, record_weeks=weeks), key + "/as a sweep")
        unrecorded(scenario, seed, key)
cohort = load_scenario("examples/my_cohort.toml")
for seed in range(seeds):
    tables(run(cohort, seed=seed), f"cohort from data/{seed}")
arms = [load_scenario(f"scenarios/{arm}.toml")
        for arm in ("no_intervention", "standard_group", "home_room")]
for seed in range(seeds):
    settled = {}
    for arm, scenario in zip(("none", "standard", "home room"), arms):
        tables(run(scenario, seed=seed, settled_cohorts=settled), f"settled/{arm}/{seed}")
stepped = HomeRoomModel(rng=7, config=arms[2])
while stepped.running:
    stepped.step()
tables(collect(stepped, 7), "stepped/7")
print(json.dumps(out))
"""


def digests(tree: Path, seeds: int) -> dict[str, str]:
    """Every case's digest in `tree` (a process of its own)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tree), str(seeds)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"{tree}: the probe failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        raise SystemExit(1)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REF", required=True, help="git revision")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per case (default 3)")
    args = parser.parse_args()
    if args.seeds < 1:
        print("--seeds: at least 1", file=sys.stderr)
        raise SystemExit(2)
    with checked_out(args.against) as ref_tree:
        ours, theirs = digests(ROOT, args.seeds), digests(ref_tree, args.seeds)
    differ = sorted(key for key in theirs if ours.get(key) != theirs[key])
    print(f"{len(theirs) - len(differ)} of {len(theirs)} digests the same as {args.against}'s")
    for key in differ[:20]:
        print(f"  differs: {key}")
    if differ:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
