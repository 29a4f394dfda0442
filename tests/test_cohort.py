"""Cohort import: scoring recovers known latent scores; runs start from the imported cohort.

The round trip and the run checks are statistical, with thresholds stated in each test; the
bad-file checks are one line naming file, row and column, exit status 2, nothing written.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize

from conftest import ROOT, cli, one_line_refusal
from groupsim import load_scenario
from groupsim.cohort.importer import import_cohort, pseudonym
from groupsim.cohort.scoring import eap_scores, log_likelihoods
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.model.model import HomeRoomModel
from groupsim.scenario import ScenarioError
from groupsim.scenario.cohort_file import read_cohort
from groupsim.scenario.instrument import Instrument, default_instrument

EXAMPLES = ROOT / "examples"
ITEMS = [f"item{k}" for k in range(1, 36)]


def simulated_sheet(latent: np.ndarray, rng: np.random.Generator, missing: float) -> pd.DataFrame:
    """Answers drawn from the model's questionnaire at known latent scores, some left empty."""
    answers = QUESTIONNAIRE.responses(latent, rng).astype(float)
    answers[rng.random(answers.shape) < missing] = np.nan
    sheet = pd.DataFrame(answers, columns=ITEMS).astype("Int64")
    sheet.insert(0, "id", [f"s{i:04d}" for i in range(len(latent))])
    return sheet


@pytest.fixture(scope="module")
def example_cohort(tmp_path_factory):
    """The synthetic example cohort imported with a key of the test's own."""
    folder = tmp_path_factory.mktemp("cohort")
    out = folder / "cohort.parquet"
    summary = import_cohort(
        EXAMPLES / "synthetic_responses.csv",
        Instrument.model_validate({"items": 35, "reverse_items": [3, 8, 14, 22, 29]}),
        out,
        network=EXAMPLES / "synthetic_friendships.csv",
        faculty_column="faculty",
        key_file=folder / "key",
    )
    return out, summary, folder


def test_round_trip_recovers_known_latent_scores(tmp_path):
    """600 students, 35 items, 2% missing: r >= 0.9; simulated totals within 1 point on average.

    The mean difference between a fresh questionnaire at the estimate and the real total has
    a standard error of about 0.35 points at n = 600, so the 1-point bound is ~3 SE.
    """
    rng = np.random.default_rng(11)
    latent = rng.uniform(0.1, 0.9, size=600)
    sheet = simulated_sheet(latent, rng, missing=0.02)
    sheet.to_csv(tmp_path / "answers.csv", index=False)
    import_cohort(
        tmp_path / "answers.csv", default_instrument(), tmp_path / "c.parquet", key_file=None
    )
    cohort = read_cohort(tmp_path / "c.parquet")
    truth = latent[[int(i[1:]) for i in cohort.ids]]
    assert np.corrcoef(cohort.latent, truth)[0, 1] >= 0.9
    real = sheet[ITEMS].to_numpy(float)[[int(i[1:]) for i in cohort.ids]]
    complete = ~np.isnan(real).any(axis=1)
    simulated = QUESTIONNAIRE.totals(cohort.latent, rng)
    assert abs(np.mean(simulated[complete] - real[complete].sum(axis=1))) <= 1.0


def test_eap_matches_numerical_integration_and_the_maximum_likelihood():
    """The grid EAP equals scipy's quadrature; its likelihood peaks where scipy's optimiser does."""
    rng = np.random.default_rng(3)
    answers = QUESTIONNAIRE.responses(np.array([0.25, 0.5, 0.75]), rng).astype(float)
    answers[0, :5] = np.nan
    mean, _ = eap_scores(answers, QUESTIONNAIRE, prior="uniform")
    for k in range(3):

        def like(theta: float, k: int = k) -> float:
            return float(
                np.exp(log_likelihoods(answers[k : k + 1], QUESTIONNAIRE, np.array([theta]))[0, 0])
            )

        peak = optimize.minimize_scalar(
            lambda t: -np.log(like(t)), bounds=(0, 1), method="bounded"
        ).x
        norm = integrate.quad(like, 0, 1, points=[peak], limit=200)[0]
        first = integrate.quad(lambda t: t * like(t), 0, 1, points=[peak], limit=200)[0]
        assert mean[k] == pytest.approx(first / norm, abs=1e-3)
        assert abs(peak - mean[k]) < 0.02  # a peaked, near-symmetric posterior


def test_the_cohort_prior_lets_low_scorers_regress_to_the_mean():
    """The least active tenth: expected totals at the estimates within 1 point of the truth's.

    1,000 students from Beta(6, 7); the lowest 100 observed totals. Under the uniform prior
    their estimates stay at the observed (noisy, too low) level, about 2 points under the
    truth; under the fitted cohort prior the gap is well inside 1 point (SE about 0.3).
    """
    rng = np.random.default_rng(21)
    truth = rng.beta(6.0, 7.0, size=1000)
    answers = QUESTIONNAIRE.responses(truth, rng).astype(float)
    lowest = np.argsort(answers.sum(axis=1), kind="stable")[:100]
    target = QUESTIONNAIRE.expected_total(truth[lowest]).mean()
    cohort, _ = eap_scores(answers, QUESTIONNAIRE)
    uniform, _ = eap_scores(answers, QUESTIONNAIRE, prior="uniform")
    assert abs(QUESTIONNAIRE.expected_total(cohort[lowest]).mean() - target) <= 1.0
    assert QUESTIONNAIRE.expected_total(uniform[lowest]).mean() < target - 1.0


def test_students_with_too_few_answers_are_listed_and_left_out(example_cohort):
    _, summary, _ = example_cohort
    assert summary.students == 177
    assert len(summary.left_out_rows) == 3
    assert summary.missing_answers > 0
    assert summary.ties_dropped > 0


def test_a_run_starts_from_the_imported_cohort(example_cohort):
    """Same students, same edges; totals at the start reproduce the imported ones (mean +-1)."""
    out, _, _ = example_cohort
    cohort = read_cohort(out)
    scenario = load_scenario("home_room", {"cohort.data": str(out)})
    model = HomeRoomModel(rng=5, config=scenario)
    assert model.n == cohort.n == 177
    edges = set(zip(model.ties.sources.tolist(), model.ties.targets.tolist(), strict=True))
    assert edges == set(zip(cohort.tie_source.tolist(), cohort.tie_target.tolist(), strict=True))
    # The survey's strengths keep their ratios (rescaled to the model's mean strength).
    ratio = model.ties.lookup(cohort.tie_source, cohort.tie_target) / cohort.tie_strength
    assert np.allclose(ratio, ratio[0])
    assert np.max(np.abs(model.social_interaction - cohort.latent)) < 0.03
    totals = np.mean(
        [
            QUESTIONNAIRE.totals(model.social_interaction, np.random.default_rng(s)).mean()
            for s in range(10)
        ]
    )
    assert abs(totals - cohort.screening_total.mean()) <= 1.0
    assert {a.name for a in model.student_agents} == set(cohort.ids)


def test_pretest_screening_gives_the_imported_totals(example_cohort):
    out, _, _ = example_cohort
    cohort = read_cohort(out)
    scenario = load_scenario("home_room", {"cohort.data": str(out), "group.screening": "pretest"})
    model = HomeRoomModel(rng=2, config=scenario)
    assert np.array_equal(model.questionnaire["pre"], cohort.screening_total[model.clients])
    lowest = np.sort(cohort.screening_total)[: len(model.clients)]
    assert model.questionnaire["pre"].mean() <= lowest.mean() + 10  # the least active chosen


def test_explicit_client_ids_are_the_clients(example_cohort):
    out, _, _ = example_cohort
    cohort = read_cohort(out)
    chosen = list(cohort.ids[::19][:9])
    scenario = load_scenario("home_room", {"cohort.data": str(out), "group.client_ids": chosen})
    model = HomeRoomModel(rng=2, config=scenario)
    assert sorted(cohort.ids[i] for i in model.clients) == sorted(chosen)
    with pytest.raises(ScenarioError, match=r"group\.client_ids"):
        load_scenario("home_room", {"cohort.data": str(out), "group.client_ids": ["nobody"]})


def test_a_scenario_file_finds_its_cohort_relative_to_itself():
    scenario = load_scenario(EXAMPLES / "my_cohort.toml")
    assert scenario.cohort.data == str((EXAMPLES / "synthetic_cohort.parquet").resolve())
    assert scenario.cohort.faculties == 9


def test_the_cohort_file_holds_no_raw_id_and_no_text_column(example_cohort):
    out, _, folder = example_cohort
    raw = pd.read_csv(EXAMPLES / "synthetic_responses.csv", dtype=str)["id"]
    data = out.read_bytes()
    assert not any(student.encode() in data for student in raw)
    key = (folder / "key").read_text().strip().encode()
    assert set(read_cohort(out).ids) <= {pseudonym(s, key) for s in raw}


BAD = {
    "outside the points": ("id,item1,item2\na,1,2\nb,5,1\n", "row 3, column item1"),
    "duplicate id": ("id,item1,item2\na,1,2\nb,2,2\na,3,1\n", "row 4, column id"),
    "missing id column": ("student,item1,item2\na,1,2\n", "row 1, column id"),
    "a names column": ("id,name,item1,item2\na,Siti Rahma,1,2\n", "row 1, column name"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_answer_sheets_are_one_line_and_write_nothing(case, tmp_path, monkeypatch, capsys):
    text, where = BAD[case]
    (tmp_path / "answers.csv").write_text(text)
    (tmp_path / "two.toml").write_text("[instrument]\nitems = 2\n")
    out = tmp_path / "c.parquet"
    code, _, err = cli(
        [
            "cohort",
            "import",
            str(tmp_path / "answers.csv"),
            "--instrument",
            str(tmp_path / "two.toml"),
            "--key-file",
            str(tmp_path / "key"),
            "--out",
            str(out),
        ],
        monkeypatch,
        capsys,
    )
    one_line_refusal(code, err, "answers.csv", where)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "two.toml"]


def test_an_unknown_id_in_the_edges_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "answers.csv").write_text("id,item1,item2\na,1,2\nb,2,2\n")
    (tmp_path / "edges.csv").write_text("source,target\na,b\nb,zz\n")
    (tmp_path / "two.toml").write_text("[instrument]\nitems = 2\n")
    code, _, err = cli(
        [
            "cohort",
            "import",
            str(tmp_path / "answers.csv"),
            "--instrument",
            str(tmp_path / "two.toml"),
            "--network",
            str(tmp_path / "edges.csv"),
            "--key-file",
            str(tmp_path / "key"),
            "--out",
            str(tmp_path / "c.parquet"),
        ],
        monkeypatch,
        capsys,
    )
    one_line_refusal(code, err, "edges.csv", "row 3, column target", "zz")
    assert not (tmp_path / "c.parquet").exists()
    assert not (tmp_path / "key").exists()


def leaked_ids(folder) -> list[tuple[str, list[bytes]]]:
    """Files under `folder` holding a raw id of the example sheet, as a whole token."""
    raw = pd.read_csv(EXAMPLES / "synthetic_responses.csv", dtype=str)["id"].tolist()
    # A whole token: a 7-digit id can sit inside a long decimal number.
    pattern = re.compile(rb"(?<![0-9.])(" + b"|".join(s.encode() for s in raw) + rb")(?![0-9])")
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    return [(p.name, hits[:3]) for p in files if (hits := pattern.findall(p.read_bytes()))]


def cohort_arms(out, folder) -> list[str]:
    """Scenario files on the imported cohort: no group and home room."""
    arms = []
    for technique in ("none", "home_room"):
        path = folder / f"{technique}.toml"
        path.write_text(f'[cohort]\ndata = "{out}"\n[counselor]\ntechnique = "{technique}"\n')
        arms.append(str(path))
    return arms


def test_ids_are_pseudonymised_in_every_output(example_cohort, tmp_path, monkeypatch, capsys):
    """`groupsim run --out` on a cohort scenario: no file (and nothing printed) holds a raw id."""
    out, _, _ = example_cohort
    arms = cohort_arms(out, tmp_path)
    code, stdout, err = cli(
        ["run", arms[1], "--seed", "1", "--out", str(tmp_path / "run")], monkeypatch, capsys
    )
    assert code == 0, err
    (tmp_path / "printed.txt").write_text(stdout)
    assert leaked_ids(tmp_path) == []


def test_compare_outputs_hold_no_raw_id(example_cohort, tmp_path, monkeypatch, capsys):
    """`groupsim compare` (tables, figures, report) on cohort scenarios: no raw id anywhere."""
    out, _, _ = example_cohort
    arms = cohort_arms(out, tmp_path)
    short = ["cohort.burn_in_weeks=2", "program.sessions=4", "program.followup_weeks=1"]
    command = ["compare", *arms, "--reps", "2", "--workers", "1", "--out", str(tmp_path / "c")]
    command += [part for setting in short for part in ("--set", setting)]
    code, _, err = cli(command, monkeypatch, capsys)
    assert code == 0, err
    assert len(list((tmp_path / "c").iterdir())) > 15
    assert leaked_ids(tmp_path) == []


def test_the_teaching_page_and_replay_show_the_pseudonyms(example_cohort, tmp_path):
    """Smoke test of `ui` (the page's model and views) and `replay` on a cohort scenario."""
    from groupsim import run
    from groupsim.teach.classroom import Classroom
    from groupsim.teach.messages import messages
    from groupsim.teach.replay import result_labels
    from groupsim.teach.views import arm_drawing, student_panel

    out, _, _ = example_cohort
    scenario = load_scenario("home_room", {"cohort.data": str(out)})
    room = Classroom(scenario, second="none")
    room.step()
    words = messages("en")
    arm = room.arms[0]
    client = int(arm.clients[0])
    tag = arm.student_agents[client].tag
    assert tag in read_cohort(out).ids
    assert tag in arm_drawing(arm, words)
    assert tag in student_panel(room, 0, client, words)
    labels = result_labels(run(scenario, seed=1, record_ties=False), words)
    assert labels[client].startswith(read_cohort(out).ids[client])


def test_xlsx_and_keep_ids(tmp_path):
    """An XLSX sheet reads like its CSV; --keep-ids keeps the ids and says so in the file."""
    rng = np.random.default_rng(4)
    sheet = simulated_sheet(rng.uniform(0.2, 0.8, size=20), rng, missing=0.0)
    sheet.to_excel(tmp_path / "answers.xlsx", index=False)
    sheet.to_csv(tmp_path / "answers.csv", index=False)
    for name in ("answers.xlsx", "answers.csv"):
        import_cohort(
            tmp_path / name, default_instrument(), tmp_path / f"{name}.parquet", key_file=None
        )
    from_xlsx = read_cohort(tmp_path / "answers.xlsx.parquet")
    from_csv = read_cohort(tmp_path / "answers.csv.parquet")
    assert from_xlsx.ids == from_csv.ids == tuple(sorted(sheet["id"]))
    assert np.array_equal(from_xlsx.latent, from_csv.latent)
    assert not from_csv.pseudonymised


def test_a_missing_or_foreign_cohort_file_is_one_line(tmp_path, monkeypatch, capsys):
    code, _, err = cli(
        ["check", "home_room", "--set", f"cohort.data={tmp_path / 'no.parquet'}"],
        monkeypatch,
        capsys,
    )
    one_line_refusal(code, err, "no.parquet", "cohort.data", "no such cohort file")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(ScenarioError, match="not a cohort file"):
        load_scenario("home_room", {"cohort.data": str(tmp_path / "other.parquet")})


def test_a_model_from_a_cohort_file_pickles_between_weeks_and_runs_on_the_same(example_cohort):
    import pickle

    out, _, _ = example_cohort
    scenario = load_scenario("home_room", {"cohort.data": str(out)})
    model = HomeRoomModel(rng=5, config=scenario, record_ties=False)
    for _ in range(3):
        model.step()
    saved = pickle.loads(pickle.dumps(model))
    assert saved.roster is not None
    model.run_model()
    saved.run_model()
    assert saved.datacollector.get_model_vars_dataframe().equals(
        model.datacollector.get_model_vars_dataframe()
    )
    assert np.array_equal(saved.social_interaction, model.social_interaction)
