"""HomeRoomModel: a cohort of students, counseling groups and their counselors, week by week.

`step` is one week: the week's process in ODD order (docs/ODD.md, section 3: group sessions,
campus life, decay, measurement), compiled (`groupsim.model.week_kernel.run_weeks`), then the
questionnaires due and the week's records. `run_model` runs the weeks that need no Python in
between in one compiled call each (`groupsim.model.weeks`).

Student states are numpy arrays (`model.states`), ties live in a sorted-array tie store
(`model.ties`); campus life runs vectorised over all students at once, group sessions run
exchange by exchange among their few members. `model.network` is a networkx view built on
demand. Initialisation and screening are in `groupsim.model.screening`, the weekly records in
`groupsim.model.recording`, the mechanisms in `groupsim.model.mechanisms`.

Example:
    >>> from groupsim import HomeRoomModel
    >>> model = HomeRoomModel(rng=1, counselor_warmth=0.9, cohort_students_per_faculty=5)
    >>> model.run_model()
    >>> model.week == model.calendar.last_week
    True
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any, NamedTuple

import mesa
import networkx as nx
import numpy as np

from groupsim.model import campus, recording, session_inputs, weekly, weeks
from groupsim.model import kernel as k
from groupsim.model import mechanisms as mech
from groupsim.model.agents import (
    CounselingGroup,
    ReservedStudents,
    Student,
    StudentStates,
    agents_watched,
    create_students,
    draw_students,
)
from groupsim.model.interrupts import interrupts_wait
from groupsim.model.measures import QUESTIONNAIRE
from groupsim.model.recording import CLUSTERING_SAMPLE, WEEKLY_REPORTERS, record_week, reporter
from groupsim.model.roster import adopt_roster
from groupsim.model.schedule import Calendar, Week
from groupsim.model.screening import friends_of, initial_ties, screen_clients, select_groups
from groupsim.model.settled import SettledCohort, settling_key
from groupsim.model.ties import TieStore
from groupsim.model.warm_up import before_first_model
from groupsim.scenario import Scenario, ScenarioError, dotted_path, scenario_from_dict

__all__ = [
    "CLUSTERING_SAMPLE",
    "DEFAULT_FACULTY_NAMES",
    "WEEKLY_REPORTERS",
    "CounselingGroup",
    "HomeRoomModel",
    "ScenarioInputs",
    "initial_ties",
    "scenario_from_flat",
    "scenario_inputs",
    "select_groups",
]

DEFAULT_FACULTY_NAMES = (
    "Faculty of Law",
    "Faculty of Education",
    "Faculty of Economics",
    "Faculty of Psychology",
    "Faculty of Science",
    "Faculty of Humanities",
    "Faculty of Social Sciences",
    "Faculty of Engineering",
    "Faculty of Medicine",
)


def scenario_from_flat(params: dict[str, Any]) -> Scenario:
    """Build a scenario from flat keyword names (`counselor_warmth=0.5`, ...)."""
    nested: dict[str, Any] = {}
    for flat, value in params.items():
        try:
            path = dotted_path(flat)
        except KeyError:
            raise ScenarioError(
                "HomeRoomModel(...)",
                flat,
                "unknown parameter; flat names are dotted paths with '_' for the first '.', "
                "for example counselor_warmth (see groupsim.flat_parameter_names())",
            ) from None
        if "." in path:
            section, key = path.split(".")
            nested.setdefault(section, {})[key] = value
        else:
            nested[path] = value
    return scenario_from_dict(nested, "HomeRoomModel(...)")


class ScenarioInputs(NamedTuple):
    """What a run takes from its scenario alone: the same in every run of it (`scenario_inputs`).

    The calendar, the technique's practices, and the parameter records of the compiled
    weekly process (campus life, a session, the week's end).
    """

    calendar: Calendar
    practices: dict[str, float]
    campus_parameters: np.ndarray
    session_parameters: np.ndarray
    week_end_parameters: np.ndarray


#: `scenario_inputs` of the last scenarios run, by the scenario object's id; an entry holds its
#: scenario, so the id is not reused while it is kept.
_INPUTS: dict[int, tuple[Scenario, ScenarioInputs]] = {}
_INPUTS_KEPT = 8
_INPUTS_LOCK = threading.Lock()


def scenario_inputs(c: Scenario) -> ScenarioInputs:
    """The scenario's `ScenarioInputs`, derived once per scenario object and kept for its runs.

    A study runs one scenario thousands of times, and deriving these again cost ~0.2 ms of a
    ~12 ms default run (2026-12-02). A scenario is frozen, so what it implies cannot change;
    a run takes copies of the records (`HomeRoomModel.__init__`), so no run changes another's.
    """
    kept = _INPUTS.get(id(c))
    if kept is not None and kept[0] is c:
        return kept[1]
    practices = c.practices
    inputs = ScenarioInputs(
        Calendar(
            c.program.baseline_weeks,
            c.program_weeks,
            c.program.followup_weeks,
            c.program.sessions,
            c.program.transition_share,
            with_group=c.holds_group,
        ),
        practices,
        campus.campus_parameters(c),
        session_inputs.session_parameters(c, practices),
        weekly.week_end_parameters(c),
    )
    with _INPUTS_LOCK:  # runs in threads (a live page, a threaded Dask worker) share it
        while len(_INPUTS) >= _INPUTS_KEPT:
            del _INPUTS[next(iter(_INPUTS))]  # the oldest
        _INPUTS[id(c)] = (c, inputs)
    return inputs


def faculty_names(names: Iterable[str], faculties: int) -> list[str]:
    """The scenario's faculty names, or the default names (then "Faculty 10", ...)."""
    return list(names) or [
        DEFAULT_FACULTY_NAMES[f] if f < len(DEFAULT_FACULTY_NAMES) else f"Faculty {f + 1}"
        for f in range(faculties)
    ]


class HomeRoomModel(mesa.Model):
    """Home-room (or standard, or no) counseling groups inside a university cohort.

    Args:
        rng: seed or numpy Generator (Mesa's convention); the same seed gives the same run.
        config: a validated :class:`~groupsim.scenario.Scenario`; when omitted the flat
            keyword parameters (and defaults) are used.
        record_students: keep a row per student per week (`student_frames`).
        student_weeks: keep the student rows of these weeks only (among the recorded ones);
            None, the default: of every recorded week. A study that reads the students at a
            few weeks (`compare`: the outcome weeks) builds no other week's rows.
        record_ties: keep the edge list every week (`tie_frames`).
        record_faculties: keep a row per faculty every recorded week (`faculty_rows`); a
            study that reads only the weekly metrics (`compare`) turns it off.
        record_weeks: the weeks to record (weekly metrics, faculty rows, and the snapshots
            above); None, the default: every week. A run that keeps only summary outcomes
            (a sweep, a power study) records the three weeks it reads and skips the rest,
            about a fifth of a default run's time. Recording draws no random numbers, so the
            run itself is the same whichever weeks it records.
        settled_cohorts: the settled cohorts of this seed's other arms, by
            `settled.settling_key` (a dict the caller keeps across arms): the run starts
            from a matching one, identical to settling its own, or adds its own. None: the
            run settles its cohort and keeps nothing.
        **params: flat parameters, the dotted path with `_` for its first dot
            (`counselor.warmth` -> `counselor_warmth`, `group.clients` -> `group_clients`).
    """

    # The cohort's Student agents, or their reservation until they are read (`enrol_students`).
    _student_agents: list[Student]
    _reserved_students: ReservedStudents | None

    def __new__(cls, *args: Any, **kwargs: Any) -> HomeRoomModel:
        """A new model; the first of a process has the model's code compiled elsewhere first.

        `warm_up.before_first_model`: a process that compiles the code runs it slower. Here,
        before `__init__` holds Ctrl-C back (`interrupts_wait`), so a Ctrl-C during that
        compile (about a minute) stops it at once.
        """
        before_first_model()
        return super().__new__(cls)

    @interrupts_wait
    def __init__(
        self,
        rng: Any = None,
        config: Scenario | None = None,
        record_students: bool = True,
        record_ties: bool = True,
        record_weeks: Iterable[int] | None = None,
        record_faculties: bool = True,
        settled_cohorts: dict[tuple[Any, ...], SettledCohort] | None = None,
        student_weeks: Iterable[int] | None = None,
        **params: Any,
    ):
        super().__init__(rng=rng)
        if config is not None and params:
            raise ScenarioError(
                "HomeRoomModel(...)", ", ".join(params), "give either config or flat parameters"
            )
        self.config = config if config is not None else scenario_from_flat(params)
        self.record_students = record_students
        self.record_ties = record_ties
        self.record_faculties = record_faculties
        self.record_weeks = None if record_weeks is None else frozenset(map(int, record_weeks))
        self.student_weeks = None if student_weeks is None else frozenset(map(int, student_weeks))
        self.record: dict[str, Any] = {}  # the last recorded week's metrics
        inputs = scenario_inputs(self.config)
        # The technique's practices (its preset with the scenario's own values), read once.
        self.practices = dict(inputs.practices)
        # Separate random streams, spawned from the run's seed: the population (traits,
        # starting network, burn-in, screening) is identical across scenarios that share a
        # cohort, and group sessions draw from their own stream so campus life in two arms
        # uses the same numbers as long as their states agree (common random numbers). The
        # counselors have a stream of their own, so every arm of a comparison gets the same
        # counselors (the same people, under another technique).
        (
            self.population_rng,
            self.campus_rng,
            self.group_rng,
            self.measurement_rng,
            self.counselor_rng,
        ) = self.rng.spawn(5)
        # The campus and group streams as compiled code takes them every week: the same
        # Generators, handed over in ~2 us instead of ~20 (`kernel.RandomStream`).
        self.campus_stream = k.random_stream(self.campus_rng)
        self.group_stream = k.random_stream(self.group_rng)
        c = self.config
        self.calendar = inputs.calendar
        self.week = 0
        self.burn_in_done = False
        # The parameters the compiled weekly process reads, taken from the scenario once
        # (numpy records: `campus.campus_parameters`, `session_inputs.session_parameters`,
        # `weekly.week_end_parameters`), the run's own copies.
        self.campus_parameters = inputs.campus_parameters.copy()
        self.session_parameters = inputs.session_parameters.copy()
        self.week_end_parameters = inputs.week_end_parameters.copy()
        self._student_agents, self._reserved_students = [], None  # none enrolled yet
        # Arms of a comparison with the same seed and cohort settle it once (`model.settled`).
        key = None if settled_cohorts is None else settling_key(c, rng)
        if settled_cohorts is not None and key in settled_cohorts:
            self.start_settled(settled_cohorts[key])
        else:
            self.draw_population()
            self.burn_in()
            if settled_cohorts is not None and key is not None:
                settled_cohorts[key] = SettledCohort.of(self, key)
        # A cohort from data takes the settled drawn cohort's place (`model.roster`, ODD 5).
        self.roster = adopt_roster(self) if c.cohort.data else None
        self.form_groups()
        self.start_records()

    # ------------------------------------------------------------ copies and pickles

    def __getstate__(self) -> dict[str, Any]:
        """The model's state for `pickle` and `copy.deepcopy`: all but the two streams.

        The streams (compiled structures, not picklable) are rebuilt from `campus_rng` and
        `group_rng`, the very Generators they hold. Everything else is plain Python and
        numpy, and arrays held twice (`student_arrays` are the `states`' own arrays) stay one
        array in the copy; so a copy taken between weeks runs on exactly as the original does
        (`tests/test_model.py`, `tests/test_week_kernel.py`).
        """
        state = self.__dict__.copy()
        del state["campus_stream"], state["group_stream"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.campus_stream = k.random_stream(self.campus_rng)
        self.group_stream = k.random_stream(self.group_rng)

    # ------------------------------------------------------------ initialisation (ODD 5)

    def draw_population(self) -> None:
        """The cohort's traits, starting ties and student agents; the first measurement."""
        c = self.config.cohort
        # The population Generator as compiled code takes it: both draws below in ~2 us each
        # instead of ~30 (`kernel.RandomStream`); the same numbers from the same Generator.
        population = k.random_stream(self.population_rng)
        self.states: StudentStates = draw_students(
            c.faculties,
            c.students_per_faculty,
            {
                "sociability": c.sociability_mean,
                "openness": c.openness_mean,
                "anxiety": c.anxiety_mean,
                "skill": c.skill_mean,
                "attitude": c.attitude_mean,
            },
            c.trait_concentration,
            population,
            c.responsiveness_sd,
            c.sensitivity_sd,
        )
        self.place_students()
        self.update_resolve()
        self.ties = TieStore.of_pairs(
            self.n,
            *initial_ties(
                self.states.faculty,
                self.faculty_start,
                self.faculty_size,
                c.initial_ties,
                c.initial_ties_in_faculty,
                population,
            ),
        )
        self.social_interaction = np.zeros(self.n)
        self.measure_week()

    def place_students(self) -> None:
        """The drawn cohort's faculties and its Student agents (no random numbers)."""
        c = self.config.cohort
        self.n = self.states.n
        # Faculties are contiguous blocks of ids: faculty f is [start[f], start[f] + size).
        self.faculty_start = np.arange(c.faculties) * c.students_per_faculty
        self.faculty_size = c.students_per_faculty
        self.faculty_sizes = np.full(c.faculties, c.students_per_faculty)
        self.faculty_names = faculty_names(c.faculty_names, c.faculties)
        self.enrol_students([self.faculty_names[f] for f in self.states.faculty.tolist()])
        self._network_cache: tuple[int, nx.Graph] | None = None
        self._ties_version = 0

    def enrol_students(self, faculty_names: list[str], names: Sequence[str] | None = None) -> None:
        """The cohort's `Student` agents, student i of `faculty_names[i]` (and `names[i]`).

        They replace the agents of a cohort enrolled before. Their unique ids are the next
        ones now, but they are made only when something first reads them (`student_agents`,
        Mesa's `agents`, `agents_by_type`): a study never does
        (`agents.ReservedStudents`). Made at once when something watches the agents.
        """
        if self._reserved_students is None:  # made: the old cohort's agents leave
            for agent in self._student_agents:
                agent.remove()
        self._student_agents = []
        #: The students' names in a cohort from data (None: drawn), as the agents carry them.
        self.student_names: list[str | None] = (
            list(names) if names is not None else [None] * len(faculty_names)
        )
        self._reserved_students = None
        if agents_watched(self):
            self._student_agents = create_students(self, faculty_names, names)
        else:
            self._reserved_students = ReservedStudents(self.agent_id_counter, faculty_names, names)
            self.agent_id_counter += len(faculty_names)

    @property
    def student_agents(self) -> list[Student]:
        """The cohort's `Student` agents, by student id (made the first time they are read)."""
        if self._reserved_students is not None:
            reserved, self._reserved_students = self._reserved_students, None
            self._student_agents = reserved.make(self)
        return self._student_agents

    @property
    def agents(self) -> Any:  # Mesa's _HardKeyAgentSet
        """Mesa's `agents`, the cohort's students among them (`student_agents`)."""
        self.student_agents  # noqa: B018 (made when first read)
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, Any]:
        """Mesa's `agents_by_type`, the cohort's students among them (`student_agents`)."""
        self.student_agents  # noqa: B018
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's `agent_types`, `Student` among them (`student_agents`)."""
        self.student_agents  # noqa: B018
        return super().agent_types

    def remove_all_agents(self) -> None:
        """Mesa's `remove_all_agents`, the cohort's students among them."""
        self.student_agents  # noqa: B018
        super().remove_all_agents()

    def start_settled(self, cohort: SettledCohort) -> None:
        """Start from another arm's settled cohort instead of drawing and settling it again.

        Its states, ties, scores and random streams are those this run's set-up and burn-in
        would reach (the same seed and `settled.settling_key`), copied (`groupsim.model.settled`).
        """
        cohort.restore(self)
        self.place_students()
        self.burn_in_done = True

    def burn_in(self) -> None:
        """Campus life alone until the network settles; not recorded.

        Every week is campus life, decay and the contact count (`campus.campus_week`,
        `weekly.decay_week`, `weekly.count_contacts`), their compiled loops run back to back
        in one call for all the weeks (`weekly.burn_in_weeks`).
        """
        weekly.run_burn_in(self, self.config.cohort.burn_in_weeks)
        # Nothing reads the score before screening: it is taken once, from the settled network.
        self.score_students()
        self.burn_in_done = True

    def form_groups(self) -> None:
        """Screening forms the groups; the pre-test at week 0 without baseline weeks."""
        self.questionnaire: dict[str, np.ndarray] = {}
        # The clients' latent scores at each occasion given: calibration measures them on a
        # field study's own instrument (`QuestionnaireModel.from_instrument`).
        self.latent: dict[str, np.ndarray] = {}
        self.groups = self.screen_clients()
        self.clients = np.sort(np.concatenate([g.members for g in self.groups]))
        self.group_of = np.full(self.n, -1, dtype=np.int64)
        for g in self.groups:
            self.group_of[g.members] = g.number
        self.counselor = self.groups[0].counselor
        if self.calendar.last_baseline_week == 0 and "pre" not in self.questionnaire:
            # No baseline weeks: the pre-test is given right after screening, at week 0.
            self.questionnaire["pre"] = QUESTIONNAIRE.totals(
                self.social_interaction[self.clients], self.measurement_rng
            ).astype(float)
            self.latent["pre"] = self.social_interaction[self.clients].copy()
        # The clients' latent scores at screening and at the pre-test week, whose noise-free
        # expected totals a power study reads (`expected_totals`); no random numbers.
        screened = self.social_interaction[self.clients]  # a copy (an index array picks)
        self.expected_latent: dict[str, np.ndarray] = {"screening": screened, "pre": screened}
        # The clients' friends at screening (non-clients tied to a client): where spill-over
        # from the groups to the campus would show first.
        self.friends = friends_of(self.ties, self.clients)

    def start_records(self) -> None:
        """Empty records and Mesa's DataCollector; week 0 (screening) is recorded."""
        self.session_rows: list[dict[str, Any]] = []
        self.student_frames: list[dict[str, np.ndarray]] = []
        self.tie_frames: list[dict[str, np.ndarray]] = []
        self.faculty_rows: list[dict[str, np.ndarray]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: reporter(name) for name in WEEKLY_REPORTERS}
        )
        # The weeks compiled code has run ahead of `week` (`groupsim.model.weeks`), waiting
        # for `step` to record them; the degrees and clustering sample of the last recorded
        # one (`last_measures`).
        self.simulated_weeks: deque[weeks.SimulatedWeek] = deque()
        self.last_measures: tuple[np.ndarray, np.ndarray] | None = None
        # The groups' members, group after group, and where each group starts: every
        # recorded week reads them (`groupsim.model.recording.weekly_metrics`).
        self.group_members = recording.group_members(self.groups)
        self.record_week(self.calendar.week(0))

    def screen_clients(self) -> list[CounselingGroup]:
        """Choose the groups (`groupsim.model.screening.screen_clients`, ODD 5)."""
        return screen_clients(self)

    # ------------------------------------------------------------------ the weekly schedule

    @interrupts_wait
    def step(self) -> None:
        """One week (Ctrl-C waits for its end: `groupsim.model.interrupts`).

        The week's process in ODD order, compiled (`week_kernel.run_weeks`: group sessions,
        campus life, decay, measurement), unless `run_model` ran it already; then the
        questionnaires due and the week's records.
        """
        if not self.simulated_weeks:
            weeks.simulate_weeks(self, 1)
        self.week += 1
        week = self.calendar.week(self.week)
        simulated = self.simulated_weeks.popleft()
        self.session_rows.extend(simulated.session_rows)
        if simulated.asked is not None:  # a questionnaire's week: its clients as it left them
            self.give_questionnaires(*simulated.asked)
        self.record_week(week, simulated.measures, simulated.students)
        if self.week >= self.calendar.last_week:
            self.running = False

    def run_model(self) -> None:
        """Run to the last week, as Mesa's `run_model` (a `step` a week).

        The weeks up to the next one whose state Python reads (a questionnaire, a snapshot:
        `weeks.weeks_ahead`) run in one compiled call (`run_ahead`), the same weeks `step`
        would run one by one; each `step` then records its week. A model whose `step` is
        overridden or whose DataCollector reads the model itself runs a week a step.
        """
        ahead = type(self).step is HomeRoomModel.step and recording.collects_records(self)
        while self.running:
            if ahead and not self.simulated_weeks:
                self.run_ahead()
            self.step()

    @interrupts_wait
    def run_ahead(self) -> None:
        """Run the weeks up to the next one Python reads (`weeks.weeks_ahead`), compiled.

        Ctrl-C waits for the end of these weeks, as it waits for the end of a step: a few
        milliseconds in a default run, a few seconds at campus scale.
        """
        weeks.simulate_weeks(self, weeks.weeks_ahead(self))

    @property
    def simulated_week(self) -> int:
        """The last week compiled code has run: `week`, or later while `run_model` runs ahead."""
        return self.week + len(self.simulated_weeks)

    def records(self, week: int) -> bool:
        """Whether week `week` is recorded (`record_weeks`)."""
        return self.record_weeks is None or week in self.record_weeks

    def keeps_students(self, week: int) -> bool:
        """Whether a recorded week `week` keeps the students' rows (`student_weeks`)."""
        return self.record_students and (self.student_weeks is None or week in self.student_weeks)

    @property
    def snapshots(self) -> bool:
        """Whether the recorded weeks keep a snapshot of the ties or the faculties (every one).

        Python reads the state itself for those: the compiled weeks stop there
        (`weeks.weeks_ahead`). The students' rows are kept by the compiled weeks
        (`weeks.SimulatedWeek.students`).
        """
        return self.record_faculties or self.record_ties

    @property
    def climate(self) -> float:
        """The groups' mean climate (NaN without a group)."""
        if not self.config.holds_group:
            return float("nan")
        return float(np.mean([g.climate for g in self.groups]))

    @property
    def tension(self) -> float:
        """The groups' mean tension (NaN without a group)."""
        if not self.config.holds_group:
            return float("nan")
        return float(np.mean([g.tension for g in self.groups]))

    def ties_changed(self) -> None:
        """Mark the ties as changed (the cached `network` is rebuilt on its next use)."""
        self._ties_version += 1

    @property
    def network(self) -> nx.Graph:
        """All ties as a networkx graph (built on demand, cached until the ties change)."""
        if self._network_cache is None or self._network_cache[0] != self._ties_version:
            self._network_cache = (self._ties_version, self.ties.to_networkx())
        return self._network_cache[1]

    # ------------------------------------------------------------ the compiled weeks' inputs

    @cached_property
    def student_arrays(self) -> session_inputs.StudentArrays:
        """The state arrays the compiled week reads and changes (`week_kernel.run_weeks`).

        Views of `states`, made once at the first week (a cohort from data has replaced
        `states` by then): the arrays change in place, never get replaced.
        """
        return session_inputs.student_arrays(self.states)

    # ------------------------------------------------------------------ measurement (ODD 7.10)

    def measure_week(self) -> None:
        """The drawn cohort's first measurement: contact frequency and the latent score.

        The program's weeks measure inside the compiled week (`week_kernel.run_weeks`).
        """
        self.count_contacts()
        self.score_students()

    def count_contacts(self) -> None:
        """This week's good exchanges move each student's contact frequency (a moving average)."""
        s = self.states
        weekly.count_contacts(s.contact_rate, s.contacts_this_week, self.week_end_parameters)

    def score_students(self) -> None:
        """Every student's summed tie strength and latent social interaction score (ODD 7.10)."""
        s = self.states
        self.strength_sum, self.social_interaction = weekly.score_students(
            self.ties.keys, self.ties.strength, s.contact_rate, s.skill, s.attitude, s.anxiety,
            self.week_end_parameters,
        )  # fmt: skip

    def give_questionnaires(self, scores: np.ndarray, dropped_out: np.ndarray) -> None:
        """The pre-test, post-test and follow-up, each at its week (ODD 7.10).

        `scores`, `dropped_out`: the clients' latent scores and dropouts as this week left
        them (kept by the compiled week, `weeks.SimulatedWeek.asked`, so the weeks after it
        may have run already).
        """
        cal = self.calendar
        if self.week == cal.last_baseline_week:
            self.expected_latent["pre"] = scores
        due = []
        if self.week == cal.last_baseline_week and "pre" not in self.questionnaire:
            due.append("pre")
        if self.week == cal.last_program_week:
            due.append("post")
        if self.week == cal.last_week and cal.followup_weeks > 0:
            due.append("followup")
        for occasion in due:
            totals = QUESTIONNAIRE.totals(scores, self.measurement_rng).astype(float)
            if occasion != "pre":  # clients are enrolled at the pre-test: it is never missing
                totals[~self.answers(self.measurement_rng, dropped_out)] = np.nan
            self.questionnaire[occasion] = totals
            self.latent[occasion] = np.where(np.isnan(totals), np.nan, scores)

    @property
    def expected_totals(self) -> dict[str, np.ndarray]:
        """The clients' noise-free expected totals at screening and at the pre-test week.

        A power study splits the pre-test's screening bias with them; they are computed when
        read (`measures.QuestionnaireModel.expected_total`), not every run.
        """
        return {
            occasion: QUESTIONNAIRE.expected_total(scores)
            for occasion, scores in self.expected_latent.items()
        }

    def answers(self, rng: np.random.Generator, dropped_out: np.ndarray) -> np.ndarray:
        """Which clients answer a post-test or follow-up: dropouts answer less often (ODD 7.10).

        `dropped_out`: whether each client had dropped out by the questionnaire's week. One
        uniform per client, drawn whether or not anyone dropped out, so the arms of a
        comparison stay in step.
        """
        m = self.config.measurement
        rate = np.where(dropped_out, m.dropout_response_rate, m.response_rate)
        return rng.random(len(self.clients)) < rate

    def update_resolve(self) -> None:
        """Resolve follows attitude, skill and calm (`mechanisms.resolve_from`, ODD 7.7)."""
        s = self.states
        r = self.config.resolve
        s.resolve[:] = mech.resolve_from(
            s.attitude, s.skill, s.anxiety, r.attitude_weight, r.control_weight, r.calm_weight
        )

    # ------------------------------------------------------------------ recording (ODD 4)

    def record_week(
        self, week: Week, measures: np.ndarray | None = None, students: np.ndarray | None = None
    ) -> None:
        """Record this week (`groupsim.model.recording.record_week`; only `record_weeks`).

        `measures` and `students`: the week's measures and students' rows as the compiled
        week kept them (None: taken now).
        """
        record_week(self, week, measures, students)
