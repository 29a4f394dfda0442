"""The comparison report: every file, self-contained HTML, numbers that come from the runs."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest

from conftest import SCENARIOS, SMALL
from groupsim import Comparison, compare
from groupsim.document.render import to_markdown
from groupsim.runs.backends import LocalPoolBackend
from groupsim.study import report as report_module
from groupsim.study.report import FIGURES, REPORT_FILES, summary_sentences

PAIR = [SCENARIOS / "no_intervention.toml", SCENARIOS / "home_room.toml"]


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(PAIR, 3, seed=2, workers=1, overrides=SMALL, label=None)


@pytest.fixture(scope="module")
def written(comparison, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "cmp"
    comparison.report(out)
    return out


def test_a_backend_s_workers_draw_the_same_files(comparison, written, tmp_path):
    # Four figures drawn in worker processes, the rest here at the same time: same bytes.
    backend = LocalPoolBackend(2)
    with backend:
        comparison.report(tmp_path / "cmp", backend=backend)
    names = sorted(path.name for path in written.iterdir())
    assert sorted(path.name for path in (tmp_path / "cmp").iterdir()) == names
    for name in names:
        assert (tmp_path / "cmp" / name).read_bytes() == (written / name).read_bytes(), name


def test_a_backend_not_yet_open_is_opened_before_the_drawing_thread(comparison, written, tmp_path):
    # The pool forks its workers when the report opens it, with no other thread running.
    backend = LocalPoolBackend(2)
    comparison.report(tmp_path / "cmp", backend=backend)
    assert not backend.is_open
    names = sorted(path.name for path in written.iterdir())
    for name in names:
        assert (tmp_path / "cmp" / name).read_bytes() == (written / name).read_bytes(), name


def test_report_writes_every_file(written):
    for name in REPORT_FILES:
        assert (written / name).stat().st_size > 0
    for name in FIGURES:
        assert (written / f"{name}.png").exists()
        assert (written / f"{name}.svg").exists()
    assert (written / "scenario_home_room.toml").exists()
    assert (written / "scenario_no_intervention.toml").exists()


def test_html_is_self_contained(written):
    page = (written / "report.html").read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(FIGURES)
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    assert "<link" not in page
    assert "http" not in page.split("<body>")[1].split("Reproduce")[0]
    assert "<table>" in page


def test_markdown_links_the_figures_beside_it(written):
    text = (written / "report.md").read_text()
    for name in FIGURES:
        assert f"]({name}.png)" in text


def test_report_states_the_design(written, comparison):
    text = (written / "report.md").read_text()
    assert "3 replications each" in text
    assert "experiment seed 2" in text
    assert "groupsim 0.1.0" in text
    assert "| counselor.technique | none | home_room |" in text
    assert "paired t-test (scipy.stats.ttest_rel)" in text
    assert "read the size of a difference and its interval, not its p-value" in text
    assert "Borenstein" in text
    assert "no_intervention (the reference)" in text
    assert "| no_intervention (reference) |  |" in text  # the outcome tables' first row


def test_summary_numbers_come_from_the_effects_table(comparison):
    sentence = summary_sentences(comparison)[0]
    row = comparison.effects.query(
        "outcome == 'post_social_interaction' and scenario == 'home_room'"
    ).iloc[0]
    assert sentence.startswith("home_room raised clients' post-program social interaction")
    assert f"by {row['difference']:.3f}" in sentence
    assert f"{row['difference_low']:.3f} to {row['difference_high']:.3f}" in sentence
    assert f"Hedges' g = {row['hedges_g']:.2f}" in sentence
    assert sentence.endswith("on average.")


def test_summary_says_lowered_by_a_positive_amount(comparison):
    """The verb carries the sign: "lowered ... by 0.180", never "lowered ... by -0.180"."""
    effects = comparison.effects.copy()
    home = effects["scenario"] == "home_room"
    low, high = effects.loc[home, "difference_low"], effects.loc[home, "difference_high"]
    effects.loc[home, "difference"] *= -1
    effects.loc[home, "difference_low"], effects.loc[home, "difference_high"] = -high, -low
    flipped = dataclasses.replace(comparison, _effects=effects)
    sentence = summary_sentences(flipped)[0]
    post = effects[home & (effects["outcome"] == "post_social_interaction")].iloc[0]
    assert post["difference"] < 0
    assert sentence.startswith("home_room lowered clients' post-program social interaction")
    assert f"by {-post['difference']:.3f} (95% CI {post['difference_low']:.3f} to" in sentence
    assert "by -" not in sentence
    # An interval across 0: no verb of direction, the signed difference.
    effects.loc[home, "difference_low"], effects.loc[home, "difference_high"] = -1.0, 1.0
    unclear = summary_sentences(dataclasses.replace(comparison, _effects=effects))[0]
    assert unclear.startswith(
        "home_room did not clearly change clients' post-program social interaction (latent "
        f"score 0-1): difference {post['difference']:.3f} (95% CI -1.000 to 1.000;"
    )


def test_summary_csv_is_the_effects_table(written, comparison):
    summary = pd.read_csv(written / "summary.csv")
    pd.testing.assert_frame_equal(
        summary[["outcome", "scenario", "difference"]],
        comparison.effects[["outcome", "scenario", "difference"]],
    )


def test_changing_a_parameter_changes_the_report(comparison, tmp_path):
    colder = compare(
        PAIR, 3, seed=2, workers=1, overrides={**SMALL, "counselor.warmth": 0.2}, label=None
    )
    before = to_markdown(report_module.report_blocks(comparison))
    after = to_markdown(report_module.report_blocks(colder))
    assert before != after
    assert summary_sentences(comparison)[0] != summary_sentences(colder)[0]
    assert "counselor.warmth = 0.2" in after
    warm = comparison.effects.set_index(["outcome", "scenario"])
    cold = colder.effects.set_index(["outcome", "scenario"])
    key = ("post_social_interaction", "home_room")
    assert cold.loc[key, "difference"] < warm.loc[key, "difference"]
    assert f"{cold.loc[key, 'difference']:.3f}" in after


def test_nothing_is_written_when_a_figure_fails(comparison, tmp_path, monkeypatch):
    from groupsim.study import figures as plots

    def broken(_comparison):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(plots, "benefit_figure", broken)
    with pytest.raises(RuntimeError):
        comparison.report(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_client_level_d_is_computed_from_clients_parquet(written, comparison):
    """Cohen's d by hand: mean paired difference of arm means over the pooled client SD."""
    clients = pd.read_parquet(written / "clients.parquet")
    for outcome in ("questionnaire_post", "questionnaire_followup"):
        present = clients.dropna(subset=[outcome])
        treated = present[present["scenario"] == "home_room"]
        control = present[present["scenario"] == "no_intervention"]
        by_replication = (
            treated.groupby("replication")[outcome].mean()
            - control.groupby("replication")[outcome].mean()
        )
        n_t, n_c = len(treated), len(control)
        pooled = (
            ((n_t - 1) * treated[outcome].var() + (n_c - 1) * control[outcome].var())
            / (n_t + n_c - 2)
        ) ** 0.5
        d = by_replication.mean() / pooled
        g = d * (1 - 3 / (4 * (n_t + n_c - 2) - 1))
        row = pd.read_csv(written / "client_effects.csv").set_index("outcome").loc[outcome]
        assert row["cohens_d"] == pytest.approx(d, rel=1e-12)
        assert row["hedges_g"] == pytest.approx(g, rel=1e-12)
        assert row["client_sd"] == pytest.approx(pooled, rel=1e-12)
        assert row["d_low"] < row["cohens_d"] < row["d_high"]
        assert row["clients_treatment"] == n_t
    client = comparison.client_effects.set_index("outcome")
    text = (written / "report.md").read_text()
    assert "## Client-level effects on the questionnaire" in text
    assert f"Cohen's d = {client.loc['questionnaire_post', 'cohens_d']:.2f}" in text
    assert "Hedges' g (run-level)" in text
    assert "run-level Hedges' g" in summary_sentences(comparison)[0]


def test_report_gives_icc_and_reliable_change_per_arm(written, comparison):
    arms = pd.read_csv(written / "arms.csv").set_index("scenario")
    clients = pd.read_parquet(written / "clients.parquet")
    home = clients[clients["scenario"] == "home_room"]
    answered = home[home["reliable_change"].fillna("") != ""]
    improved = (answered["reliable_change"] == "improved").mean()
    assert arms.loc["home_room", "improved"] == pytest.approx(improved)
    assert arms.loc["home_room", "client_runs"] == len(home)
    assert arms.loc["home_room", "dropout"] == pytest.approx(home["dropped_out"].mean())
    assert -1 <= arms.loc["home_room", "icc_post"] <= 1
    text = (written / "report.md").read_text()
    assert "ICC (post \\| pre)" in text
    assert f"{100 * improved:.0f}%" in text
    # What the results assume: intervals at fixed parameters (no posterior here), the
    # effect's one anchor study, the mechanisms as assumptions.
    section = text.split("## What these results assume and cannot know")[1].split("\n## ")[0]
    assert "at fixed parameters" in section
    assert "Nur Azizah & Murtafi'ah 2021" in section
    assert "docs/ODD.md" in section
    # Beside the literature's spreads, said to be context, not targets.
    assert "Kivlighan et al. 2020" in text
    assert "Lambert & Ogles 2004" in text
    assert "not targets the model was fitted to" in text
