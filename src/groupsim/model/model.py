"""HomeRoomModel: a cohort of students, counseling groups and their counselors, week by week.

`step` is one week and reads like the ODD's process overview (docs/ODD.md, section 3):
group sessions, campus life, decay, measurement, recording.

Student states are numpy arrays (`model.states`), ties live in a sorted-array tie store
(`model.ties`); campus life runs vectorised over all students at once, group sessions run
exchange by exchange among their few members. `model.network` is a networkx view built on
demand.

Example:
    >>> from groupsim import HomeRoomModel
    >>> model = HomeRoomModel(rng=1, counselor_warmth=0.9, cohort_students_per_faculty=5)
    >>> while model.running:
    ...     model.step()
    >>> model.week == model.calendar.last_week
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import mesa
import networkx as nx
import numpy as np

from groupsim.model import mechanisms as mech
from groupsim.model.agents import TRAIT_BASELINES, Counselor, Student, StudentStates, draw_students
from groupsim.model.measures import QUESTIONNAIRE, social_interaction_score, update_contact_rate
from groupsim.model.schedule import Calendar, Session, Week
from groupsim.model.ties import TieStore
from groupsim.scenario import Scenario, ScenarioError, dotted_path, scenario_from_dict

__all__ = [
    "DEFAULT_FACULTY_NAMES",
    "WEEKLY_REPORTERS",
    "CounselingGroup",
    "HomeRoomModel",
    "scenario_from_flat",
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

CAMPUS_CHANNELS = ("tie", "closure", "faculty", "anyone")

#: Campus clustering is estimated on at most this many students (a systematic sample).
CLUSTERING_SAMPLE = 3000


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


@dataclass
class CounselingGroup:
    """One counseling group: its members, counselor and climate."""

    number: int
    members: np.ndarray
    counselor: Counselor
    setting: float
    climate: float
    sessions_held: int = 0
    depths: list[float] = field(default_factory=list)


class HomeRoomModel(mesa.Model):
    """Home-room (or standard, or no) counseling groups inside a university cohort.

    Args:
        rng: seed or numpy Generator (Mesa's convention); the same seed gives the same run.
        config: a validated :class:`~groupsim.scenario.Scenario`; when omitted the flat
            keyword parameters (and defaults) are used.
        record_students: keep a row per student per week (`student_frames`).
        record_ties: keep the edge list every week (`tie_frames`).
        record_weeks: the weeks to record (weekly metrics, faculty rows, and the snapshots
            above); None, the default: every week. A run that keeps only summary outcomes
            (a sweep, a power study) records the three weeks it reads and skips the rest,
            about a fifth of a default run's time. Recording draws no random numbers, so the
            run itself is the same whichever weeks it records.
        **params: flat parameters, the dotted path with `_` for its first dot
            (`counselor.warmth` -> `counselor_warmth`, `group.clients` -> `group_clients`).
    """

    def __init__(
        self,
        rng: Any = None,
        config: Scenario | None = None,
        record_students: bool = True,
        record_ties: bool = True,
        record_weeks: Iterable[int] | None = None,
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
        self.record_weeks = None if record_weeks is None else frozenset(map(int, record_weeks))
        self.record: dict[str, Any] = {}  # the last recorded week's metrics
        c = self.config
        # Separate random streams, spawned from the run's seed: the population (traits,
        # starting network, burn-in, screening) is identical across scenarios that share a
        # cohort, and group sessions draw from their own stream so campus life in two arms
        # uses the same numbers as long as their states agree (common random numbers).
        self.population_rng, self.campus_rng, self.group_rng, self.measurement_rng = self.rng.spawn(
            4
        )
        self.calendar = Calendar(
            c.program.baseline_weeks,
            c.program_weeks,
            c.program.followup_weeks,
            c.program.sessions,
            c.program.transition_share,
            with_group=c.counselor.technique != "none",
        )
        self.week = 0
        self.states: StudentStates = draw_students(
            c.cohort.faculties,
            c.cohort.students_per_faculty,
            {
                "sociability": c.cohort.sociability_mean,
                "openness": c.cohort.openness_mean,
                "anxiety": c.cohort.anxiety_mean,
                "skill": c.cohort.skill_mean,
                "attitude": c.cohort.attitude_mean,
            },
            c.cohort.trait_concentration,
            self.population_rng,
        )
        self.n = self.states.n
        # Faculties are contiguous blocks of ids: faculty f is [start[f], start[f] + size).
        self.faculty_start = np.arange(c.cohort.faculties) * c.cohort.students_per_faculty
        self.faculty_size = c.cohort.students_per_faculty
        self._update_resolve()
        self.ties = initial_ties(
            self.states.faculty,
            self.faculty_start,
            self.faculty_size,
            c.cohort.initial_ties,
            c.cohort.initial_ties_in_faculty,
            self.population_rng,
        )
        names = list(c.cohort.faculty_names) or [
            DEFAULT_FACULTY_NAMES[f] if f < len(DEFAULT_FACULTY_NAMES) else f"Faculty {f + 1}"
            for f in range(c.cohort.faculties)
        ]
        self.faculty_names = names
        self.student_agents = [
            Student(self, i, names[self.states.faculty[i]]) for i in range(self.n)
        ]
        self.social_interaction = np.zeros(self.n)
        self._network_cache: tuple[int, nx.Graph] | None = None
        self._ties_version = 0
        self.measure_week()

        # Burn-in: campus life alone until the network settles; not recorded.
        for _ in range(c.cohort.burn_in_weeks):
            self.run_campus_week()
            self.decay_week()
            self.measure_week()
        self.burn_in_done = True

        self.questionnaire: dict[str, np.ndarray] = {}
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
        # The clients' friends at screening (non-clients tied to a client): where spill-over
        # from the groups to the campus would show first.
        self.friends = self._friends_of(self.clients)
        self.session_rows: list[dict[str, Any]] = []
        self.student_frames: list[dict[str, np.ndarray]] = []
        self.tie_frames: list[dict[str, np.ndarray]] = []
        self.faculty_rows: list[dict[str, np.ndarray]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in WEEKLY_REPORTERS}
        )
        self.record_week(self.calendar.week(0))

    # ------------------------------------------------------------------ the weekly schedule

    def step(self) -> None:
        """One week, in ODD order."""
        self.week += 1
        week = self.calendar.week(self.week)
        for session in week.sessions:
            self.run_group_sessions(session)
        self.run_campus_week()
        self.decay_week()
        self.measure_week()
        self.record_week(week)
        if self.week >= self.calendar.last_week:
            self.running = False

    @property
    def climate(self) -> float:
        """The groups' mean climate (NaN without a group)."""
        if self.config.counselor.technique == "none":
            return float("nan")
        return float(np.mean([g.climate for g in self.groups]))

    @property
    def network(self) -> nx.Graph:
        """All ties as a networkx graph (built on demand, cached until the ties change)."""
        if self._network_cache is None or self._network_cache[0] != self._ties_version:
            self._network_cache = (self._ties_version, self.ties.to_networkx())
        return self._network_cache[1]

    # ------------------------------------------------------------------ screening (ODD 5)

    def screen_clients(self) -> list[CounselingGroup]:
        """Choose the groups: the least socially active students on a screening questionnaire.

        With `group.screening = "pretest"` the screening questionnaire is the pre-test itself.
        """
        c = self.config
        screening = QUESTIONNAIRE.totals(self.social_interaction, self.measurement_rng)
        order = np.lexsort((np.arange(self.n), screening))  # lowest first, ties by id
        members = select_groups(
            order,
            self.states.faculty,
            c.cohort.faculties,
            c.program.groups,
            c.group.clients,
            c.group.selection,
            c.group.screened_share,
            self.population_rng,
        )
        setting = mech.climate_setting(
            c.counselor.technique,
            c.counselor.warmth,
            c.climate.home_room_setting,
            c.climate.standard_setting,
        )
        groups = []
        for number, ids in enumerate(members):
            counselor = Counselor(
                self, c.counselor.technique, c.counselor.warmth, c.counselor.facilitation
            )
            # Before the first session the room already carries the counselor's setting; the
            # cohesion part of the target is still zero (the members are strangers).
            climate = mech.climate_target(setting, 0.0, c.climate.setting_weight)
            groups.append(CounselingGroup(number, np.sort(ids), counselor, setting, climate))
        clients = np.sort(np.concatenate(members))
        self.states.client[clients] = True
        self.questionnaire["screening"] = screening[clients].astype(float)
        if c.group.screening == "pretest":
            self.questionnaire["pre"] = self.questionnaire["screening"]
        return groups

    def _friends_of(self, clients: np.ndarray) -> np.ndarray:
        is_client = np.zeros(self.n, dtype=bool)
        is_client[clients] = True
        src, dst = self.ties.sources, self.ties.targets
        touching = is_client[src] | is_client[dst]
        candidates = np.concatenate([src[touching], dst[touching]])
        return np.unique(candidates[~is_client[candidates]])

    # ------------------------------------------------------------ group sessions (ODD 7.1-7.6)

    def run_group_sessions(self, session: Session) -> None:
        """Every group holds this session; then their ties go back to the tie store at once
        (groups have no members in common, so the order of groups does not matter).
        """
        updates = [self.run_group_session(group, session) for group in self.groups]
        a, b, strength, used = (np.concatenate(part) for part in zip(*updates, strict=True))
        self.ties.set(a[~used], b[~used], strength[~used])
        self.ties.set(a[used], b[used], strength[used], used=True)
        self._ties_version += 1
        self._update_resolve()

    def run_group_session(
        self, group: CounselingGroup, session: Session
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One session: climate, rapport, exchange rounds, psychoeducation (ODD 3, step 1).

        Returns the members' ties after the session (pairs, strengths, used this session)
        for the tie store.
        """
        c = self.config
        s = self.states
        members = group.members
        k = len(members)
        rng = self.group_rng
        tie = self.ties.dense(members)  # the members' ties, updated in place this session
        used = np.zeros((k, k), dtype=bool)
        cohesion = _cohesion(tie)
        target = mech.climate_target(group.setting, cohesion, c.climate.setting_weight)
        group.climate = mech.update_climate(group.climate, target, c.climate.rate)
        climate = group.climate
        s.rapport[members] = mech.grow_rapport(
            s.rapport[members], group.counselor.warmth, climate, c.rapport.rate
        )
        depth_cap = getattr(c.disclosure, f"{session.stage}_depth")
        engaged_total = 0
        depths: list[float] = []
        local = np.arange(k)
        for _ in range(c.group.rounds_per_session):
            probability = mech.engagement_probability(
                s.sociability[members],
                s.resolve[members],
                s.anxiety[members],
                climate,
                c.engagement.intercept,
                c.engagement.sociability,
                c.engagement.resolve,
                c.engagement.inhibition,
            )
            probability = mech.facilitate(probability, group.counselor.facilitation)
            engaged = local[rng.random(k) < probability]
            engaged_total += len(engaged)
            for speaker in rng.permutation(engaged):
                others = local[local != speaker]
                weights = mech.partner_weights(tie[speaker, others], c.group.partner_base_weight)
                pick = np.searchsorted(np.cumsum(weights), rng.random(), side="right")
                partner = int(others[min(pick, len(others) - 1)])  # guard float round-off
                depths.extend(
                    self.group_exchange(
                        members, tie, used, int(speaker), partner, climate, depth_cap
                    )
                )
        if session.stage == "working":
            s.attitude[members] = mech.psychoeducation(
                s.attitude[members],
                s.rapport[members],
                c.attitude.psychoeducation_rate,
                c.attitude.counselor_view,
            )
        group.sessions_held += 1
        self.session_rows.append(
            {
                "group": group.number,
                "session": session.number,
                "week": session.week,
                "stage": session.stage,
                "climate": climate,
                "engagement": engaged_total / (k * c.group.rounds_per_session),
                "disclosure_depth": float(np.mean(depths)) if depths else 0.0,
                "group_density": _density(tie),
                "group_cohesion": _cohesion(tie),
                "clients_disclosed_share": self._disclosed_share(members),
            }
        )
        a, b = np.triu_indices(k, 1)
        present = tie[a, b] > 0
        a, b = a[present], b[present]
        return members[a], members[b], tie[a, b], used[a, b]

    def group_exchange(
        self,
        members: np.ndarray,
        tie: np.ndarray,
        used: np.ndarray,
        i: int,
        j: int,
        climate: float,
        depth_cap: float,
    ) -> list[float]:
        """An exchange between members i and j (local indices) in a session (ODD 7.4-7.6).

        Returns the depths disclosed so the session can report them.
        """
        c = self.config
        x = c.exchange
        s = self.states
        a, b = int(members[i]), int(members[j])
        w = tie[i, j]
        p_success = mech.exchange_success_probability(
            s.skill[a], s.skill[b], climate, w, x.intercept, x.skill, x.climate, x.tie
        )
        if self.group_rng.random() >= p_success:
            for m in (a, b):
                s.anxiety[m] = mech.sting_anxiety(s.anxiety[m], x.anxiety_sting, climate)
            return []
        # Self-disclosure met well: deeper ties, more openness (social penetration).
        d = c.disclosure
        depths = []
        for m in (a, b):
            depth = float(
                mech.disclosure_depth(
                    s.openness[m],
                    s.rapport[m],
                    climate,
                    depth_cap,
                    d.openness_weight,
                    d.rapport_weight,
                    d.climate_weight,
                )
            )
            s.disclosure[m] = max(s.disclosure[m], depth)
            s.openness[m] = mech.open_up(s.openness[m], depth, d.openness_gain)
            depths.append(depth)
        gain = x.tie_gain + d.tie_bonus * 0.5 * (depths[0] + depths[1])
        tie[i, j] = tie[j, i] = min(1.0, float(mech.strengthen_tie(w, gain)))
        used[i, j] = used[j, i] = True
        for m in (a, b):
            s.anxiety[m] = mech.relieve_anxiety(s.anxiety[m], x.anxiety_relief, climate)
            s.skill[m] = mech.practice_skill(s.skill[m], x.skill_gain)
        epsilon = mech.confidence_bound(
            climate, c.attitude.confidence_bound, c.attitude.confidence_climate
        )
        s.attitude[a], s.attitude[b] = mech.bounded_confidence(
            s.attitude[a], s.attitude[b], epsilon, c.attitude.convergence
        )
        return depths

    # ------------------------------------------------------------------ campus life (ODD 7.8)

    def run_campus_week(self) -> None:
        """Everyone's contact opportunities this week, all at once (ODD 3, step 2; 7.8).

        Partners are drawn and exchanges judged against the states and ties at the start of
        the week; their effects are then applied together (a student with several good
        exchanges gets the effect of each, `times` in the mechanisms).
        """
        c = self.config
        x = c.exchange
        s = self.states
        rng = self.campus_rng
        climate = c.climate.campus
        learning = x.campus_learning
        shares = np.array(
            [c.campus.along_ties, c.campus.triadic_closure, c.campus.same_faculty, 0.0]
        )
        shares[3] = max(0.0, 1.0 - shares[:3].sum())
        opportunities = rng.poisson(c.campus.contacts_per_week, size=self.n)
        probability = mech.engagement_probability(
            s.sociability,
            s.resolve,
            s.anxiety,
            climate,
            c.engagement.intercept,
            c.engagement.sociability,
            c.engagement.resolve,
            c.engagement.inhibition,
        )
        seekers = np.repeat(np.arange(self.n), opportunities)
        seekers = seekers[rng.random(len(seekers)) < probability[seekers]]
        channel = rng.choice(len(CAMPUS_CHANNELS), size=len(seekers), p=shares)
        partner = self.pick_campus_partners(seekers, channel, rng)
        met = (partner >= 0) & (partner != seekers)
        a, b = seekers[met], partner[met]
        if len(a) == 0:
            return
        tie = self.ties.lookup(a, b)
        p_success = mech.exchange_success_probability(
            s.skill[a], s.skill[b], climate, tie, x.intercept, x.skill, x.climate, x.tie
        )
        success = rng.random(len(a)) < p_success
        both = np.concatenate
        good = np.bincount(both([a[success], b[success]]), minlength=self.n)
        bad = np.bincount(both([a[~success], b[~success]]), minlength=self.n)
        # Ties: each pair strengthened once per good exchange this week.
        keys = self.ties.pair_keys(a[success], b[success])
        unique_keys, times = np.unique(keys, return_counts=True)
        lo, hi = unique_keys // self.n, unique_keys % self.n
        strength = mech.strengthen_tie(self.ties.lookup(lo, hi), x.tie_gain, times)
        grown = strength > 0  # with tie_gain = 0 strangers stay strangers: no empty ties
        self.ties.set(lo[grown], hi[grown], strength[grown], used=True)
        self._ties_version += 1
        s.anxiety[:] = mech.relieve_anxiety(s.anxiety, x.anxiety_relief * learning, climate, good)
        s.anxiety[:] = mech.sting_anxiety(s.anxiety, x.anxiety_sting * learning, climate, bad)
        s.skill[:] = mech.practice_skill(s.skill, x.skill_gain * learning, good)
        epsilon = mech.confidence_bound(
            climate, c.attitude.confidence_bound, c.attitude.confidence_climate
        )
        speaker = both([a[success], b[success]])
        listener = both([b[success], a[success]])
        s.attitude[:] = mech.bounded_confidence_heard(
            s.attitude, speaker, listener, epsilon, c.attitude.convergence
        )
        # Contact frequency is everyday campus contact: what a questionnaire asks about,
        # and where a gain made in the group has to show.
        s.contacts_this_week += good
        self._update_resolve()

    def pick_campus_partners(
        self, seekers: np.ndarray, channel: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Whom each seeker meets through its channel (ODD 7.8); -1 for nobody.

        `tie`: a friend by tie strength; `closure`: a friend's friend (triadic closure);
        `faculty`: a faculty mate (homophily); `anyone`: any student. Without friends,
        `tie` and `closure` fall back to a faculty mate.
        """
        partner = np.full(len(seekers), -1, dtype=np.int64)
        via_friend = np.flatnonzero(channel <= 1)
        friend = self.ties.sample_neighbours(seekers[via_friend], rng)
        has_friend = friend >= 0
        direct = (channel[via_friend] == 0) & has_friend
        partner[via_friend[direct]] = friend[direct]
        walk = (channel[via_friend] == 1) & has_friend
        partner[via_friend[walk]] = self.ties.sample_neighbours(friend[walk], rng)
        to_faculty = np.concatenate([np.flatnonzero(channel == 2), via_friend[~has_friend]])
        faculty = self.states.faculty[seekers[to_faculty]]
        partner[to_faculty] = self.faculty_start[faculty] + rng.integers(
            0, self.faculty_size, size=len(to_faculty)
        )
        anyone = np.flatnonzero(channel == 3)
        partner[anyone] = rng.integers(0, self.n, size=len(anyone))
        return partner

    # ------------------------------------------------------------------ decay (ODD 7.9)

    def decay_week(self) -> None:
        """Unused ties weaken and may drop; states drift toward baselines (ODD 3, step 3)."""
        c = self.config
        unused = ~self.ties.used
        self.ties.strength[unused] = mech.decay_tie(self.ties.strength[unused], c.decay.tie_decay)
        self.ties.end_week(c.decay.tie_floor)
        self._ties_version += 1
        for name in TRAIT_BASELINES:
            values = getattr(self.states, name)
            values[:] = mech.drift_toward(values, self.states.baseline[name], c.decay.state_drift)
        self._update_resolve()

    # ------------------------------------------------------------------ measurement (ODD 7.10)

    def measure_week(self) -> None:
        """Update contact frequency and the latent score; give questionnaires when due."""
        c = self.config
        s = self.states
        s.contact_rate[:] = update_contact_rate(
            s.contact_rate, s.contacts_this_week, c.measurement.contact_memory
        )
        s.contacts_this_week[:] = 0
        self.strength_sum = self.ties.strength_sums()
        self.social_interaction = social_interaction_score(
            s.contact_rate,
            self.strength_sum,
            s.skill,
            s.attitude,
            s.anxiety,
            c.measurement.contact_scale,
            c.measurement.tie_scale,
        )
        if not getattr(self, "burn_in_done", False):
            return
        cal = self.calendar
        due = []
        if self.week == cal.last_baseline_week and "pre" not in self.questionnaire:
            due.append("pre")
        if self.week == cal.last_program_week:
            due.append("post")
        if self.week == cal.last_week and cal.followup_weeks > 0:
            due.append("followup")
        for occasion in due:
            scores = self.social_interaction[self.clients]
            self.questionnaire[occasion] = QUESTIONNAIRE.totals(
                scores, self.measurement_rng
            ).astype(float)

    def _update_resolve(self) -> None:
        s = self.states
        r = self.config.resolve
        s.resolve[:] = mech.resolve_from(
            s.attitude, s.skill, s.anxiety, r.attitude_weight, r.control_weight, r.calm_weight
        )

    def _disclosed_share(self, members: np.ndarray) -> float:
        threshold = self.config.disclosure.personal_threshold
        return float(np.mean(self.states.disclosure[members] >= threshold))

    # ------------------------------------------------------------------ recording (ODD 7.10)

    def record_week(self, week: Week) -> None:
        """Record this week's metrics (Mesa DataCollector), and student and tie snapshots
        (only the `record_weeks` when they are given).
        """
        if self.record_weeks is not None and week.number not in self.record_weeks:
            return
        s = self.states
        cl = self.clients
        others = ~s.client
        held = week.sessions
        has_group = self.config.counselor.technique != "none"
        started = has_group and self.groups[0].sessions_held > 0
        dense = [self.ties.dense(g.members) for g in self.groups]
        degree = self.ties.degrees()
        clustering = self._clustering_sample(degree)
        friends = self.friends
        self.record = {
            "week": week.number,
            "phase": week.phase,
            "session": held[-1].number if held else 0,
            "stage": held[-1].stage if held else "",
            "climate": self.climate,
            "group_density": float(np.mean([_density(t) for t in dense])),
            "group_cohesion": float(np.mean([_cohesion(t) for t in dense])),
            "group_isolates": int(sum(_isolates(t) for t in dense)),
            "group_clustering": float(np.mean([_clustering(t) for t in dense])),
            "clients_disclosed_share": self._disclosed_share(cl) if started else 0.0,
            "campus_density": 2.0 * len(self.ties) / (self.n * (self.n - 1)),
            "campus_ties": len(self.ties),
            "campus_clustering": float(clustering[1].mean()) if len(clustering[1]) else 0.0,
            "clients_social_interaction": float(self.social_interaction[cl].mean()),
            "clients_anxiety": float(s.anxiety[cl].mean()),
            "clients_skill": float(s.skill[cl].mean()),
            "clients_attitude": float(s.attitude[cl].mean()),
            "clients_resolve": float(s.resolve[cl].mean()),
            "clients_rapport": float(s.rapport[cl].mean()),
            "clients_openness": float(s.openness[cl].mean()),
            "clients_disclosure": float(s.disclosure[cl].mean()),
            "clients_contact_rate": float(s.contact_rate[cl].mean()),
            "others_social_interaction": _mean(self.social_interaction[others]),
            "friends": len(friends),
            "friends_social_interaction": _mean(self.social_interaction[friends]),
            "friends_ties": _mean(degree[friends]),
            "friends_contact_rate": _mean(s.contact_rate[friends]),
        }
        self.datacollector.collect(self)
        self.faculty_rows.append(self._faculty_snapshot(week.number, degree, clustering))
        if self.record_students:
            self.student_frames.append(self._student_snapshot(week.number, degree))
        if self.record_ties:
            self.tie_frames.append(
                {
                    "week": np.full(len(self.ties), week.number, dtype=np.int64),
                    "source": self.ties.sources,
                    "target": self.ties.targets,
                    "strength": self.ties.strength.copy(),
                }
            )

    def _clustering_sample(self, degree: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local clustering of a systematic sample of students (all of a small cohort)."""
        from scipy import sparse

        step = -(-self.n // CLUSTERING_SAMPLE)  # ceil: at most CLUSTERING_SAMPLE students
        sample = np.arange(0, self.n, step)
        indptr, cols, _, _ = self.ties.csr()
        adjacency = sparse.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(self.n, self.n))
        rows = adjacency[sample]
        triangles = np.asarray((rows @ adjacency).multiply(rows).sum(axis=1)).ravel() / 2.0
        d = degree[sample].astype(float)
        possible = d * (d - 1) / 2.0
        local = np.divide(triangles, possible, out=np.zeros_like(triangles), where=possible > 0)
        return sample, local

    def _faculty_snapshot(
        self, week: int, degree: np.ndarray, clustering: tuple[np.ndarray, np.ndarray]
    ) -> dict[str, np.ndarray]:
        s = self.states
        faculties = self.config.cohort.faculties
        fac = s.faculty
        src, dst = self.ties.sources, self.ties.targets
        inside = fac[src] == fac[dst]
        ties_inside = np.bincount(fac[src][inside], minlength=faculties)
        size = np.bincount(fac, minlength=faculties)
        pairs = size * (size - 1) / 2.0
        is_friend = np.zeros(self.n, dtype=bool)
        is_friend[self.friends] = True
        sample, local = clustering

        def mean_by(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
            total = np.bincount(fac[mask], values[mask], minlength=faculties)
            count = np.bincount(fac[mask], minlength=faculties)
            return np.divide(total, count, out=np.full(faculties, np.nan), where=count > 0)

        clustering_sum = np.bincount(fac[sample], local, minlength=faculties)
        clustering_n = np.bincount(fac[sample], minlength=faculties)
        return {
            "week": np.full(faculties, week, dtype=np.int64),
            "faculty": np.arange(faculties, dtype=np.int64),
            "faculty_name": np.array(self.faculty_names, dtype=object),
            "students": size.astype(np.int64),
            "clients": np.bincount(fac[s.client], minlength=faculties).astype(np.int64),
            "density": np.divide(ties_inside, pairs, out=np.zeros(faculties), where=pairs > 0),
            "clustering": np.divide(
                clustering_sum,
                clustering_n,
                out=np.zeros(faculties),
                where=clustering_n > 0,
            ),
            "mean_degree": mean_by(np.ones(self.n, dtype=bool), degree.astype(float)),
            "social_interaction": mean_by(np.ones(self.n, dtype=bool), self.social_interaction),
            "clients_social_interaction": mean_by(s.client, self.social_interaction),
            "friends_social_interaction": mean_by(is_friend, self.social_interaction),
        }

    def _student_snapshot(self, week: int, degree: np.ndarray) -> dict[str, np.ndarray]:
        s = self.states
        return {
            "week": np.full(self.n, week, dtype=np.int64),
            "student_id": np.arange(self.n, dtype=np.int64),
            "faculty": s.faculty.astype(np.int64),
            "client": s.client.copy(),
            "group": self.group_of.copy(),
            "sociability": s.sociability.copy(),
            "openness": s.openness.copy(),
            "anxiety": s.anxiety.copy(),
            "skill": s.skill.copy(),
            "attitude": s.attitude.copy(),
            "resolve": s.resolve.copy(),
            "rapport": s.rapport.copy(),
            "disclosure": s.disclosure.copy(),
            "contact_rate": s.contact_rate.copy(),
            "degree": degree.astype(np.int64),
            "tie_strength_sum": self.strength_sum.copy(),
            "social_interaction": self.social_interaction.copy(),
        }


# ---------------------------------------------------------------------- helpers


def initial_ties(
    faculty: np.ndarray,
    faculty_start: np.ndarray,
    faculty_size: int,
    mean_ties: float,
    in_faculty_share: float,
    rng: np.random.Generator,
) -> TieStore:
    """Random starting friendships: mostly inside faculties (homophily), some across.

    Each student starts Poisson(mean_ties / 2) ties (so the mean degree is about
    `mean_ties`); a partner is a faculty mate with probability `in_faculty_share`, otherwise
    anyone. Strengths are uniform in [0.15, 0.6]: acquaintances to friends, no close ties yet.
    """
    n = len(faculty)
    ties = TieStore(n)
    starts = rng.poisson(mean_ties / 2.0, size=n)
    a = np.repeat(np.arange(n), starts)
    inside = rng.random(len(a)) < in_faculty_share
    b = np.where(
        inside,
        faculty_start[faculty[a]] + rng.integers(0, faculty_size, size=len(a)),
        rng.integers(0, n, size=len(a)),
    )
    strength = rng.uniform(0.15, 0.6, size=len(a))
    keep = a != b
    a, b, strength = a[keep], b[keep], strength[keep]
    _, first = np.unique(ties.pair_keys(a, b), return_index=True)  # one tie per pair
    ties.set(a[first], b[first], strength[first])
    return ties


def select_groups(
    order: np.ndarray,
    faculty: np.ndarray,
    faculties: int,
    groups: int,
    size: int,
    selection: str,
    screened_share: float,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Members of each group, from students ordered least active first (ODD 5, Screening)."""
    if selection == "lowest":
        chosen = order[: groups * size]
        return [chosen[g::groups] for g in range(groups)]  # deal ranks out like cards
    if selection == "random_screened":
        pool = order[: int(np.floor(screened_share * len(order)))]
        chosen = rng.choice(pool, size=groups * size, replace=False)
        return [chosen[g * size : (g + 1) * size] for g in range(groups)]
    queues = [list(order[faculty[order] == f]) for f in range(faculties)]
    taken = [0] * faculties
    result = []
    if selection == "within_faculty":
        for g in range(groups):
            f = g % faculties
            result.append(np.array(queues[f][taken[f] : taken[f] + size]))
            taken[f] += size
        return result
    for _ in range(groups):  # across_faculties: spread evenly, the extra seats at random
        left = np.array([len(q) for q in queues]) - np.array(taken)
        per = np.minimum(np.full(faculties, size // faculties), left)
        room = np.flatnonzero(left > per)
        extra = min(size - int(per.sum()), len(room))
        if len(room) == faculties:
            per[rng.choice(faculties, size=extra, replace=False)] += 1
        elif extra:
            per[rng.choice(room, size=extra, replace=False)] += 1
        members: list[int] = []
        for f in range(faculties):
            members.extend(queues[f][taken[f] : taken[f] + per[f]])
            taken[f] += per[f]
        # Faculties that ran out leave seats: fill them with the least active students left
        # (taken off their faculty's queue, behind the part already handed out).
        while len(members) < size:
            rest = [(q[taken[f]], f) for f, q in enumerate(queues) if taken[f] < len(q)]
            rank = {int(student): i for i, student in enumerate(order)}
            student, f = min(rest, key=lambda pair: rank[int(pair[0])])
            members.append(student)
            taken[f] += 1
        result.append(np.array(members))
    return result


def _pairs(k: int) -> float:
    return k * (k - 1) / 2.0


def _density(tie: np.ndarray) -> float:
    pairs = _pairs(len(tie))
    return float((tie > 0).sum() / 2.0 / pairs) if pairs else 0.0


def _cohesion(tie: np.ndarray) -> float:
    pairs = _pairs(len(tie))
    return float(tie.sum() / 2.0 / pairs) if pairs else 0.0


def _isolates(tie: np.ndarray) -> int:
    return int(((tie > 0).sum(axis=1) == 0).sum())


def _clustering(tie: np.ndarray) -> float:
    """Average local clustering of a small network (as networkx.average_clustering)."""
    if len(tie) < 3:
        return 0.0
    adjacency = (tie > 0).astype(float)
    triangles = np.diag(adjacency @ adjacency @ adjacency) / 2.0
    d = adjacency.sum(axis=1)
    possible = d * (d - 1) / 2.0
    local = np.divide(triangles, possible, out=np.zeros_like(triangles), where=possible > 0)
    return float(local.mean())


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


#: The weekly table's columns, in order (see groupsim.runs.outputs for their meanings).
WEEKLY_REPORTERS = (
    "week",
    "phase",
    "session",
    "stage",
    "climate",
    "group_density",
    "group_cohesion",
    "group_isolates",
    "group_clustering",
    "clients_disclosed_share",
    "campus_density",
    "campus_ties",
    "campus_clustering",
    "clients_social_interaction",
    "clients_anxiety",
    "clients_skill",
    "clients_attitude",
    "clients_resolve",
    "clients_rapport",
    "clients_openness",
    "clients_disclosure",
    "clients_contact_rate",
    "others_social_interaction",
    "friends",
    "friends_social_interaction",
    "friends_ties",
    "friends_contact_rate",
)


def _reporter(name: str):
    def report(model: HomeRoomModel) -> Any:
        return model.record[name]

    report.__name__ = f"report_{name}"
    return report
