"""Which home-room practices carry the effect, and how does it change with group size?

Ablation: home room with each of its practices dropped in turn (`[technique]` overrides; the
rest of the scenario unchanged), beside full home room and a standard group. Group size:
home room at 3 to 16 clients. Every variant runs over the same paired seeds as a
no-intervention twin with the same cohort and group size; the effect is the mean paired
difference of the clients' post-test totals (points, 35-140), with its 95% CI over seeds.
Writes out/practices/practices.md, ablation.png/.svg and group_size.png/.svg, and copies the
figures to docs/img/ with --docs.

Usage:
    python experiments/practices_and_size.py [--reps N] [--workers W] [--seed S] [--docs]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from groupsim import load_scenario, run
from groupsim.document.blocks import Table
from groupsim.document.figures import Figure, save_figure, styled
from groupsim.document.render import markdown_table
from groupsim.runs.execute import map_tasks, replication_seeds
from groupsim.runs.store import atomic_file
from groupsim.scenario import PRACTICES

ROOT = Path(__file__).resolve().parent.parent
SIZES = (3, 4, 6, 8, 10, 12, 16)
#: Enough students that the largest group still finds its clients among the least active.
STUDENTS_PER_FACULTY = 20


def post_mean(task: tuple[str, dict, int]) -> float:
    """Clients' mean post-test total of one run (answers only)."""
    name, overrides, seed = task
    result = run(
        load_scenario(name, overrides), seed=seed, record_students=False, record_ties=False
    )
    return float(result.questionnaire["post"].mean())


def effects(
    variants: dict[str, tuple[str, dict]], seeds: list[int], workers: int | None
) -> pd.DataFrame:
    """Each variant's paired effect against its no-intervention twin (same overrides)."""
    tasks = []
    for name, overrides in variants.values():
        twin = {k: v for k, v in overrides.items() if not k.startswith("technique.")}
        tasks += [(name, overrides, s) for s in seeds] + [
            ("no_intervention", twin, s) for s in seeds
        ]
    values = np.array(map_tasks(post_mean, tasks, workers, label="runs")).reshape(
        len(variants), 2, -1
    )
    rows = []
    for label, (treated, control) in zip(variants, values, strict=True):
        difference = treated - control
        half = 1.96 * difference.std(ddof=1) / np.sqrt(len(difference))
        rows.append(
            {
                "variant": label,
                "effect": difference.mean(),
                "low": difference.mean() - half,
                "high": difference.mean() + half,
            }
        )
    return pd.DataFrame(rows)


def ablation_variants() -> dict[str, tuple[str, dict]]:
    """Full home room, home room without each practice, and a standard group."""
    variants = {"home room (all practices)": ("home_room", {})}
    for practice in PRACTICES:
        label = f"without {practice.replace('_', ' ')}"
        variants[label] = ("home_room", {f"technique.{practice}": 0.0, "technique.name": label})
    variants["standard group"] = ("standard_group", {})
    return variants


def size_variants() -> dict[str, tuple[str, dict]]:
    """Home room at every group size."""
    return {
        str(size): (
            "home_room",
            {"group.clients": size, "cohort.students_per_faculty": STUDENTS_PER_FACULTY},
        )
        for size in SIZES
    }


def bar_figure(table: pd.DataFrame) -> Figure:
    """Effect of home room with each practice dropped (horizontal bars with 95% CIs)."""
    with styled():
        fig = Figure(figsize=(8, 4.2), layout="constrained")
        ax = fig.add_subplot()
        order = table.iloc[::-1]
        y = np.arange(len(order))
        ax.barh(y, order["effect"], color="#4c72b0", alpha=0.8)
        ax.errorbar(
            order["effect"],
            y,
            xerr=[order["effect"] - order["low"], order["high"] - order["effect"]],
            fmt="none",
            color="black",
            capsize=3,
        )
        ax.set_yticks(y, order["variant"])
        ax.set_xlabel("effect on the post-test vs no intervention (points, 35-140)")
        fig.suptitle("Dropping each home-room practice in turn")
    return fig


def size_figure(table: pd.DataFrame) -> Figure:
    """Effect per client against group size, with 95% CIs."""
    with styled():
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot()
        size = table["variant"].astype(int)
        ax.errorbar(
            size,
            table["effect"],
            yerr=[table["effect"] - table["low"], table["high"] - table["effect"]],
            marker="o",
            capsize=3,
        )
        ax.set_xlabel("clients in the group")
        ax.set_ylabel("effect per client (points, 35-140)")
        ax.set_xticks(size)
        fig.suptitle("Home room: the effect per client by group size (45-minute sessions)")
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "practices")
    parser.add_argument("--docs", action="store_true", help="copy the figures to docs/img/")
    args = parser.parse_args(argv)
    if args.reps < 2:
        parser.error(f"--reps: must be at least 2 (got {args.reps})")
    seeds = replication_seeds(args.seed, args.reps)
    ablation = effects(ablation_variants(), seeds, args.workers)
    sizes = effects(size_variants(), seeds, args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    save_figure(bar_figure(ablation), args.out, "ablation")
    save_figure(size_figure(sizes), args.out, "group_size")
    peak = sizes.loc[sizes["effect"].idxmax(), "variant"]
    text = (
        f"# Practices and group size ({args.reps} paired seeds; effect = mean paired difference "
        "of the clients' post-test totals against a no-intervention twin, 95% CI)\n\n"
        + markdown_table(Table.from_frame(ablation.round(2)))
        + "\n\n"
        + markdown_table(Table.from_frame(sizes.rename(columns={"variant": "clients"}).round(2)))
        + f"\n\nThe effect per client peaks at {peak} clients.\n"
    )
    with atomic_file(args.out / "practices.md") as handle:
        handle.write(text)
    if args.docs:
        for name in ("ablation.png", "group_size.png"):
            shutil.copyfile(args.out / name, ROOT / "docs" / "img" / name)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
