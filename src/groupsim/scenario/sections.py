"""The scenario's sections: every parameter with its default, range, unit and meaning (ODD 6).

One pydantic model per TOML table (`[cohort]`, `[group]`, `[counselor]`, `[technique]`,
`[program]`, one per mechanism); :class:`~groupsim.scenario.schema.Scenario` holds them all.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

__all__ = [
    "PRACTICES",
    "Attendance",
    "Attitude",
    "Campus",
    "Climate",
    "Cohort",
    "Counselor",
    "Decay",
    "Disclosure",
    "Engagement",
    "Exchange",
    "Group",
    "Measurement",
    "Program",
    "Rapport",
    "Resolve",
    "Technique",
    "Tension",
]


def _p(default: Any, lo: float | None, hi: float | None, unit: str, meaning: str, **kw: Any):
    """A parameter with its default, closed range [lo, hi], unit and meaning."""
    extra: JsonDict = {"unit": unit}
    return Field(default, ge=lo, le=hi, description=meaning, json_schema_extra=extra, **kw)


Share = Annotated[float, Field(ge=0.0, le=1.0)]


def _require_sum_of_one(section: BaseModel, fields: tuple[str, ...]) -> None:
    """Weights of a weighted mean must sum to 1."""
    total = sum(getattr(section, name) for name in fields)
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ValueError(f"{' + '.join(fields)} must sum to 1 (got {total:g})")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)


class Cohort(_Section):
    """The students of one university cohort, from which clients are screened."""

    faculties: int = _p(9, 1, 200, "faculties", "number of faculties (the seed: 9)")
    students_per_faculty: int = _p(20, 2, 10_000, "students", "students in each faculty")
    burn_in_weeks: int = _p(
        20, 0, 520, "weeks", "campus weeks simulated before screening so the network settles"
    )
    initial_ties: float = _p(
        8.0, 0.0, 50.0, "ties per student", "mean number of friendship ties a student starts with"
    )
    initial_ties_in_faculty: float = _p(
        0.8, 0.0, 1.0, "share", "share of the starting ties that lie inside the student's faculty"
    )
    sociability_mean: float = _p(0.5, 0.01, 0.99, "0-1", "cohort mean of sociability (trait)")
    openness_mean: float = _p(0.45, 0.01, 0.99, "0-1", "cohort mean of openness (baseline)")
    anxiety_mean: float = _p(0.4, 0.01, 0.99, "0-1", "cohort mean of social anxiety (baseline)")
    skill_mean: float = _p(0.5, 0.01, 0.99, "0-1", "cohort mean of communication skill")
    attitude_mean: float = _p(
        0.5, 0.01, 0.99, "0-1", "cohort mean view of the value of social interaction"
    )
    trait_concentration: float = _p(
        8.0,
        2.0,
        1000.0,
        "beta a+b",
        "concentration of the Beta trait distributions (higher: less spread)",
    )
    responsiveness_sd: float = _p(
        0.8,
        0.0,
        3.0,
        "log-SD",
        "spread of how much students learn from good exchanges (log-normal, mean 1; 0: alike)",
    )
    sensitivity_sd: float = _p(
        1.3,
        0.0,
        3.0,
        "log-SD",
        "spread of how much failed exchanges hurt students (log-normal, mean 1; 0: alike)",
    )
    faculty_names: list[str] = Field(
        default_factory=list,
        description="faculty labels shown in outputs and the UI (empty: built-in names)",
        json_schema_extra={"unit": "names"},
    )
    data: str = Field(
        "",
        description=(
            "a cohort file from `groupsim cohort import` (path relative to the scenario file): "
            "its students, scores and friendships replace the drawn cohort, and its faculties "
            "set faculties, students_per_faculty and faculty_names (empty: draw the cohort)"
        ),
        json_schema_extra={"unit": "path"},
    )


class Group(_Section):
    """The counseling group: who is in it and how a session is organised."""

    clients: int = _p(9, 2, 100, "students", "group size: clients in each group")
    selection: Literal["across_faculties", "within_faculty", "lowest", "random_screened"] = Field(
        "across_faculties",
        description=(
            "how each group's clients are chosen among the least active students: "
            "'across_faculties' spread evenly over faculties (one per faculty when clients <= "
            "faculties, so they start as strangers); 'within_faculty' all from one faculty "
            "(faculties take groups in turn); 'lowest' the least active of the whole cohort; "
            "'random_screened' at random among the screened (the lowest screened_share)"
        ),
        json_schema_extra={"unit": "choice"},
    )
    screened_share: float = _p(
        0.2,
        0.001,
        1.0,
        "share",
        "share of the cohort screened as lacking interaction "
        "('random_screened' draws clients from it)",
    )
    screening: Literal["separate", "pretest"] = Field(
        "separate",
        description=(
            "what screening uses: 'separate' an earlier screening questionnaire, followed by a "
            "pre-test after the baseline weeks; 'pretest' the pre-test itself (regression to the "
            "mean then inflates the gain)"
        ),
        json_schema_extra={"unit": "choice"},
    )
    client_ids: list[str] = Field(
        default_factory=list,
        description=(
            "the clients by id (pseudonyms of a cohort file; needs cohort.data): exactly "
            "groups x clients ids, dealt to the groups in order; empty: screening chooses"
        ),
        json_schema_extra={"unit": "ids"},
    )
    turn_minutes: float = _p(
        2.5,
        0.1,
        60.0,
        "minutes",
        "time one exchange (a turn of talk and its answer) takes in a session",
    )
    partner_base_weight: float = _p(
        0.3, 0.001, 10.0, "weight", "weight of a stranger as partner (tie strength adds to it)"
    )


class Counselor(_Section):
    """The counselor who leads the group."""

    technique: Literal["home_room", "standard", "none"] = Field(
        "home_room",
        description=(
            "the technique's preset of practices (`[technique]` overrides single practices): "
            "'home_room', 'standard' (a formal group) or 'none' (no group)"
        ),
        json_schema_extra={"unit": "choice"},
    )
    warmth: float = _p(0.85, 0.0, 1.0, "0-1", "counselor's warmth (acceptance, empathy)")
    facilitation: float = _p(
        0.6, 0.0, 1.0, "0-1", "counselor's skill at drawing quiet members in (turn-taking)"
    )
    warmth_sd: float = _p(
        0.5,
        0.0,
        5.0,
        "logit-SD",
        "spread of warmth between counselors (logit-normal around `warmth`; 0: all alike)",
    )
    facilitation_sd: float = _p(
        0.6,
        0.0,
        5.0,
        "logit-SD",
        "spread of facilitation between counselors (logit-normal; 0: all alike)",
    )


#: The practices that make up a technique (ODD 7.1-7.5), each in [0, 1] (0: not used).
PRACTICES = ("home_setting", "family_tone", "informality", "ice_breakers", "turn_taking")


class Technique(_Section):
    """A technique as a bundle of practices; unset ones come from the `counselor.technique` preset.

    The home room technique (Pietrofesa et al., in Romlah 2006: 123; Nursalim 2002) meets
    outside lesson hours in a room arranged like a home (carpet, flowers, snacks), with the
    counselor as a parent or elder sibling, and opens with introductions and ice-breaking.
    """

    name: str | None = Field(
        None,
        description="a label for a custom technique (default: the preset's name)",
        json_schema_extra={"unit": "text"},
    )
    group: bool | None = Field(
        None,
        description="whether the technique holds group sessions at all (default: the preset's)",
        json_schema_extra={"unit": "bool"},
    )
    home_setting: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="a home-like room: carpet seating, flowers, snacks (acts on the setting)",
        json_schema_extra={"unit": "0-1"},
    )
    family_tone: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="the counselor as a parent or elder sibling (acts on rapport growth)",
        json_schema_extra={"unit": "0-1"},
    )
    informality: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="relaxed meetings outside lesson hours (acts on inhibition by anxiety)",
        json_schema_extra={"unit": "0-1"},
    )
    ice_breakers: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="introductions and ice-breaking games when forming (forming-stage depth)",
        json_schema_extra={"unit": "0-1"},
    )
    turn_taking: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="structured turn-taking by the counselor (acts on facilitation)",
        json_schema_extra={"unit": "0-1"},
    )


class Program(_Section):
    """The calendar: baseline, program and follow-up weeks."""

    groups: int = _p(1, 1, 10_000, "groups", "counseling groups run at once, a counselor each")
    sessions: int = _p(8, 1, 100, "sessions", "number of group sessions")
    sessions_per_week: int = _p(2, 1, 7, "sessions/week", "most sessions held in one week")
    session_minutes: float = _p(
        45.0, 5.0, 600.0, "minutes", "length of one group session (turns share this time)"
    )
    weeks: int | None = Field(
        None,
        ge=1,
        le=520,
        description="program length (omit: as few weeks as the sessions need)",
        json_schema_extra={"unit": "weeks"},
    )
    baseline_weeks: int = _p(2, 0, 520, "weeks", "recorded weeks between screening and program")
    followup_weeks: int = _p(8, 0, 520, "weeks", "recorded weeks after the program")
    transition_share: float = _p(
        0.4, 0.0, 1.0, "share", "share of the middle sessions in the transition stage"
    )


class Climate(_Section):
    """Psychological safety of the group (ODD 7.1)."""

    rate: float = _p(0.3, 0.0, 1.0, "per session", "speed at which climate moves to its target")
    setting_weight: float = _p(
        0.75, 0.0, 1.0, "share", "weight of the counselor's setting in the target (rest: cohesion)"
    )
    formal_setting: float = _p(
        0.6,
        0.0,
        1.0,
        "0-1",
        "setting of a formal room per unit of warmth (a home-like room raises it toward 1)",
    )
    tension_weight: float = _p(
        0.5, 0.0, 1.0, "0-1", "how far the group's tension lowers the climate's target"
    )
    campus: float = _p(0.35, 0.0, 1.0, "0-1", "climate of everyday campus encounters")


class Rapport(_Section):
    """Trust of each client in the counselor (ODD 7.2)."""

    rate: float = _p(0.5, 0.0, 1.0, "per session", "growth of rapport per unit of warmth x climate")
    anxiety_inhibition: float = _p(
        0.6, 0.0, 1.0, "share", "how much a client's anxiety slows their trust in the counselor"
    )
    family_tone_boost: float = _p(
        1.0, 0.0, 10.0, "x rate", "extra rapport growth with a family-like tone (practice)"
    )


class Engagement(_Section):
    """Who takes part in a round (ODD 7.3); logistic weights."""

    intercept: float = _p(-1.0, -20.0, 20.0, "logit", "baseline log-odds of taking part")
    sociability: float = _p(2.0, 0.0, 20.0, "logit", "effect of sociability")
    resolve: float = _p(2.0, 0.0, 20.0, "logit", "effect of resolve (intention to interact)")
    inhibition: float = _p(4.0, 0.0, 20.0, "logit", "inhibition by anxiety x (1 - climate)")
    informality_relief: float = _p(
        0.4, 0.0, 1.0, "share", "share of the inhibition an informal setting removes (practice)"
    )
    turn_taking_share: float = _p(
        0.5,
        0.0,
        1.0,
        "share",
        "share of the counselor's facilitation that needs structured turn-taking (practice)",
    )


class Exchange(_Section):
    """One conversation between two students (ODD 7.4)."""

    intercept: float = _p(-2.5, -20.0, 20.0, "logit", "baseline log-odds of a good exchange")
    skill: float = _p(3.0, 0.0, 20.0, "logit", "effect of the pair's mean skill")
    climate: float = _p(3.0, 0.0, 20.0, "logit", "effect of the climate")
    tie: float = _p(2.0, 0.0, 20.0, "logit", "effect of the existing tie strength")
    tie_gain: float = _p(0.25, 0.0, 1.0, "share", "tie growth after a good exchange in the group")
    anxiety_relief: float = _p(
        0.1, 0.0, 1.0, "share", "share of anxiety lost after a good exchange in the group"
    )
    anxiety_sting: float = _p(
        0.4, 0.0, 1.0, "share", "anxiety gained after a failed exchange, scaled by 1 - climate"
    )
    skill_gain: float = _p(0.045, 0.0, 1.0, "share", "skill gained by practice in a good exchange")
    campus_learning: float = _p(
        0.02, 0.0, 1.0, "share", "learning rates on campus relative to the group"
    )
    tie_loss: float = _p(
        0.15, 0.0, 1.0, "share", "share of a tie lost after a failed exchange, x (1 - climate)"
    )
    disillusion: float = _p(
        0.3,
        0.0,
        1.0,
        "share",
        "share of attitude lost after a failed exchange in the group, x sensitivity x "
        "(1 - climate)",
    )
    novelty: float = _p(
        0.9,
        0.0,
        1.0,
        "share",
        "how much less a student learns from a partner already close (x tie strength)",
    )


class Disclosure(_Section):
    """Self-disclosure in the group (ODD 7.5; social penetration theory)."""

    forming_depth: float = _p(0.25, 0.0, 1.0, "0-1", "deepest disclosure in the forming stage")
    transition_depth: float = _p(0.5, 0.0, 1.0, "0-1", "deepest disclosure in the transition")
    working_depth: float = _p(1.0, 0.0, 1.0, "0-1", "deepest disclosure in the working stage")
    termination_depth: float = _p(0.7, 0.0, 1.0, "0-1", "deepest disclosure in termination")
    openness_weight: float = _p(0.4, 0.0, 1.0, "share", "weight of openness in the depth")
    rapport_weight: float = _p(0.3, 0.0, 1.0, "share", "weight of rapport in the depth")
    climate_weight: float = _p(0.3, 0.0, 1.0, "share", "weight of climate in the depth")
    personal_threshold: float = _p(
        0.4, 0.0, 1.0, "0-1", "depth at which a student counts as having opened up"
    )
    tie_bonus: float = _p(0.15, 0.0, 1.0, "share", "extra tie growth per unit of depth disclosed")
    openness_gain: float = _p(
        0.1, 0.0, 1.0, "share", "openness growth per unit of depth met well (reciprocity)"
    )
    ice_breaker_depth: float = _p(
        0.25, 0.0, 1.0, "0-1", "extra forming-stage depth that ice-breakers allow (practice)"
    )
    withdrawal: float = _p(
        0.2,
        0.0,
        1.0,
        "share",
        "share of disclosure and openness withdrawn after a bad response, x (1 - climate)",
    )

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Disclosure:
        _require_sum_of_one(self, ("openness_weight", "rapport_weight", "climate_weight"))
        return self


class Attitude(_Section):
    """The view of social interaction (ODD 7.6): counselor anchor and peer influence."""

    psychoeducation_rate: float = _p(
        0.55,
        0.0,
        1.0,
        "per session",
        "pull toward the counselor's view in the working stage, x rapport",
    )
    counselor_view: float = _p(0.9, 0.0, 1.0, "0-1", "the counselor's view (a fixed anchor)")
    confidence_bound: float = _p(0.2, 0.0, 1.0, "0-1", "Deffuant bound epsilon in a climate of 0")
    confidence_climate: float = _p(0.3, 0.0, 1.0, "0-1", "widening of epsilon per unit of climate")
    convergence: float = _p(0.3, 0.0, 0.5, "share", "Deffuant mu: how far both views move")


class Resolve(_Section):
    """Resolve (intention to interact) from the theory of planned behaviour (ODD 7.7)."""

    attitude_weight: float = _p(0.45, 0.0, 1.0, "share", "weight of attitude")
    control_weight: float = _p(0.35, 0.0, 1.0, "share", "weight of perceived control (skill)")
    calm_weight: float = _p(0.2, 0.0, 1.0, "share", "weight of calm (1 - anxiety)")

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Resolve:
        _require_sum_of_one(self, ("attitude_weight", "control_weight", "calm_weight"))
        return self


class Tension(_Section):
    """Conflict in the group (ODD 7.1b): Prayitno's reluctance, Tuckman's storming."""

    rate: float = _p(0.5, 0.0, 1.0, "per session", "speed at which tension moves to its target")
    anxiety_weight: float = _p(1.0, 0.0, 10.0, "weight", "tension from the members' mean anxiety")
    mismatch_weight: float = _p(
        2.0, 0.0, 10.0, "weight", "tension from mismatched members (SD of their attitudes)"
    )
    calming: float = _p(
        0.8, 0.0, 1.0, "share", "share of the tension a warm, facilitating counselor takes away"
    )
    forming: float = _p(0.5, 0.0, 1.0, "x", "conflict of the forming stage")
    transition: float = _p(1.0, 0.0, 1.0, "x", "conflict of the transition stage (storming)")
    working: float = _p(0.4, 0.0, 1.0, "x", "conflict of the working stage")
    termination: float = _p(0.2, 0.0, 1.0, "x", "conflict of the termination stage")


class Attendance(_Section):
    """Who comes to a session, and who drops out (ODD 7.3b); logistic weights."""

    intercept: float = _p(1.5, -20.0, 20.0, "logit", "baseline log-odds of attending")
    resolve: float = _p(1.5, 0.0, 20.0, "logit", "effect of resolve (intention to interact)")
    rapport: float = _p(1.5, 0.0, 20.0, "logit", "effect of trust in the counselor")
    climate: float = _p(
        1.5, 0.0, 20.0, "logit", "effect of the group's climate at the last session"
    )
    anxiety: float = _p(2.0, 0.0, 20.0, "logit", "avoidance: effect of social anxiety")
    dropout_after: int = _p(
        2, 1, 100, "sessions", "consecutive absences after which a client may drop out"
    )
    dropout_chance: float = _p(
        0.5, 0.0, 1.0, "probability", "chance of dropping out at each further absence"
    )


class Campus(_Section):
    """Everyday campus life for every student (ODD 7.8)."""

    contacts_per_week: float = _p(
        3.0, 0.0, 100.0, "contacts/week", "mean contact opportunities a student has in a week"
    )
    along_ties: float = _p(0.6, 0.0, 1.0, "share", "share of opportunities with an existing friend")
    triadic_closure: float = _p(
        0.2, 0.0, 1.0, "share", "share with a friend of a friend (triadic closure)"
    )
    same_faculty: float = _p(
        0.15, 0.0, 1.0, "share", "share with a faculty mate (homophily); the rest: anyone"
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> Campus:
        total = self.along_ties + self.triadic_closure + self.same_faculty
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"along_ties + triadic_closure + same_faculty must be at most 1 (got {total:g})"
            )
        return self


class Decay(_Section):
    """Forgetting (ODD 7.9): unused ties weaken, states drift back toward baselines."""

    tie_decay: float = _p(0.2, 0.0, 1.0, "per week", "share of strength an unused tie loses")
    tie_floor: float = _p(0.05, 0.001, 0.5, "strength", "ties weaker than this are dropped")
    state_drift: float = _p(
        0.06, 0.0, 1.0, "per week", "share of the gap to the baseline a state closes each week"
    )


class Measurement(_Section):
    """The latent social interaction score and the questionnaire (ODD 7.10)."""

    contact_scale: float = _p(
        4.0, 0.1, 100.0, "contacts/week", "good exchanges per week at which contact scores 0.63"
    )
    tie_scale: float = _p(
        2.0, 0.1, 100.0, "strength", "summed tie strength at which ties score 0.63"
    )
    contact_memory: float = _p(
        0.5, 0.0, 0.99, "share", "weight of earlier weeks in the contact frequency (moving average)"
    )
    response_rate: float = _p(
        0.95, 0.0, 1.0, "probability", "chance a client who stayed answers the post-test/follow-up"
    )
    dropout_response_rate: float = _p(
        0.4, 0.0, 1.0, "probability", "chance a client who dropped out answers them"
    )
