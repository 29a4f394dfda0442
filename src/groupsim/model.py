"""HomeRoomModel: a cohort of students, a counseling group and its counselor, week by week.

`step` is one week and reads like the ODD's process overview (docs/ODD.md, section 3):
group sessions, campus life, decay, measurement, recording.

Example:
    >>> from groupsim import HomeRoomModel
    >>> model = HomeRoomModel(rng=1, counselor_warmth=0.9, cohort_students_per_faculty=5)
    >>> while model.running:
    ...     model.step()
    >>> model.week == model.calendar.last_week
    True
"""

from __future__ import annotations

from typing import Any

import mesa
import networkx as nx
import numpy as np

from groupsim import mechanisms as mech
from groupsim import network as net
from groupsim.agents import TRAIT_BASELINES, Counselor, Student, StudentStates, draw_students
from groupsim.measures import QUESTIONNAIRE, social_interaction_score, update_contact_rate
from groupsim.scenario import (
    Scenario,
    ScenarioError,
    dotted_path,
    scenario_from_dict,
)
from groupsim.schedule import Calendar, Session, Week

__all__ = ["HomeRoomModel", "DEFAULT_FACULTY_NAMES", "scenario_from_flat"]

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


class HomeRoomModel(mesa.Model):
    """A home-room (or standard, or no) counseling group inside a university cohort.

    Args:
        rng: seed or numpy Generator (Mesa's convention); the same seed gives the same run.
        config: a validated :class:`~groupsim.scenario.Scenario`; when omitted the flat
            keyword parameters (and defaults) are used.
        record_students: keep a row per student per week (`students_frame`).
        record_ties: keep the edge list every week (`ties_frame`).
        **params: flat parameters, the dotted path with `_` for its first dot
            (`counselor.warmth` -> `counselor_warmth`, `group.clients` -> `group_clients`).
    """

    def __init__(
        self,
        rng: Any = None,
        config: Scenario | None = None,
        record_students: bool = True,
        record_ties: bool = True,
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
        c = self.config
        # Separate random streams, spawned from the run's seed: the population (traits,
        # starting network, burn-in, screening) is identical across scenarios that share a
        # cohort, and group sessions draw from their own stream so campus life in two arms
        # uses the same numbers as long as their states agree (common random numbers).
        self.population_rng, self.campus_rng, self.group_rng, self.measurement_rng = (
            self.rng.spawn(4)
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
        self._update_resolve()
        self.network: nx.Graph = net.initial_network(
            self.states.faculty,
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
        self.counselor = Counselor(
            self, c.counselor.technique, c.counselor.warmth, c.counselor.facilitation
        )
        self._faculty_members = {
            f: np.flatnonzero(self.states.faculty == f) for f in range(c.cohort.faculties)
        }
        self._used_ties: set[tuple[int, int]] = set()
        self.social_interaction = np.zeros(self.n)
        self.measure_week()

        # Burn-in: campus life alone until the network settles; not recorded.
        for _ in range(c.cohort.burn_in_weeks):
            self.run_campus_week()
            self.decay_week()
            self.measure_week()
        self.burn_in_done = True

        self.questionnaire: dict[str, np.ndarray] = {}
        self.clients = self.screen_clients()
        self.setting = mech.climate_setting(
            c.counselor.technique,
            c.counselor.warmth,
            c.climate.home_room_setting,
            c.climate.standard_setting,
        )
        # Before the first session the room already carries the counselor's setting; the
        # cohesion part of the target is still zero (the members are strangers).
        self.climate = mech.climate_target(self.setting, 0.0, c.climate.setting_weight)
        self.session_rows: list[dict[str, Any]] = []
        self.student_frames: list[Any] = []
        self.tie_frames: list[Any] = []
        self._last_session: Session | None = None
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
            self.run_group_session(session)
        self.run_campus_week()
        self.decay_week()
        self.measure_week()
        self.record_week(week)
        if self.week >= self.calendar.last_week:
            self.running = False

    # ------------------------------------------------------------------ screening (ODD 5)

    def screen_clients(self) -> np.ndarray:
        """Choose the group: the least socially active students on a screening questionnaire.

        With `group.screening = "pretest"` the screening questionnaire is the pre-test itself.
        """
        c = self.config
        screening = QUESTIONNAIRE.totals(self.social_interaction, self.measurement_rng)
        order = np.lexsort((np.arange(self.n), screening))  # lowest first, ties by id
        if c.group.selection == "lowest":
            chosen = order[: c.group.clients]
        else:
            faculties = c.cohort.faculties
            per = np.full(faculties, c.group.clients // faculties)
            extra = self.population_rng.choice(
                faculties, size=c.group.clients % faculties, replace=False
            )
            per[extra] += 1
            chosen_list: list[int] = []
            for f in range(faculties):
                in_faculty = [i for i in order if self.states.faculty[i] == f]
                chosen_list.extend(in_faculty[: per[f]])
            chosen = np.array(chosen_list)
        clients = np.sort(chosen.astype(int))
        self.states.client[clients] = True
        self.questionnaire["screening"] = screening[clients].astype(float)
        if c.group.screening == "pretest":
            self.questionnaire["pre"] = self.questionnaire["screening"]
        return clients

    # ------------------------------------------------------------------ group sessions (ODD 7.1-7.6)

    def run_group_session(self, session: Session) -> None:
        """One session: climate, rapport, exchange rounds, psychoeducation (ODD 3, step 1)."""
        c = self.config
        s = self.states
        members = self.clients
        rng = self.group_rng
        cohesion = net.group_cohesion(self.network, list(members))
        target = mech.climate_target(self.setting, cohesion, c.climate.setting_weight)
        self.climate = mech.update_climate(self.climate, target, c.climate.rate)
        s.rapport[members] = mech.grow_rapport(
            s.rapport[members], self.counselor.warmth, self.climate, c.rapport.rate
        )
        depth_cap = getattr(c.disclosure, f"{session.stage}_depth")
        engaged_total = 0
        depths: list[float] = []
        for _ in range(c.group.rounds_per_session):
            probability = mech.engagement_probability(
                s.sociability[members],
                s.resolve[members],
                s.anxiety[members],
                self.climate,
                c.engagement.intercept,
                c.engagement.sociability,
                c.engagement.resolve,
                c.engagement.inhibition,
            )
            probability = mech.facilitate(probability, self.counselor.facilitation)
            engaged = members[rng.random(len(members)) < probability]
            engaged_total += len(engaged)
            for speaker in rng.permutation(engaged):
                others = members[members != speaker]
                ties = np.array([net.tie_strength(self.network, speaker, o) for o in others])
                weights = mech.partner_weights(ties, c.group.partner_base_weight)
                partner = int(others[np.searchsorted(np.cumsum(weights), rng.random())])
                depths.extend(
                    self.exchange(int(speaker), partner, self.climate, rng, depth_cap=depth_cap)
                )
        if session.stage == "working":
            s.attitude[members] = mech.psychoeducation(
                s.attitude[members],
                s.rapport[members],
                c.attitude.psychoeducation_rate,
                c.attitude.counselor_view,
            )
        self._update_resolve()
        member_list = list(members)
        self.session_rows.append(
            {
                "session": session.number,
                "week": session.week,
                "stage": session.stage,
                "climate": self.climate,
                "engagement": engaged_total / (len(members) * c.group.rounds_per_session),
                "disclosure_depth": float(np.mean(depths)) if depths else 0.0,
                "group_density": net.group_density(self.network, member_list),
                "group_cohesion": net.group_cohesion(self.network, member_list),
                "clients_disclosed_share": self._disclosed_share(),
            }
        )
        self._last_session = session

    # ------------------------------------------------------------------ one exchange (ODD 7.4-7.6)

    def exchange(
        self,
        a: int,
        b: int,
        climate: float,
        rng: np.random.Generator,
        depth_cap: float | None = None,
    ) -> list[float]:
        """An exchange between students a and b; in the group when `depth_cap` is given.

        Returns the depths disclosed (group only) so sessions can report them.
        """
        c = self.config
        x = c.exchange
        s = self.states
        in_group = depth_cap is not None
        learning = 1.0 if in_group else x.campus_learning
        tie = net.tie_strength(self.network, a, b)
        p_success = mech.exchange_success_probability(
            s.skill[a], s.skill[b], climate, tie, x.intercept, x.skill, x.climate, x.tie
        )
        if rng.random() >= p_success:
            for i in (a, b):
                s.anxiety[i] = mech.sting_anxiety(s.anxiety[i], x.anxiety_sting * learning, climate)
            return []
        gain = x.tie_gain
        depths: list[float] = []
        if in_group:
            # Self-disclosure met well: deeper ties, more openness (social penetration).
            d = c.disclosure
            for i in (a, b):
                depth = float(
                    mech.disclosure_depth(
                        s.openness[i],
                        s.rapport[i],
                        climate,
                        depth_cap,
                        d.openness_weight,
                        d.rapport_weight,
                        d.climate_weight,
                    )
                )
                s.disclosure[i] = max(s.disclosure[i], depth)
                s.openness[i] = mech.open_up(s.openness[i], depth, d.openness_gain)
                depths.append(depth)
            gain += d.tie_bonus * 0.5 * (depths[0] + depths[1])
        net.set_tie_strength(self.network, a, b, float(mech.strengthen_tie(tie, gain)))
        self._used_ties.add((a, b) if a < b else (b, a))
        for i in (a, b):
            s.anxiety[i] = mech.relieve_anxiety(s.anxiety[i], x.anxiety_relief * learning, climate)
            s.skill[i] = mech.practice_skill(s.skill[i], x.skill_gain * learning)
        epsilon = mech.confidence_bound(
            climate, c.attitude.confidence_bound, c.attitude.confidence_climate
        )
        s.attitude[a], s.attitude[b] = mech.bounded_confidence(
            s.attitude[a], s.attitude[b], epsilon, c.attitude.convergence
        )
        if not in_group:
            # Contact frequency is everyday campus contact: what a questionnaire asks about,
            # and where a gain made in the group has to show.
            s.contacts_this_week[a] += 1
            s.contacts_this_week[b] += 1
        return depths

    # ------------------------------------------------------------------ campus life (ODD 7.8)

    def run_campus_week(self) -> None:
        """Everyone's contact opportunities this week: friends, friends of friends, faculty
        mates, anyone (ODD 3, step 2)."""
        c = self.config
        s = self.states
        rng = self.campus_rng
        climate = c.climate.campus
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
        # Everyone's opportunities in a random order, so no student always goes first.
        seekers = np.repeat(np.arange(self.n), opportunities)
        seekers = seekers[rng.permutation(len(seekers))]
        taken = seekers[rng.random(len(seekers)) < probability[seekers]]
        channels = rng.choice(len(CAMPUS_CHANNELS), size=len(taken), p=shares)
        for student, channel in zip(taken, channels, strict=True):
            partner = net.pick_campus_partner(
                self.network,
                int(student),
                CAMPUS_CHANNELS[channel],
                self._faculty_members[s.faculty[student]],
                self.n,
                rng,
            )
            if partner is not None:
                self.exchange(int(student), partner, climate, rng)
        self._update_resolve()

    # ------------------------------------------------------------------ decay (ODD 7.9)

    def decay_week(self) -> None:
        """Unused ties weaken and may drop; states drift toward baselines (ODD 3, step 3)."""
        c = self.config
        net.decay_unused_ties(self.network, self._used_ties, c.decay.tie_decay, c.decay.tie_floor)
        self._used_ties.clear()
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
        self.social_interaction = social_interaction_score(
            s.contact_rate,
            net.strength_sums(self.network, self.n),
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

    def _disclosed_share(self) -> float:
        threshold = self.config.disclosure.personal_threshold
        return float(np.mean(self.states.disclosure[self.clients] >= threshold))

    # ------------------------------------------------------------------ recording (ODD 7.10)

    def record_week(self, week: Week) -> None:
        """Record this week's metrics (Mesa DataCollector), and student and tie snapshots."""
        s = self.states
        members = list(self.clients)
        cl = self.clients
        others = ~s.client
        held = week.sessions
        has_group = self.counselor.technique != "none"
        started = has_group and self._last_session is not None
        self.record = {
            "week": week.number,
            "phase": week.phase,
            "session": held[-1].number if held else 0,
            "stage": held[-1].stage if held else "",
            "climate": self.climate if has_group else float("nan"),
            "group_density": net.group_density(self.network, members),
            "group_cohesion": net.group_cohesion(self.network, members),
            "group_isolates": net.group_isolates(self.network, members),
            "group_clustering": net.group_clustering(self.network, members),
            "clients_disclosed_share": self._disclosed_share() if started else 0.0,
            "campus_density": nx.density(self.network),
            "campus_ties": self.network.number_of_edges(),
            "clients_social_interaction": float(self.social_interaction[cl].mean()),
            "clients_anxiety": float(s.anxiety[cl].mean()),
            "clients_skill": float(s.skill[cl].mean()),
            "clients_attitude": float(s.attitude[cl].mean()),
            "clients_resolve": float(s.resolve[cl].mean()),
            "clients_rapport": float(s.rapport[cl].mean()),
            "clients_openness": float(s.openness[cl].mean()),
            "clients_disclosure": float(s.disclosure[cl].mean()),
            "clients_contact_rate": float(s.contact_rate[cl].mean()),
            "others_social_interaction": float(self.social_interaction[others].mean())
            if others.any()
            else float("nan"),
        }
        self.datacollector.collect(self)
        if self.record_students:
            self.student_frames.append(self._student_snapshot(week.number))
        if self.record_ties:
            self.tie_frames.append(net.edge_table(self.network, week.number))

    def _student_snapshot(self, week: int) -> dict[str, np.ndarray]:
        s = self.states
        degree = np.zeros(self.n, dtype=np.int64)
        for node, d in self.network.degree():
            degree[node] = d
        return {
            "week": np.full(self.n, week, dtype=np.int64),
            "student_id": np.arange(self.n, dtype=np.int64),
            "faculty": s.faculty.astype(np.int64),
            "client": s.client.copy(),
            "sociability": s.sociability.copy(),
            "openness": s.openness.copy(),
            "anxiety": s.anxiety.copy(),
            "skill": s.skill.copy(),
            "attitude": s.attitude.copy(),
            "resolve": s.resolve.copy(),
            "rapport": s.rapport.copy(),
            "disclosure": s.disclosure.copy(),
            "contact_rate": s.contact_rate.copy(),
            "degree": degree,
            "tie_strength_sum": net.strength_sums(self.network, self.n),
            "social_interaction": self.social_interaction.copy(),
        }


#: The weekly table's columns, in order (see groupsim.outputs for their meanings).
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
)


def _reporter(name: str):
    def report(model: HomeRoomModel) -> Any:
        return model.record[name]

    report.__name__ = f"report_{name}"
    return report
