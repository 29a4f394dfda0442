"""Figures of a comparison: titled, labelled with units, with legends; written as PNG and SVG."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from conftest import SCENARIOS, SMALL
from groupsim import Comparison, compare
from groupsim.document.figures import save_figure
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.study import figures as plots

THREE = [SCENARIOS / f"{name}.toml" for name in ("no_intervention", "standard_group", "home_room")]


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(THREE, 3, seed=1, workers=1, overrides=SMALL, label=None)


def _data_axes(fig: Figure):
    """Axes that hold data (not colour bars)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def _legend_texts(fig: Figure) -> list[str]:
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    for ax in fig.axes:
        if ax.get_legend() is not None:
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    return texts


def test_timeseries_has_a_panel_per_measure_with_units_and_a_line_per_scenario(comparison):
    fig = plots.timeseries_figure(comparison)
    axes = _data_axes(fig)
    assert [ax.get_title() for ax in axes] == [title for title, _ in plots.TIMESERIES.values()]
    for ax in axes:
        assert "week" in ax.get_xlabel()
        assert "0-1" in ax.get_ylabel()
    # Social interaction: a line per scenario; climate: none for the arm without a group.
    assert len(axes[0].get_lines()) == 3
    assert len(axes[1].get_lines()) == 2
    assert set(comparison.labels) <= set(_legend_texts(fig))
    assert "program weeks" in _legend_texts(fig)
    # The program weeks are shaded.
    assert any(patch.get_alpha() for patch in axes[0].patches)
    assert fig.get_suptitle()


def test_spillover_figure_follows_friends_and_non_clients(comparison):
    fig = plots.spillover_figure(comparison)
    axes = _data_axes(fig)
    assert [ax.get_title() for ax in axes] == [title for title, _ in plots.SPILLOVER.values()]
    assert "per week" in axes[1].get_ylabel()
    assert axes[1].get_ylim()[0] == 0  # a rate, not a 0-1 score: open-ended axis
    assert all(len(ax.get_lines()) == 3 for ax in axes)  # every arm has friends
    assert fig.get_suptitle().startswith("Spill-over")


def test_network_figure_has_four_time_points_per_scenario_and_a_colour_bar(comparison):
    runs = [(label, 0, comparison.rerun(label, 0)) for label in comparison.labels]
    weeks = comparison.weeks()
    fig = plots.network_figure(runs)
    axes = _data_axes(fig)
    assert len(axes) == 3 * 4
    titles = [ax.get_title() for ax in axes[:4]]
    assert titles == [f"{when} (week {week})" for when, week in weeks.items()]
    colorbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 1
    assert "social interaction" in colorbars[0].get_ylabel()
    # Each panel shows the clients as nodes.
    clients = SMALL["group.clients"]
    assert all(len(ax.collections[1].get_offsets()) == clients for ax in axes)
    # Edges are the ties between clients at each panel's week.
    for row, (_, _, result) in enumerate(runs):
        ids = set(result.questionnaire["student_id"])
        for col, week in enumerate(weeks.values()):
            ties = result.ties[result.ties["week"] == week]
            among = ties["source"].isin(ids) & ties["target"].isin(ids)
            segments = axes[4 * row + col].collections[0].get_segments()
            assert len(segments) == int(among.sum())
    home = axes[2 * 4 : 3 * 4]
    assert len(home[2].collections[0].get_segments()) > len(home[0].collections[0].get_segments())
    assert any("tie strength" in text for text in _legend_texts(fig))


def test_questionnaire_figure_uses_the_scale_range(comparison):
    fig = plots.questionnaire_figure(comparison)
    (ax,) = _data_axes(fig)
    assert ax.get_ylim() == (QUESTIONNAIRE.minimum, QUESTIONNAIRE.maximum)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pre-test", "post-test", "follow-up"]
    assert "35-140" in ax.get_ylabel()
    assert set(_legend_texts(fig)) >= set(comparison.labels)
    assert ax.get_title()


def test_benefit_figure_shows_each_treatment_by_tercile(comparison):
    fig = plots.benefit_figure(comparison)
    axes = _data_axes(fig)
    assert len(axes) == 2
    for ax in axes:
        assert len(ax.patches) == 3 * 2  # three terciles, two treatments
        assert "tercile" in ax.get_xlabel()
        assert ax.get_title()
    assert "no_intervention" in axes[0].get_ylabel()
    assert set(_legend_texts(fig)) == {"standard_group", "home_room"}


def test_effects_figure_has_every_outcome(comparison):
    fig = plots.effects_figure(comparison)
    axes = _data_axes(fig)
    labels = [t.get_text() for ax in axes for t in ax.get_yticklabels()]
    assert len(labels) == comparison.effects["outcome"].nunique()
    assert all("difference" in ax.get_xlabel() for ax in axes)


def test_save_figure_writes_png_and_svg(comparison, tmp_path):
    paths = save_figure(plots.questionnaire_figure(comparison), tmp_path, "q")
    assert [p.name for p in paths] == ["q.png", "q.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in paths[1].read_text()
    # The same figure gives the same SVG (stable ids, no date).
    again = save_figure(plots.questionnaire_figure(comparison), tmp_path / "..", "q2")
    assert again[1].read_text() == paths[1].read_text()
