"""The teaching pictures: week snapshots, the stable layout, the SVG network and charts.

The network's geometry and renderers live in `groupsim.document` (one picture for the page,
the replay, the animation and the report); the charts and captions in `groupsim.teach.drawing`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from groupsim import HomeRoomModel
from groupsim.document.network import (
    COLOUR_STATES,
    WeekPicture,
    colour_of,
    faculty_layout,
    picture_from_model,
    pictures_from_result,
    stable_layout,
    student_labels,
)
from groupsim.document.network_draw import network_svg
from groupsim.teach.drawing import chart_svg, result_series, week_caption


def _faculty(result):
    first = result.students[result.students["week"] == 0].sort_values("student_id")
    return first["faculty"].to_numpy()


def test_pictures_from_result_cover_every_week_and_only_ties_touching_the_group(small_result):
    pictures = pictures_from_result(small_result)
    assert [p.week for p in pictures] == list(small_result.weekly["week"])
    clients = set(small_result.questionnaire["student_id"])
    for picture in pictures:
        assert set(picture.clients) == clients
        assert not set(picture.context) & clients
        for a, b, strength in picture.edges:
            assert a < b
            assert 0 < strength <= 1
            assert a in clients or b in clients
            assert a in picture.colour
            assert b in picture.colour


def test_pictures_of_chosen_weeks_equal_those_of_every_week(small_result):
    every = {p.week: p for p in pictures_from_result(small_result, context=False)}
    weeks = [0, max(every)]
    chosen = pictures_from_result(small_result, context=False, weeks=weeks)
    assert [p.week for p in chosen] == weeks
    assert chosen == [every[week] for week in weeks]


def test_picture_matches_the_tables_of_the_same_week(small_result):
    pictures = pictures_from_result(small_result, colour_by="anxiety", context=False)
    last = pictures[-1]
    rows = small_result.students[small_result.students["week"] == last.week].set_index("student_id")
    for i in last.clients:
        assert last.colour[i] == pytest.approx(rows.loc[i, "anxiety"])
        assert last.disclosure[i] == pytest.approx(rows.loc[i, "disclosure"])
    # Without context only ties inside the group remain.
    members = set(last.clients)
    assert all(a in members and b in members for a, b, _ in last.edges)
    assert last.context == ()


def test_picture_from_model_agrees_with_the_recorded_week(small_home_room):
    model = HomeRoomModel(rng=3, config=small_home_room)
    for _ in range(3):
        model.step()
    picture = picture_from_model(model)
    frame = model.student_frames[-1]
    assert picture.week == 3 == int(frame["week"][0])
    for i in picture.clients:
        assert picture.colour[i] == pytest.approx(frame["social_interaction"][i])
    group_ties = {
        (a, b) for a, b, _ in picture.edges if a in picture.clients and b in picture.clients
    }
    expected = {
        (min(a, b), max(a, b))
        for a, b in model.network.edges()
        if a in set(picture.clients) and b in set(picture.clients)
    }
    assert group_ties == expected


def test_faculty_layout_is_fixed_and_puts_clients_on_the_inner_ring():
    faculty = np.repeat(np.arange(3), 4)
    clients = [0, 5, 9]
    first = faculty_layout(faculty, clients)
    assert first == faculty_layout(faculty, clients)
    assert set(first) == set(range(12))
    for i in clients:
        assert np.hypot(*first[i]) == pytest.approx(0.55)
    for i in set(range(12)) - set(clients):
        assert np.hypot(*first[i]) > 0.75


def test_stable_layout_keeps_clients_fixed_and_is_reproducible(small_result):
    pictures = pictures_from_result(small_result)
    faculty = _faculty(small_result)
    clients = pictures[0].clients
    layout = stable_layout(pictures, faculty, clients, seed=0)
    again = stable_layout(pictures, faculty, clients, seed=0)
    assert layout == again
    start = faculty_layout(faculty, clients)
    for i in clients:
        assert layout[i] == pytest.approx(start[i])
    for picture in pictures:  # every drawn student has a place, inside the frame
        for i in (*picture.clients, *picture.context):
            assert np.hypot(*layout[i]) <= 1.06


def test_network_svg_draws_each_client_with_label_colour_size_and_ties():
    picture = WeekPicture(
        week=4,
        clients=(0, 1, 2),
        context=(7,),
        colour={0: 0.0, 1: 0.5, 2: 1.0, 7: 0.3},
        disclosure={0: 0.0, 1: 1.0, 2: 0.5, 7: 0.0},
        edges=((0, 1, 0.9), (1, 2, 0.1), (2, 7, 0.5)),
    )
    positions = faculty_layout([0, 1, 2, 0, 1, 2, 0, 1], [0, 1, 2])
    labels = {0: "S0 - Faculty of Law", 1: "S1 - Faculty of Education", 2: "S2 - B&B <x>"}
    svg = network_svg(picture, positions, labels, colour_by="social_interaction")
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert 'data-week="4"' in svg
    assert 'data-ties="2"' in svg
    assert "S0 - Faculty of Law" in svg
    assert "S2 - B&amp;B &lt;x&gt;" in svg
    radii = {
        int(m.group(2)): float(m.group(1))
        for m in re.finditer(
            r'r="([\d.]+)" fill="#\w+" stroke="#263238" stroke-width="[\d.]+" class="client" '
            r'data-student="(\d+)"',
            svg,
        )
    }
    assert radii[1] > radii[2] > radii[0]  # size follows disclosure
    assert colour_of(0.0) in svg
    assert colour_of(1.0) in svg
    widths = [float(w) for w in re.findall(r'stroke="#37474f" stroke-width="([\d.]+)"', svg)]
    # Widths scale with the drawing: 1 reference pixel at size 380, 460/380 at the default.
    scale = 460 / 380
    assert sorted(widths) == pytest.approx(
        [scale * (0.6 + 5.5 * 0.1), scale * (0.6 + 5.5 * 0.9)], abs=0.01
    )
    highlighted = network_svg(picture, positions, labels, highlight=1)
    assert re.search(
        r'stroke="#d32f2f" stroke-width="[\d.]+" class="client" data-student="1"', highlighted
    )


def test_colour_scale_is_viridis_and_clamped():
    assert colour_of(0.0) == "#440154"
    assert colour_of(1.0) == "#fde725"
    assert colour_of(-3) == colour_of(0.0)
    assert colour_of(7) == colour_of(1.0)
    assert colour_of(0.3) != colour_of(0.31) or colour_of(0.3) != colour_of(0.5)


def test_chart_svg_shows_values_at_the_marker_week(small_result):
    weekly = small_result.weekly
    series = result_series(weekly)
    weeks = list(weekly["week"])
    svg = chart_svg(weeks, series, weeks[-1], marker_week=2, program=(1, 4), title="t")
    expected = f"{series['social interaction'][weeks.index(2)]:.2f}"
    assert f'data-series="social interaction" data-value="{expected}"' in svg
    assert svg.count("<polyline") == len(series)
    assert ">program<" in svg


def test_labels_and_captions(small_result, small_home_room):
    labels = student_labels(small_result)
    model = HomeRoomModel(rng=7, config=small_home_room)
    assert labels == student_labels(model)
    assert re.fullmatch(r"S\d+ - .+", labels[0])
    row = {"week": 3, "phase": "program", "session": 2, "stage": "forming", "climate": 0.5}
    assert week_caption(row, 9) == "Week 3 of 9 · program · session 2 (forming) · climate 0.50"
    row = {"week": 0, "phase": "baseline", "session": 0, "stage": "", "climate": float("nan")}
    assert week_caption(row, 9) == "Week 0 of 9 · baseline"


def test_every_colour_state_is_a_student_column(small_result):
    assert set(COLOUR_STATES) <= set(small_result.students.columns)


# The message catalogue, captions per session, the lesson's numbers -------------------------


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    import string

    from groupsim.teach.messages import LANGUAGES, catalogue

    tables = {lang: catalogue(lang) for lang in LANGUAGES}
    assert set(tables["en"]) == set(tables["id"])

    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, text in tables["en"].items():
        assert fields(text) == fields(tables["id"][key]), key
        assert tables["id"][key].strip(), key
    # the field's own terms
    words = tables["id"]
    assert words["state.social_interaction"] == "interaksi sosial"
    assert "tekad" in words["state.resolve"]
    assert "cara pandang" in words["state.attitude"]
    assert words["state.disclosure"] == "keterbukaan diri"
    assert [words[f"stage.{s}"] for s in ("forming", "transition", "working", "termination")] == [
        "pembentukan",
        "peralihan",
        "kegiatan",
        "pengakhiran",
    ]
    # every state a node can be coloured by has a name in both languages
    for lang in LANGUAGES:
        assert {f"state.{name}" for name in COLOUR_STATES} <= set(tables[lang])


def test_an_unknown_language_is_refused():
    from groupsim.teach.messages import messages

    with pytest.raises(ValueError, match="--lang: must be one of en, id"):
        messages("fr")


def test_captions_name_every_session_of_the_week_and_climate_only_while_the_group_meets():
    from groupsim.teach.lesson import week_caption as caption
    from groupsim.teach.messages import messages

    # Six sessions in three weeks: two a week, the forming and the transition in one week.
    model = HomeRoomModel(rng=1, config=_small(program__sessions=6, program__weeks=3))
    en = messages("en")
    seen = []
    while model.running:
        model.step()
        held = [(s.number, s.stage) for s in model.calendar.sessions_in(model.week)]
        text = caption(model.record, model.calendar.last_week, held, en)
        seen.append(text)
        if held:
            assert "climate" in text
            for number, stage in held:
                assert f"session {number} ({stage})" in text
        else:
            assert "climate" not in text
            assert "session" not in text
    everything = " ".join(seen)
    assert "session 1 (forming)" in everything
    assert "(termination)" in everything
    # a week with two sessions names both
    assert any(text.count("session ") >= 2 for text in seen)


def _small(**overrides):
    from conftest import small_scenario

    return small_scenario(**overrides)


def test_lesson_numbers_count_who_opened_up_and_the_questionnaire_as_it_is_given(small_result):
    from groupsim.teach.lesson import result_numbers

    sc = small_result.scenario
    pre_week = sc.program.baseline_weeks
    post_week = pre_week + sc.program_weeks
    before = result_numbers(small_result, pre_week - 1 if pre_week else 0)
    at_post = result_numbers(small_result, post_week)
    assert before.questionnaire[1] is None
    assert at_post.questionnaire[1] == pytest.approx(small_result.questionnaire["post"].mean())
    students = small_result.students[small_result.students["week"] == post_week]
    clients = set(small_result.questionnaire["student_id"])
    opened = students[
        students["student_id"].isin(clients)
        & (students["disclosure"] >= sc.disclosure.personal_threshold)
    ]
    assert set(at_post.opened) == set(opened["student_id"])
    row = small_result.weekly.set_index("week").loc[post_week]
    assert at_post.density == pytest.approx(row["group_density"])
    assert at_post.isolates == row["group_isolates"]
    assert at_post.clients == len(clients)


def test_opened_up_clients_are_marked_in_the_drawing():
    picture = WeekPicture(
        week=3,
        clients=(0, 1),
        context=(),
        colour={0: 0.2, 1: 0.9},
        disclosure={0: 0.1, 1: 0.6},
        edges=((0, 1, 0.7),),
    )
    svg = network_svg(picture, faculty_layout([0, 1], [0, 1]), {0: "A", 1: "B"}, threshold=0.45)
    assert 'data-opened="1"' in svg  # one of two
    assert svg.count('class="opened"') == 1
    assert network_svg(picture, faculty_layout([0, 1], [0, 1]), {}).count('class="opened"') == 0
