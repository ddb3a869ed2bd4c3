"""The community model: rumour, tension and retaliation on one SimPy clock.

Performance notes (why the code looks like this):

* No process per person. The rumour is ONE process doing exact next-event
  (Gillespie) sampling over the current spreaders; every spreader tells at the
  same rate, so the next telling is ``Exp(rate * spreaders)`` away and the teller
  is a uniform pick. Between two scheduled SimPy events (``env.peek()``) nothing
  else can change the state, so the loop takes all tellings that fall before the
  next event without yielding; it yields only when the next telling is later.
  When an action changes the spreader set the rumour process is interrupted and
  resamples (valid because waiting times are memoryless).
* Per-person state lives in flat lists. Anger decays exponentially, so it is
  stored lazily as (value, time) and group sums are kept exactly the same way.
* Retaliation is a Hawkes process simulated by thinning (Ogata): the bound is
  the current excitation times the largest possible anger multiplier, which
  holds until the next incident because excitation only decays and every
  intervention multiplier is <= 1.
* The regular looks (samples, the hourly risk, partner reports) cost no SimPy
  events: ``_LookingEnvironment`` takes those due before each event and the
  rumour loop those due before each telling (see ``World._looks``). Before
  issue 18 they were a process whose wake-ups were two thirds of a run's events.
* What depends only on the scenario is worked out once per scenario object
  (``_constants``, and the population's layout in ``community``) and shared by its
  runs, read-only. In hot code, no objects made per call that can be made once
  (``zip(..., strict=True)`` alone costs about a microsecond).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, field
from itertools import compress

import numpy as np
import simpy

from ..results import Event, Observation, Series, Signal
from ..schema import Scenario
from . import effects as fx
from .actions import ACTIONS
from .cache import per_scenario
from .community import build_population

IGNORANT, SPREADER, STIFLER = 0, 1, 2
FOLLOW_UP_HOURS = 24.0  # a partner not followed up within this loses willingness
SIGNAL_EVERY_HOURS = 1.0
TENSION_WORDS = ("calm", "uneasy", "tense", "volatile")
CORRECTION_BATCHES = 4  # a correction goes out over an hour, in four waves
CORRECTION_SPAN_HOURS = 1.0
CALMING = 0.5  # a corrected hearer's anger falls by CALMING x credibility of it
RISK_STEP_HOURS = 1.0  # how often retaliation_risk is brought up to date (and at every incident)


# The event budget. A run's work is bounded by the scenario except for retaliation: a
# Hawkes process whose anger multiplier lifts it past criticality (or a high baseline)
# keeps adding incidents, each of which angers a whole group. So every run counts its
# units of work (``model_events``) and stops with EventBudgetExceeded past a budget that
# grows with the population, the horizon and the partners watching. The library's runs
# use at most 14 units per person (under 1/30 of their budget; see scenarios/README.md).
BUDGET_PER_UNIT = 50  # times the work a run is expected to need (below)
BUDGET_FLOOR = 250_000


def event_budget(scenario: Scenario) -> int:
    """The most units of model work one run of ``scenario`` may use.

    Expected work: tellings (at most twice the population, plus seeds), one look at every
    group per sample, one report check per watched group per hour; the budget is
    ``BUDGET_PER_UNIT`` times that, plus ``BUDGET_FLOOR``.
    """
    horizon = scenario.grading.horizon_hours
    samples = math.floor(horizon * 60 / scenario.grading.sample_minutes) + 1
    groups = len(scenario.groups)
    watched = sum(len(p.reach) for p in scenario.partners)
    expected = scenario.population + samples * groups + math.ceil(horizon / SIGNAL_EVERY_HOURS) * watched
    return BUDGET_PER_UNIT * expected + BUDGET_FLOOR


def _live_factor(mods: list, t: float) -> float:
    """The product of the hazard modifiers (factor, until, why) still in force at hour `t`;
    those that have expired are dropped from `mods` in place, so later looks skip them."""
    product, over = 1.0, False
    for factor, until, _ in mods:
        if t < until:
            product *= factor
        else:
            over = True
    if over:
        mods[:] = [mod for mod in mods if t < mod[1]]
    return product


def _no_log(*args, **kwargs) -> None:
    """``World.log`` in a run without detail."""


class EventBudgetExceeded(RuntimeError):
    """A run needed more work than ``event_budget`` allows: the scenario explodes.

    ``args`` are (budget, used, at_hours), so the error pickles across processes.
    """

    def __init__(self, budget: int, used: int, at_hours: float):
        super().__init__(budget, used, at_hours)
        self.budget, self.used, self.at_hours = budget, used, at_hours

    def __str__(self) -> str:
        return (
            f"the simulation was stopped at hour {self.at_hours:.1f} after {self.used:,} model events, "
            f"more than the {self.budget:,} a run of this scenario may use: incidents keep "
            "multiplying. Lower retaliation.branching, baseline_per_day or anger_weight, or raise "
            "retaliation.anger_reference."
        )


@functools.lru_cache(maxsize=64)
def _sample_times(step: float, end: float) -> tuple[float, ...]:
    """The times of a run's samples (hours, rounded as the series keeps them): the same in
    every run of a scenario, so worked out once."""
    times, i = [], 0
    while i * step <= end:
        times.append(round(i * step, 6))
        i += 1
    return tuple(times)


class _LookingEnvironment(simpy.Environment):
    """SimPy's environment, which first takes the run's looks (``World._looks``) due before
    the next event's time: samples and hourly checks cost no events of their own."""

    next_look = math.inf  # the time of the next look due
    looks = None  # World._looks(): look(before) takes the looks due before ``before``

    def step(self) -> None:
        queue = self._queue
        if queue and queue[0][0] > self.next_look:
            self.looks(queue[0][0])
        simpy.Environment.step(self)


def tension_level(anger: float) -> int:
    return 0 if anger < 0.25 else 1 if anger < 0.4 else 2 if anger < 0.6 else 3


@dataclass
class PartnerState:
    engaged: bool = False
    aligned: bool = False  # has the facts
    buffering: bool = False  # has the concerns; buffers anger
    willingness: float = 1.0
    contacted_at: float | None = None
    followed_up_at: float | None = None
    handed_over: bool = False
    buffers: list = field(default_factory=list)  # (group index, factor) this partner applies
    shared: set = field(default_factory=set)  # the kinds of information they have been told
    leaks: int = 0  # how many things told to them travelled further


@dataclass(frozen=True)
class _Constants:
    """What a World takes from its scenario alone, worked out once per scenario and shared
    by its runs: read-only (``anger`` and ``gsum`` are copied, as a run changes them)."""

    gids: list[str]
    gindex: dict[str, int]
    sizes: list[int]
    affects: list[bool]
    anger: list[float]  # per person, at the start
    people_groups: list[str]  # per person, the group's id
    gsum: list[float]  # per group, at the start
    armed: list[int]
    pairs: list[tuple[int, int]]
    armed_groups: list[int]
    divisors: list[int]
    pair_index: dict[tuple[int, int], int]
    pair_terms: tuple[tuple[int, int, int], ...]  # per pair: retaliator, target, index
    specs: dict[str, object]
    budget: int


@per_scenario
def _constants(scenario: Scenario) -> _Constants:
    gids = list(scenario.group_ids)
    gindex = {g: k for k, g in enumerate(gids)}
    sizes = [g.size for g in scenario.groups]
    armed = [gindex[g] for g in scenario.retaliation.groups]
    pairs = [(a, b) for a in armed for b in armed if a != b]
    return _Constants(
        gids=gids,
        gindex=gindex,
        sizes=sizes,
        affects=[g in scenario.rumour.affects for g in gids],
        anger=[g.anger for g in scenario.groups for _ in range(g.size)],
        people_groups=[g.id for g in scenario.groups for _ in range(g.size)],
        gsum=[g.anger * g.size for g in scenario.groups],
        armed=armed,
        pairs=pairs,
        armed_groups=list(dict.fromkeys(armed)),
        divisors=[max(1, size) for size in sizes],
        pair_index={p: k for k, p in enumerate(pairs)},
        pair_terms=tuple((p, q, j) for j, (p, q) in enumerate(pairs)),
        # scenario.partner(id), looked up once (reversed: the first of a repeated id wins, as there)
        specs={p.id: p for p in reversed(scenario.partners)},
        budget=event_budget(scenario),
    )


class World:
    """One run's state and processes. Build, then ``run(until)``."""

    def __init__(self, scenario: Scenario, decisions: list[list[str]], seed: int, detail: bool = True):
        self.scenario = scenario
        # detail=False: a Monte Carlo's run, which keeps only its metrics and the series its
        # summary reads (no event log, no partner reports, no per-group or per-level series)
        self.detail = detail
        if not detail:
            self.log = _no_log
        self.decisions = decisions
        self.seed = seed
        self.rng = random.Random(seed)
        self.env = _LookingEnvironment()
        self.horizon = scenario.grading.horizon_hours
        # numpy's generator builds the network, then draws the samples of people (fast in C)
        self.np_rng = np.random.default_rng(seed)
        pop = build_population(scenario, self.np_rng)
        self.group_of = pop.group_of
        self.members = pop.members
        self.starts, self.targets = pop.starts, pop.targets
        self.n = n = len(pop.group_of)
        # what depends only on the scenario, shared by its runs (read-only; see _Constants)
        self.constants = c = _constants(scenario)
        self.gids, self.gindex, self.sizes = c.gids, c.gindex, c.sizes

        # rumour state
        self.state = [IGNORANT] * n
        self.level = [0] * n
        self.corrected = [False] * n
        self.spreaders: list[int] = []
        self.spos = [-1] * n  # index in self.spreaders, for O(1) removal
        self.levels = len(scenario.rumour.levels)
        self.believers_by_level = [0] * (self.levels + 1)
        self.believers = 0
        self.heard = 0
        self.corrected_count = 0
        self.peak_reach = 0.0
        self.peak_level = 0
        self.group_max_level = [0] * len(self.gids)
        self.escalation = scenario.rumour.escalation
        self.escalation_boost: list[tuple[float, float]] = []  # (factor, until)
        self.affects = c.affects

        # tension: lazily decayed anger
        self.tau = scenario.tension.decay_hours
        self.anger = list(c.anger)
        self.anger_t = [0.0] * n
        self.gsum = list(c.gsum)
        self.gsum_t = [0.0] * len(self.gids)
        self.buffer = [1.0] * len(self.gids)  # multiplier on anger increases
        self.trust = [g.police_trust for g in scenario.groups]
        self.trust_changes = 0  # counts changes, so the sampler recomputes the mean only then

        # retaliation
        ret = scenario.retaliation
        self.armed, self.pairs, self.armed_groups = c.armed, c.pairs, c.armed_groups
        self.anger_weight, self.anger_reference = ret.anger_weight, ret.anger_reference
        self.divisors = c.divisors
        self.mult_now = [1.0] * len(self.gids)  # _group_factors' lists
        self.against_now = [1.0] * len(self.gids)
        self.excite = [0.0] * len(self.pairs)
        self.excite_t = 0.0
        self.pair_index = c.pair_index
        self.hazard_mods: list[list[tuple[float, float]]] = [[] for _ in self.gids]  # as retaliator
        self.hazard_mods_against: list[list[tuple[float, float]]] = [[] for _ in self.gids]
        self.incidents = 0
        self.retaliations = 0
        self.first_retaliation: float | None = None

        self.partner_state = {p.id: PartnerState(willingness=p.willingness) for p in scenario.partners}
        self.specs = c.specs  # scenario.partner(id), looked up once
        # information and its costs (scenarios/MODEL.md, "What is shared")
        self.leaks = 0
        self.case_damaged = False  # investigative detail or an operation got out
        self.operation_leaked = False
        self.exposures = 0
        self.claims: dict[str, list[int]] = {}  # a claim's tag -> the people it convinced
        self.contradicted_claims = 0
        self.analysis_at: float | None = None  # when the crime analyst's map came in
        self.revealed: set[int] = set()  # groups made visible by probation's contacts
        self.evaluated = False
        self.support_running = 0  # services' support processes under way
        self.kept_until = 0.0  # an evaluation keeps support running until then
        self.risk = 0.0  # integrated hazard of retaliation: expected retaliations so far
        self.risk_t = 0.0  # ... up to this time
        self.reported: dict[tuple[str, int, str], int] = {}
        self.events: list[Event] = []
        self.spread: list[tuple[float, int, int, int]] = []
        self.series = Series(
            anger_by_group={g: [] for g in self.gids}, reach_by_level=[[] for _ in range(self.levels)]
        )
        self.peak_mean_anger = self.mean_anger(0.0)
        self.rumour_proc: simpy.Process | None = None
        self.rumour_started = False
        # units of model work, for the benchmark: tellings, hazard checks, people reached
        # by a correction or calming, anger updates from incidents, group samples (partner reports
        # are not counted: a Monte Carlo's runs skip them, and both must spend alike)
        self.model_events = 0
        self.budget = c.budget

        env = self.env
        self.retaliation_proc = env.process(self._incident_and_retaliation())
        self.rumour_proc = env.process(self._rumour())
        self.env.looks = self._looks()
        env.process(self._decisions())
        if scenario.incident.transfer_at_hours is not None:
            env.process(self._transfer(scenario.incident.transfer_at_hours))

    def people_groups(self) -> list[str]:
        """Per person, the id of their group (a new list)."""
        return list(self.constants.people_groups)

    # -- helpers used by actions ---------------------------------------------
    def log(
        self, kind: str, who: str, details: dict, decision: int | None = None, t: float | None = None
    ) -> None:
        self.events.append(Event(round(self.env.now if t is None else t, 6), kind, who, details, decision))

    def partner_delay(self, partner_id: str) -> float:
        return self.specs[partner_id].delay_hours

    def group_trust(self, gid: str) -> float:
        return self.trust[self.gindex[gid]]

    def engage(self, pid: str, share, decision: int | None) -> None:
        """The partner is on board and has been told ``share`` (a tuple of information kinds)."""
        st = self.partner_state[pid]
        now = self.env.now
        first = not st.engaged
        st.engaged = True
        if st.contacted_at is None:
            st.contacted_at = now
        kinds = tuple(share)
        if "facts" in kinds:
            st.aligned = True
        if "concerns" in kinds and not st.buffering:
            st.buffering = True
            spec = self.specs[pid]
            for g, r in spec.reach.items():
                k = self.gindex[g]
                c = spec.credibility.get(g, 0.0) * st.willingness
                factor = 1.0 - fx.BUFFER_STRENGTH * c * r
                self.buffer[k] *= factor
                st.buffers.append((k, factor))
                # a buffer also absorbs anger that is already there, among those reached
                self.calm(g, fx.BUFFER_CALMING * c, r, pid, decision)
        for kind in kinds:
            if kind in st.shared:
                continue
            st.shared.add(kind)
            p = (1.0 - self.specs[pid].discretion) * fx.SENSITIVITY[kind]
            # one draw per kind told, always taken, so the stream does not depend on the outcome
            draw, wait = self.rng.random(), self.rng.expovariate(1.0 / fx.LEAK_MEAN_HOURS)
            if draw < p:
                self.env.process(self._leak(pid, kind, wait, decision))
        self.log(
            "partner_action",
            pid,
            {
                "action": "engaged",
                "share": list(kinds),
                "text": f"{self.specs[pid].name} is on board.",
            },
            decision,
        )
        if first:
            self.env.process(self._follow_up_check(pid, now))

    def bring_in(self, pid: str, share, decision: int | None) -> None:
        """An action needs the partner: engage them, told ``share``, unless they already are."""
        if not self.partner_state[pid].engaged:
            self.engage(pid, share, decision)

    def _leak(self, pid: str, kind: str, wait: float, decision: int | None):
        """What was told to ``pid`` travels further, ``wait`` hours later."""
        yield self.env.timeout(wait)
        st = self.partner_state[pid]
        spec = self.specs[pid]
        st.leaks += 1
        self.leaks += 1
        st.willingness *= fx.EXPOSED_PARTNER_WILLINGNESS  # they know it came from them
        inc = self.scenario.incident
        groups = list(spec.reach) or list(self.gids)
        if kind == "operational":
            self.operation_leaked = True
            self.case_damaged = True
            text = "Word of the planned operation is out: the people it targets have been warned."
            # "they are coming for us": the targets' side hears it, angrily, and retells it
            if inc.by:
                self.anger_group(inc.by, fx.WARNED_ANGER, decision)
            self.fuel_rumour(groups, fx.LEAK_FUEL_PEOPLE)
        elif kind == "investigative":
            self.case_damaged = True
            text = "Details of the investigation are being repeated on the street; the case is harmed."
            self.fuel_rumour(groups, fx.LEAK_FUEL_PEOPLE)
            self.boost_escalation(fx.LEAK_ESCALATION, fx.LEAK_ESCALATION_HOURS, decision)
            self._name_to_act_on(decision)
        else:  # identities
            self.exposures += 1
            text = "A name that should have stayed private is going round; the family feels exposed."
            if inc.against:
                self.anger_group(inc.against, fx.EXPOSURE_ANGER, decision)
                self.change_trust(inc.against, -fx.EXPOSURE_TRUST, "an identity exposed", decision)
            self._name_to_act_on(decision)
        self.log("leak", pid, {"kind": kind, "text": f"{spec.name}: {text}"}, decision)

    def _name_to_act_on(self, decision: int | None) -> None:
        """A leaked name or place gives the victim's side someone to act on: their hazard of
        retaliating is excited as by LEAK_EXCITATION of an incident."""
        inc = self.scenario.incident
        if not (inc.by and inc.against):
            return
        key = self.pair_index.get((self.gindex[inc.against], self.gindex[inc.by]))
        if key is None:
            return
        t = self.env.now
        self._integrate_risk(t)
        decay = math.exp(-(t - self.excite_t) / self.scenario.retaliation.decay_hours)
        self.excite = [e * decay for e in self.excite]
        self.excite_t = t
        ret = self.scenario.retaliation
        self.excite[key] += fx.LEAK_EXCITATION * ret.branching / ret.decay_hours
        proc = self.retaliation_proc
        if not proc.is_alive:
            self.retaliation_proc = self.env.process(self._retaliation_loop())
        elif proc is not self.env.active_process:
            proc.interrupt()

    def follow_up(self, pid: str, decision: int | None) -> None:
        st = self.partner_state[pid]
        self.bring_in(pid, (), decision)
        st.followed_up_at = self.env.now
        st.willingness = 1.0
        self.log("partner_action", pid, {"action": "follow_up", "willingness": 1.0}, decision)

    def _follow_up_check(self, pid: str, contacted: float):
        yield self.env.timeout(FOLLOW_UP_HOURS)
        st = self.partner_state[pid]
        if st.followed_up_at is None or st.followed_up_at < contacted:
            st.willingness *= 0.5
            self.log(
                "partner_cooling",
                pid,
                {
                    "text": f"{self.specs[pid].name} has not heard back from police and is less willing to help.",
                    "willingness": round(st.willingness, 3),
                },
            )

    def boost_escalation(self, factor: float, hours: float, decision: int | None) -> None:
        self.escalation_boost.append((factor, self.env.now + hours))

    def change_trust(self, gid: str, delta: float, why: str, decision: int | None) -> None:
        k = self.gindex[gid]
        before = self.trust[k]
        self.trust[k] = min(1.0, max(0.0, before + delta))
        if self.trust[k] != before:
            self.trust_changes += 1
            self.log(
                "trust_change",
                gid,
                {"from": round(before, 4), "to": round(self.trust[k], 4), "why": why},
                decision,
            )

    def modify_hazard(
        self,
        gid: str,
        factor: float,
        hours: float,
        why: str,
        decision: int | None,
        against: bool = False,
        lasting: bool = False,
        quiet: bool = False,
    ) -> None:
        """Multiply ``gid``'s hazard by ``factor`` (<= 1) for ``hours``. ``lasting``: partner work
        that an evaluation can keep going; ``quiet``: no log line (a step of ongoing work)."""
        k = self.gindex[gid]
        until = self.env.now + hours
        mod = [min(1.0, max(0.0, factor)), until, lasting]
        self.hazard_mods[k].append(mod)
        if against:
            self.hazard_mods_against[k].append(mod)
        if quiet:
            return
        self.log(
            "partner_action",
            why.split(" by ")[-1] if " by " in why else "police",
            {"action": why, "group": gid, "hazard_factor": round(factor, 4), "hours": hours},
            decision,
        )

    def mean_anger(self, t: float, k: int | None = None) -> float:
        if k is not None:
            return self.gsum[k] * math.exp(-(t - self.gsum_t[k]) / self.tau) / max(1, self.sizes[k])
        total = sum(self.gsum[j] * math.exp(-(t - self.gsum_t[j]) / self.tau) for j in range(len(self.gids)))
        return total / max(1, self.n)

    def _set_anger(self, i: int, t: float, new: float, old: float) -> None:
        k = self.group_of[i]
        self.anger[i] = new
        self.anger_t[i] = t
        gsum_t = self.gsum_t
        if gsum_t[k] == t:  # decayed to t already: exp(-0) is 1.0, so the product is unchanged
            self.gsum[k] += new - old
        else:
            self.gsum[k] = self.gsum[k] * math.exp(-(t - gsum_t[k]) / self.tau) + (new - old)
            gsum_t[k] = t

    def add_anger(self, i: int, t: float, delta: float) -> None:
        old = self.anger[i] * math.exp(-(t - self.anger_t[i]) / self.tau)
        self._set_anger(i, t, min(1.0, old + delta * self.buffer[self.group_of[i]]), old)

    def spend(self, units: int) -> None:
        """Count units of model work; past the run's budget, stop it."""
        self.model_events += units
        if self.model_events > self.budget:
            raise EventBudgetExceeded(self.budget, self.model_events, self.env.now)

    def anger_group(self, gid: str, delta: float, decision: int | None = None) -> None:
        t = self.env.now
        k = self.gindex[gid]
        people = self.members[k]
        self.spend(len(people))
        if not people:
            return
        # add_anger for each member, inlined: the same operations in the same order
        rise = delta * self.buffer[k]
        anger, anger_t, tau, exp = self.anger, self.anger_t, self.tau, math.exp
        gsum = self._decayed_gsum(k, t)
        for i in people:
            old = anger[i] * exp(-(t - anger_t[i]) / tau)
            new = old + rise
            if new > 1.0:
                new = 1.0
            anger[i] = new
            anger_t[i] = t
            gsum += new - old
        self.gsum[k] = gsum

    def _decayed_gsum(self, k: int, t: float) -> float:
        """Group ``k``'s anger sum decayed to ``t`` (and stamped ``t``), as _set_anger does it."""
        if self.gsum_t[k] != t:
            self.gsum[k] = self.gsum[k] * math.exp(-(t - self.gsum_t[k]) / self.tau)
            self.gsum_t[k] = t
        return self.gsum[k]

    def sample_members(self, k: int, count: int) -> list[int]:
        """``count`` members of group ``k`` (at most all), a uniform sample in random order."""
        return self._sample_array(k, count).tolist()

    def _sample_array(self, k: int, count: int) -> np.ndarray:
        people = self.members[k]
        count = min(len(people), count)
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        # members are consecutive numbers; the head of a random permutation of them is a
        # uniform sample in random order (and cheaper to get from numpy than choice() at these
        # sizes). permutation(m) shuffles arange(m), and a shuffle's draws depend only on the
        # length: shuffling the people themselves gives permutation(m) + people[0]
        first = people[0]
        order = np.arange(first, first + len(people))
        self.np_rng.shuffle(order)
        return order[:count]

    def calm(self, gid: str, fraction: float, reach: float, who: str, decision: int | None) -> None:
        t = self.env.now
        people = self.members[self.gindex[gid]]
        count = round(reach * len(people))
        # everyone reached: no sample to draw (the order does not matter)
        reached = people if count >= len(people) else self.sample_members(self.gindex[gid], count)
        self.spend(len(reached))
        if not reached:
            return
        # _set_anger for each, inlined: the same operations in the same order
        k = self.gindex[gid]
        keep = 1.0 - fraction
        anger, anger_t, tau, exp = self.anger, self.anger_t, self.tau, math.exp
        gsum = self._decayed_gsum(k, t)
        for i in reached:
            old = anger[i] * exp(-(t - anger_t[i]) / tau)
            new = old * keep
            anger[i] = new
            anger_t[i] = t
            gsum += new - old
        self.gsum[k] = gsum

    def correct(
        self,
        who: str,
        reach: dict[str, float],
        cred: dict[str, float],
        decision: int | None,
        tag: str | None = None,
    ):
        """A correction goes out in waves; each reached person believes it with p = cred.

        With ``tag``, the people it convinced are kept under that tag (a claim that may be
        contradicted later)."""
        convinced = self.claims.setdefault(tag, []) if tag is not None else None
        # who it reaches, wave by wave, and which of them it convinces (p = cred), drawn at
        # once: a wave then works only on those it convinces
        waves: list[list[int]] = [[] for _ in range(CORRECTION_BATCHES)]
        reached = [0] * CORRECTION_BATCHES
        for g, r in reach.items():
            k = self.gindex[g]
            chosen = self._sample_array(k, round(r * self.sizes[k]))
            believe = (self.np_rng.random(len(chosen)) < cred.get(g, 0.0)).tolist()
            chosen = chosen.tolist()  # as lists: slices of lists cost less than numpy's
            for w in range(CORRECTION_BATCHES):
                part = chosen[w::CORRECTION_BATCHES]
                reached[w] += len(part)
                waves[w].extend(compress(part, believe[w::CORRECTION_BATCHES]))
        total = {g: 0 for g in reach}
        was_believing = 0
        # per-group constants and the state lists, looked up once (the same values and
        # the same operations as looking them up per person)
        gids, group_of = self.gids, self.group_of
        keeps = [1.0 - CALMING * cred.get(g, 0.0) for g in gids]
        by_group = [0] * len(gids)
        spreaders, spos = self.spreaders, self.spos
        corrected, state, level = self.corrected, self.state, self.level
        by_level = self.believers_by_level
        anger, anger_t, gsum, gsum_t = self.anger, self.anger_t, self.gsum, self.gsum_t
        tau, exp = self.tau, math.exp
        for w, wave in enumerate(waves):
            if w:
                yield self.env.timeout(CORRECTION_SPAN_HOURS / CORRECTION_BATCHES)
            t = self.env.now
            changed = False
            self.model_events += reached[w]
            convinced_now = dropped = 0
            for i in wave:
                if corrected[i]:
                    continue
                k = group_of[i]
                corrected[i] = True
                convinced_now += 1
                by_group[k] += 1
                if convinced is not None:
                    convinced.append(i)
                s = state[i]
                if s == SPREADER:
                    # _remove_spreader(i), inlined
                    pos = spos[i]
                    last = spreaders.pop()
                    if last != i:
                        spreaders[pos] = last
                        spos[last] = pos
                    spos[i] = -1
                    changed = True
                if s != IGNORANT:
                    dropped += 1
                    by_level[level[i]] -= 1
                state[i] = STIFLER
                old = anger[i] * exp(-(t - anger_t[i]) / tau)
                new = old * keeps[k]
                anger[i] = new
                anger_t[i] = t
                if gsum_t[k] == t:  # exp(-0) is 1.0: the decay leaves the sum unchanged
                    gsum[k] += new - old
                else:
                    gsum[k] = gsum[k] * exp(-(t - gsum_t[k]) / tau) + (new - old)
                    gsum_t[k] = t
            self.corrected_count += convinced_now
            self.believers -= dropped
            was_believing += dropped
            if changed:
                self._interrupt_rumour()
        for k, count in enumerate(by_group):
            if count:
                total[gids[k]] += count
        self.log(
            "correction",
            who,
            {"corrected": sum(total.values()), "were_believing": was_believing, "by_group": total},
            decision,
        )

    # -- information, statements and the partners' own levers ----------------------
    def fuel_rumour(self, gids: list[str], share: float, people: list[int] | None = None) -> int:
        """New spreaders: ``share`` of each group in ``gids`` (or exactly ``people``) start
        retelling the rumour at the most severe level it has reached. Returns how many."""
        if not self.rumour_started:
            return 0
        if people is None:
            people = []
            for g in gids:
                k = self.gindex[g]
                people.extend(self.sample_members(k, round(share * self.sizes[k])))
        lv = max(1, self.peak_level)
        added = 0
        for i in people:
            s = self.state[i]
            if s == SPREADER:
                continue
            if s == IGNORANT:
                self.heard += 1
                self.believers += 1
            elif self.corrected[i]:
                if self.level[i] == 0:  # corrected before ever hearing it: hears it now
                    self.heard += 1
                self.corrected[i] = False
                self.corrected_count -= 1
                self.believers += 1
            else:
                self.believers_by_level[self.level[i]] -= 1
            self.believers_by_level[lv] += 1
            self.state[i] = SPREADER
            self.level[i] = lv
            self._add_spreader(i)
            k = self.group_of[i]
            self.group_max_level[k] = max(self.group_max_level[k], lv)
            added += 1
        self.spend(len(people))
        self.peak_reach = max(self.peak_reach, self.believers / self.n)
        if added:
            proc = self.rumour_proc
            if proc is not None and not proc.is_alive:  # it had died out: it starts again
                self.rumour_proc = self.env.process(self._spread())
            else:
                self._interrupt_rumour()
        return added

    def contradict_later(self, tag: str, reach: dict[str, float], decision: int | None):
        """A claim not yet established meets the facts at incident.facts_emerge_hours."""
        at = self.scenario.incident.facts_emerge_hours
        yield self.env.timeout(max(0.0, at - self.env.now))
        self.contradicted_claims += 1
        self.log(
            "contradiction",
            "police",
            {"text": "The facts are out, and they contradict what police said. People feel lied to."},
            decision,
        )
        for g, r in reach.items():
            if r > 0:
                self.change_trust(g, -fx.CLAIM_TRUST_COST, "a police claim was contradicted", decision)
        convinced = self.claims.pop(tag, [])
        relapse = [i for i in convinced if self.rng.random() < fx.CLAIM_RELAPSE]
        self.fuel_rumour([], 0.0, people=relapse)
        self.boost_escalation(fx.CLAIM_ESCALATION, fx.CLAIM_ESCALATION_HOURS, decision)

    def complete_analysis(self, pid: str, decision: int | None) -> None:
        if self.analysis_at is None:
            self.analysis_at = self.env.now
        t = self.env.now
        angers = self.group_angers(t)
        hot = max(range(len(self.gids)), key=lambda k: angers[k])
        self.log(
            "warning",
            pid,
            {
                "signal": True,
                "level": tension_level(angers[hot]),
                "text": f"{self.specs[pid].name}: the network map is in. The tension is "
                f"highest in {self.scenario.groups[hot].name}; a few people are at the centre of it.",
            },
            decision,
        )

    def reveal(self, gid: str, pid: str, decision: int | None) -> None:
        """A partner's contacts make ``gid``'s tension visible to the trainee."""
        k = self.gindex[gid]
        self.revealed.add(k)
        level = tension_level(self.group_angers(self.env.now)[k])
        self.log(
            "warning",
            pid,
            {
                "signal": True,
                "group": gid,
                "level": level,
                "text": f"{self.specs[pid].name}: people under supervision in "
                f"{self.scenario.groups[k].name} are {TENSION_WORDS[level]}.",
            },
            decision,
        )

    def _ready(self, pid: str) -> bool:
        st = self.partner_state[pid]
        return st.engaged and st.willingness >= 0.3

    def deterrence(
        self, pid: str, gids: list[str], alongside: list[str], hours: float, decision: int | None
    ) -> None:
        """A call-in: it works only with a moral voice and an offer of help among ``alongside``."""
        from ..catalogue import HELP_OFFERS, MORAL_VOICES

        beside = [self.specs[p] for p in alongside]
        for g in gids:
            voice = any(
                p.type in MORAL_VOICES
                and self._ready(p.id)
                and p.credibility.get(g, 0.0) >= fx.MORAL_VOICE_CREDIBILITY
                for p in beside
            )
            help_ = any(p.type in HELP_OFFERS and self._ready(p.id) for p in beside)
            if voice and help_:
                self.modify_hazard(
                    g, 1.0 - fx.DETERRENCE_FULL, hours, f"focused deterrence by {pid}", decision
                )
                self.calm(g, fx.DETERRENCE_CALMING, 1.0, pid, decision)
            elif voice or help_:
                self.modify_hazard(
                    g, 1.0 - fx.DETERRENCE_HALF, hours / 2, f"focused deterrence by {pid}", decision
                )
            else:
                self.anger_group(g, fx.BACKFIRE_ANGER, decision)
                self.change_trust(g, -fx.BACKFIRE_TRUST, "a threat with no voice and no help", decision)
                self.log(
                    "warning",
                    pid,
                    {
                        "text": f"The call-in for {self.scenario.group(g).name} sounded like a threat "
                        "and nothing else: no one they respect stood beside it, and no help was offered."
                    },
                    decision,
                )

    def evaluation(self, pid: str, extend: float, decision: int | None) -> None:
        now = self.env.now
        kept = self.support_running  # services' support still running is kept going too
        if kept:
            self.kept_until = max(self.kept_until, now + extend)
        for mods in self.hazard_mods:
            for mod in mods:
                if mod[2] and mod[1] > now:
                    mod[1] += extend
                    mod[2] = False  # extended once: a second evaluation does not stretch it again
                    kept += 1
        if not kept:
            self.log(
                "partner_action",
                pid,
                {"action": "evaluate", "text": "The evaluation found no partner work running to keep."},
                decision,
            )
            return
        first = not self.evaluated
        self.evaluated = True
        reached: set[str] = set()
        for other, st in self.partner_state.items():
            if st.engaged and other != pid:
                st.willingness = 1.0
                reached.update(g for g, r in self.specs[other].reach.items() if r > 0)
        if first:  # the result is shared once, in each group partners reach
            for g in self.gids:
                if g in reached:
                    self.change_trust(g, fx.EVALUATION_TRUST, "the evaluation showed what worked", decision)
        self.log(
            "partner_action",
            pid,
            {
                "action": "evaluate",
                "kept": kept,
                "text": f"{self.specs[pid].name}: the evaluation shows the partner work is "
                "working; it is kept going.",
            },
            decision,
        )

    def explained_factor(self, gid: str) -> float:
        """x trust cost: halved when an aligned partner reaching enough of the group explains it."""
        explained = any(
            s.engaged and s.aligned and self.specs[p].reach.get(gid, 0.0) >= fx.EXPLAINER_REACH
            for p, s in self.partner_state.items()
        )
        return fx.EXPLAINED if explained else 1.0

    def prepared_factor(self, gid: str) -> float:
        """x the anger an enforcement adds: halved when a partner told the operational plan, and
        reaching enough of the group, has prepared people for it (the benefit that makes telling
        them a real dilemma: the same telling may leak and warn the targets)."""
        prepared = any(
            s.engaged and "operational" in s.shared
            and self.specs[p].reach.get(gid, 0.0) >= fx.EXPLAINER_REACH
            for p, s in self.partner_state.items()
        )  # fmt: skip
        return fx.PREPARED if prepared else 1.0

    def focused_enforcement(
        self, gid: str, strength: float, hours: float, trust_cost: float, decision: int | None
    ) -> None:
        cost = trust_cost * fx.FOCUSED_TRUST_SHARE
        anger = fx.FOCUSED_ANGER
        how = "focused enforcement"
        if self.analysis_at is None:
            strength *= fx.UNINFORMED_STRENGTH
            cost *= fx.UNINFORMED_COST
            how = "focused enforcement without the analyst's map"
        if self.operation_leaked:
            strength *= fx.WARNED_STRENGTH
            anger += fx.WARNED_ANGER
            how = "an operation the targets had been warned of"
        self.modify_hazard(gid, 1.0 - strength, hours, how, decision)
        self.change_trust(gid, -cost * self.explained_factor(gid), how, decision)
        self.anger_group(gid, anger * self.prepared_factor(gid), decision)

    # -- processes -----------------------------------------------------------
    def _decisions(self):
        env = self.env
        for i, chosen in enumerate(self.decisions):
            point = self.scenario.decisions[i]
            yield env.timeout(max(0.0, point.at_hours - env.now))
            self.log("decision", "police", {"decision": point.id, "options": list(chosen)}, i)
            for oid in chosen:
                for act in point.option(oid).actions:
                    env.process(ACTIONS[act.type].run(self, act.args, i))

    def _transfer(self, at: float):
        yield self.env.timeout(at)
        self.log("transfer", "police", {"text": "The officer who built the relationships transfers out."})
        for pid, st in self.partner_state.items():
            if not st.engaged:
                continue
            if st.handed_over:
                self.log(
                    "relationship_kept",
                    pid,
                    {"text": f"{self.specs[pid].name} keeps working with the unit."},
                )
            else:
                st.engaged = False
                st.willingness *= 0.3
                # the buffering stops, and people who relied on the link feel dropped
                for k, factor in st.buffers:
                    self.buffer[k] /= factor
                st.buffers.clear()
                st.buffering = False
                self.log(
                    "relationship_lost",
                    pid,
                    {
                        "text": f"{self.specs[pid].name} has no one to call now.",
                        "willingness": round(st.willingness, 3),
                    },
                )
                spec = self.specs[pid]
                for g, r in spec.reach.items():
                    self.change_trust(
                        g, -0.15 * r * spec.credibility.get(g, 0.0), "relationship lost in a transfer", None
                    )

    def _remove_spreader(self, i: int) -> None:
        sp = self.spreaders
        pos = self.spos[i]
        last = sp.pop()
        if last != i:
            sp[pos] = last
            self.spos[last] = pos
        self.spos[i] = -1

    def _add_spreader(self, i: int) -> None:
        self.spos[i] = len(self.spreaders)
        self.spreaders.append(i)

    def _interrupt_rumour(self) -> None:
        proc = self.rumour_proc
        if self.rumour_started and proc is not None and proc.is_alive and proc is not self.env.active_process:
            proc.interrupt()

    def _escalation_at(self, t: float) -> float:
        p = self.escalation
        for factor, until in self.escalation_boost:
            if t < until:
                p *= factor
        return min(1.0, p)

    def _rumour(self):
        env = self.env
        rumour = self.scenario.rumour
        yield env.timeout(rumour.start_hours)
        self.rumour_started = True
        rng = self.rng
        pool = self.members[self.gindex[rumour.seed_group]] if rumour.seed_group else range(self.n)
        seeds = rng.sample(list(pool), min(rumour.seeds, len(pool)))
        for i in seeds:
            self.state[i] = SPREADER
            self.level[i] = rumour.start_level
            self._add_spreader(i)
            self.believers += 1
            self.heard += 1
            self.believers_by_level[rumour.start_level] += 1
            self.group_max_level[self.group_of[i]] = max(
                self.group_max_level[self.group_of[i]], rumour.start_level
            )
        self.peak_level = rumour.start_level
        self.peak_reach = self.believers / self.n
        self.log(
            "rumour_start",
            "community",
            {
                "level": rumour.start_level,
                "text": rumour.levels[rumour.start_level - 1],
                "people": len(seeds),
            },
        )

        yield from self._spread()

    def _spread(self):
        """The rumour's tellings until nobody spreads it (restarted if fresh spreaders appear)."""
        env = self.env
        rumour = self.scenario.rumour
        rng = self.rng
        # locals for the hot loop
        state, level, spreaders, spos = self.state, self.level, self.spreaders, self.spos
        starts, targets, group_of = self.starts, self.targets, self.group_of
        affects, buffer = self.affects, self.buffer
        by_level, gmax, spread = self.believers_by_level, self.group_max_level, self.spread
        anger, anger_t, tau = self.anger, self.anger_t, self.tau
        gsum, gsum_t = self.gsum, self.gsum_t
        per_level = self.scenario.tension.anger_per_level
        # per group: whether hearing the rumour angers its people
        angered = [a and per_level > 0 for a in affects]
        rate_each = rumour.contact_rate
        max_level = self.levels
        n = self.n
        horizon = self.horizon
        random_ = rng.random
        exp, log = math.exp, math.log
        escalate = self._escalation_at(env.now)
        boost_until = min((u for _, u in self.escalation_boost), default=math.inf)
        t = env.now
        steps = 0
        # the next scheduled event's time: nothing in the loop schedules one, so it only
        # changes across a yield
        next_event = env.peek()
        # the looks (samples, hourly checks) due before a telling are taken first
        look, next_look = env.looks, env.next_look
        keep_spread = self.detail  # who told whom, for the debrief's picture
        # the counts as locals, written back before anything else can read them (a look, a
        # yield, the end); believers only rise here, so the peak reach is theirs at a write-back
        believers, heard = self.believers, self.heard
        # the earliest time at which a telling needs more than itself (one comparison per telling)
        limit = min(horizon, next_event, boost_until, next_look)
        while spreaders and rate_each > 0:
            ns = len(spreaders)  # the same until this telling's end
            # rng.expovariate(rate_each * ns), inlined: the same operations
            t_next = t + -log(1.0 - random_()) / (rate_each * ns)
            if t_next >= limit:
                if t_next > horizon:
                    break
                if t_next >= next_event:
                    self._write_back(believers, heard)
                    try:
                        yield env.timeout(t_next - env.now)
                    except simpy.Interrupt:
                        believers, heard = self.believers, self.heard
                        next_event, next_look = env.peek(), env.next_look
                        t = env.now  # the spreader set changed: resample (memoryless)
                        escalate = self._escalation_at(t)
                        boost_until = min((u for _, u in self.escalation_boost if u > t), default=math.inf)
                        limit = min(horizon, next_event, boost_until, next_look)
                        continue
                    believers, heard = self.believers, self.heard
                    next_event, next_look = env.peek(), env.next_look
                    escalate = self._escalation_at(t_next)
                    boost_until = min((u for _, u in self.escalation_boost if u > t_next), default=math.inf)
                    ns = len(spreaders)  # an action may have changed them without a resample
                elif t_next >= boost_until:
                    escalate = self._escalation_at(t_next)
                    boost_until = min((u for _, u in self.escalation_boost if u > t_next), default=math.inf)
                if t_next > next_look:
                    self._write_back(believers, heard)
                    look(t_next)
                    next_look = env.next_look
                limit = min(horizon, next_event, boost_until, next_look)
            t = t_next
            steps += 1
            s = spreaders[int(random_() * ns)]
            if starts is None:
                j = int(random_() * (n - 1))
                if j >= s:
                    j += 1
            else:
                first = starts[s]
                degree = starts[s + 1] - first
                # an isolated person has nobody to tell and loses interest
                j = targets[first + int(random_() * degree)] if degree else s
            if j != s and state[j] == IGNORANT:
                lv = level[s]
                if lv < max_level and escalate > 0 and random_() < escalate:
                    lv += 1
                    if lv > self.peak_level:
                        self.peak_level = lv
                        self.log(
                            "rumour_escalation",
                            self.gids[group_of[j]],
                            {"level": lv, "text": self.scenario.rumour.levels[lv - 1]},
                            t=t,
                        )
                state[j] = SPREADER
                level[j] = lv
                spos[j] = ns
                spreaders.append(j)
                by_level[lv] += 1
                believers += 1
                heard += 1
                k = group_of[j]
                if lv > gmax[k]:
                    gmax[k] = lv
                if keep_spread:
                    spread.append((t, s, j, lv))
                if angered[k]:
                    old = anger[j] * exp(-(t - anger_t[j]) / tau)
                    new = old + per_level * lv * buffer[k]
                    if new > 1.0:
                        new = 1.0
                    anger[j] = new
                    anger_t[j] = t
                    gsum[k] = gsum[k] * exp(-(t - gsum_t[k]) / tau) + (new - old)
                    gsum_t[k] = t
            else:  # told someone who knew: the teller loses interest (Maki-Thompson)
                state[s] = STIFLER
                pos = spos[s]
                last = spreaders.pop()
                if last != s:
                    spreaders[pos] = last
                    spos[last] = pos
                spos[s] = -1
        self._write_back(believers, heard)
        self.model_events += steps

    def _write_back(self, believers: int, heard: int) -> None:
        """The rumour loop's counts, and the peak reach they reached."""
        self.believers, self.heard = believers, heard
        r = believers / self.n
        if r > self.peak_reach:
            self.peak_reach = r

    def _multiplier(self, k: int, t: float) -> float:
        ret = self.scenario.retaliation
        m = 1.0 + ret.anger_weight * (self.mean_anger(t, k) / ret.anger_reference - 1.0)
        for factor, until, _ in self.hazard_mods[k]:
            if t < until:
                m *= factor
        return max(0.0, m)

    def _against(self, k: int, t: float) -> float:
        m = 1.0
        for factor, until, _ in self.hazard_mods_against[k]:
            if t < until:
                m *= factor
        return m

    def _pair_factors(self, t: float) -> tuple[list[float], list[float]]:
        """Per pair, ``_multiplier`` of its retaliator and ``_against`` of its target at ``t``
        (the same values, by the same operations, as calling them per pair)."""
        mult, against = self._group_factors(t)
        pairs = self.pairs
        return [mult[a] for a, _ in pairs], [against[b] for _, b in pairs]

    def _group_factors(self, t: float) -> tuple[list[float], list[float]]:
        """Per group, ``_multiplier`` and ``_against`` at ``t``, for the armed groups only
        (lists by group index, reused: read them before the next call). ``t`` never goes
        back, so modifiers over by ``t`` are dropped on the way."""
        weight, reference, tau, exp = self.anger_weight, self.anger_reference, self.tau, math.exp
        gsum, gsum_t, divisors = self.gsum, self.gsum_t, self.divisors
        hazard_mods, hazard_mods_against = self.hazard_mods, self.hazard_mods_against
        mult, against = self.mult_now, self.against_now
        for k in self.armed_groups:
            # mean_anger(t, k), inlined
            m = 1.0 + weight * (gsum[k] * exp(-(t - gsum_t[k]) / tau) / divisors[k] / reference - 1.0)
            mods = hazard_mods[k]
            if mods:
                m *= _live_factor(mods, t)
            mult[k] = max(0.0, m)
            mods = hazard_mods_against[k]
            against[k] = _live_factor(mods, t) if mods else 1.0
        return mult, against

    def _incident_and_retaliation(self):
        sc = self.scenario
        if sc.incident.by and sc.incident.against:
            self._incident(self.gindex[sc.incident.by], self.gindex[sc.incident.against], first=True)
        if not self.pairs:
            return
        yield from self._retaliation_loop()

    def _retaliation_loop(self):
        """Ogata thinning until the horizon (restarted if a leak excites a finished one)."""
        env = self.env
        ret = self.scenario.retaliation
        rng = self.rng
        mu = ret.baseline_per_day / 24.0
        bound_mult = max(1.0, 1.0 + ret.anger_weight * (1.0 / ret.anger_reference - 1.0))
        tau = ret.decay_hours
        while True:
            now = env.now
            decay = math.exp(-(now - self.excite_t) / tau)
            self.excite = [e * decay for e in self.excite]
            self.excite_t = now
            bound = sum(mu + e for e in self.excite) * bound_mult
            if bound <= 0:
                return
            dt = rng.expovariate(bound)
            if now + dt > self.horizon:
                return
            try:
                yield env.timeout(dt)
            except simpy.Interrupt:  # excitation rose outside an incident: a new bound (memoryless)
                continue
            t = env.now
            self.spend(len(self.pairs))  # a hazard check looks at every pair
            decay = math.exp(-(t - self.excite_t) / tau)
            ms, ag = self._pair_factors(t)
            rates = [(mu + e * decay) * m * g for e, m, g in zip(self.excite, ms, ag, strict=True)]
            u = rng.random() * bound
            acc = 0.0
            for (a, b), r in zip(self.pairs, rates, strict=True):
                acc += r
                if u < acc:
                    # fold the decay in before adding the new excitation
                    self.excite = [e * decay for e in self.excite]
                    self.excite_t = t
                    self._incident(a, b, first=False)
                    break

    def _incident(self, by: int, against: int, first: bool) -> None:
        t = self.env.now
        self._integrate_risk(t)  # the hazard so far, before this incident excites it
        self.incidents += 1
        if not first:
            self.retaliations += 1
            if self.first_retaliation is None:
                self.first_retaliation = t
        key = self.pair_index.get((against, by))
        if key is not None:
            decay = math.exp(-(t - self.excite_t) / self.scenario.retaliation.decay_hours)
            if decay != 1.0:
                self.excite = [e * decay for e in self.excite]
                self.excite_t = t
            self.excite[key] += self.scenario.retaliation.branching / self.scenario.retaliation.decay_hours
        self.log(
            "incident" if first else "retaliation",
            self.gids[by],
            {"by": self.gids[by], "against": self.gids[against], "number": self.incidents},
        )
        self.anger_group(self.gids[against], self.scenario.tension.anger_per_incident)

    def _looks(self):
        """The run's regular looks, as a function ``look(before)`` that takes every look due
        before ``before``: a sample of the community every ``grading.sample_minutes`` (from hour
        0), and every hour the retaliation risk brought up to date (RISK_STEP_HOURS) and the
        engaged partners' reports (SIGNAL_EVERY_HOURS).

        None of these looks changes what the community does, so they are no SimPy events:
        ``_LookingEnvironment`` takes the looks due before each event, and the rumour loop
        those due before each telling, so a look sees the state it would have seen at its
        time (no state changes between events, and every change comes from an event or a
        telling). The looks of one call see the same state, so samples are taken together,
        then the hourly looks (neither reads what the other writes). A run without ``detail``
        (a Monte Carlo's) keeps only what its summary reads: no partner reports, no per-group
        or per-level series.
        """
        env = self.env
        step = self.scenario.grading.sample_minutes / 60.0
        end = self.horizon + 1e-9
        samples = self._sampler()
        report = self._reporter() if self.detail and self.partner_state else None
        hourly = RISK_STEP_HOURS  # == SIGNAL_EVERY_HOURS
        meter = bool(self.pairs)
        integrate = self._integrate_risk_to
        inf = math.inf
        # the next sample's number and time, and the next hour's (inf: no more)
        i, next_sample, h, next_hour = 0, 0.0, 1, hourly if meter or report is not None else inf
        env.next_look = 0.0

        def look(before: float) -> None:
            nonlocal i, next_sample, h, next_hour
            if next_sample < before:
                first = i
                while next_sample < before:
                    i += 1
                    next_sample = i * step
                    if next_sample > end:
                        next_sample = inf
                samples(first, i)
            if next_hour < before:
                hours = []
                while next_hour < before:
                    hours.append(next_hour)
                    h += 1
                    next_hour = h * hourly
                    if next_hour > end:
                        next_hour = inf
                if meter:
                    integrate(hours)
                if report is not None:
                    for t in hours:
                        report(t)
            env.next_look = next_sample if next_sample < next_hour else next_hour

        return look

    def _sampler(self):
        """Samples ``first`` to ``last - 1`` of the community (sample ``i`` at ``i`` x
        sample_minutes), all of one state, as a function with its run's constants bound."""
        ser = self.series
        n = self.n
        step = self.scenario.grading.sample_minutes / 60.0
        times, reach, incidents, police_trust = ser.times, ser.reach, ser.incidents, ser.police_trust
        detail = self.detail
        by_level = self.believers_by_level
        level_lists = list(enumerate(ser.reach_by_level, start=1)) if detail else []
        gsum, gsum_t, sizes, trust = self.gsum, self.gsum_t, self.sizes, self.trust
        groups = [
            (k, ser.anger_by_group[g] if detail else None, sizes[k], sizes[k] or 1)
            for k, g in enumerate(self.gids)
        ]
        plain = [(k, size, div) for k, _, size, div in groups]  # without the series
        ngroups = len(self.gids)
        n1 = max(1, n)
        tau, exp = self.tau, math.exp
        seen = [-1, 0.0]  # trust_changes when the mean was last computed, and that mean
        sample_times = _sample_times(step, self.horizon + 1e-9)

        def samples(first: int, last: int) -> None:
            count = last - first
            # the series' new entries: one sample at a time, mostly (looks come before events)
            if count == 1:
                times.append(sample_times[first])
                reach.append(self.believers / n)
            else:
                times.extend(sample_times[first:last])
                reach.extend([self.believers / n] * count)
            for lv, series in level_lists:
                series.extend([by_level[lv] / n] * count)
            # anger only decays between state changes: the first sample has the most of it
            t = first * step
            total = 0.0
            if detail:
                for k, series, size, div in groups:
                    a = gsum[k] * exp(-(t - gsum_t[k]) / tau) / div
                    series.append(a)
                    if count > 1:
                        series.extend(
                            gsum[k] * exp(-(i * step - gsum_t[k]) / tau) / div for i in range(first + 1, last)
                        )
                    total += a * size
            else:  # the same sum, without the series
                for k, size, div in plain:
                    total += gsum[k] * exp(-(t - gsum_t[k]) / tau) / div * size
            if total / n1 > self.peak_mean_anger:
                self.peak_mean_anger = total / n1
            self.model_events += ngroups * count  # counted alike with and without detail
            if self.trust_changes != seen[0]:
                seen[0] = self.trust_changes
                seen[1] = sum(tr * sz for tr, sz in zip(trust, sizes, strict=True)) / n1
            if count == 1:
                incidents.append(self.incidents)
                police_trust.append(seen[1])
            else:
                incidents.extend([self.incidents] * count)
                police_trust.extend([seen[1]] * count)

        return samples

    def _integrate_risk(self, t: float) -> None:
        """Adds the retaliation hazard's integral from the last update to ``t``.

        The excitation's part is integrated exactly (it is a sum of decaying exponentials and
        no incident falls inside the interval: every incident updates first); anger and
        interventions scale it at their value at ``t``. With those switched off this is exactly
        the Hawkes compensator, whose mean is the mean number of retaliations."""
        self._integrate_risk_to((t,))

    def _integrate_risk_to(self, times) -> None:
        """``_integrate_risk`` to each of ``times`` in turn (rising, one state throughout)."""
        pairs = self.pairs
        if not pairs:
            return
        ret = self.scenario.retaliation
        tau, mu = ret.decay_hours, ret.baseline_per_day / 24.0
        exp, excite_t = math.exp, self.excite_t
        a, risk, done = self.risk_t, self.risk, 0
        d_a = exp(-(a - excite_t) / tau)
        excite, terms = self.excite, self.constants.pair_terms  # (retaliator, target, index)
        # _group_factors' constants, for it inlined below (the same operations)
        weight, reference, anger_tau = self.anger_weight, self.anger_reference, self.tau
        gsum, gsum_t, divisors = self.gsum, self.gsum_t, self.divisors
        hazard_mods, hazard_mods_against = self.hazard_mods, self.hazard_mods_against
        mult, against, armed = self.mult_now, self.against_now, self.armed_groups
        for t in times:
            if t <= a:
                continue
            for k in armed:
                m = 1.0 + weight * (
                    gsum[k] * exp(-(t - gsum_t[k]) / anger_tau) / divisors[k] / reference - 1.0
                )
                mods = hazard_mods[k]
                if mods:
                    m *= _live_factor(mods, t)
                mult[k] = m if m > 0.0 else 0.0  # max(0.0, m)
                mods = hazard_mods_against[k]
                against[k] = _live_factor(mods, t) if mods else 1.0
            d_t = exp(-(t - excite_t) / tau)
            # per pair (mu * (t - a) + e * tau * (d_a - d_t)) * mult * against, with what the
            # pairs share worked out once
            base, fall = mu * (t - a), d_a - d_t
            total = 0.0
            for p, q, j in terms:
                total += (base + excite[j] * tau * fall) * mult[p] * against[q]
            risk += total
            a, d_a = t, d_t  # d_a at the new a is d_t: the same expression
            done += 1
        self.risk, self.risk_t = risk, a
        self.model_events += done

    def retaliation_hazard(self, t: float) -> float:
        """Retaliations expected per hour at ``t``: the Hawkes intensity summed over pairs."""
        if not self.pairs:
            return 0.0
        mu = self.scenario.retaliation.baseline_per_day / 24.0
        decay = math.exp(-(t - self.excite_t) / self.scenario.retaliation.decay_hours)
        return sum(
            (mu + e * decay) * self._multiplier(a, t) * self._against(b, t)
            for (a, b), e in zip(self.pairs, self.excite, strict=True)
        )

    def group_angers(self, t: float) -> list[float]:
        tau, exp = self.tau, math.exp
        return [
            gs * exp(-(t - gt) / tau) / (size or 1)
            for gs, gt, size in zip(self.gsum, self.gsum_t, self.sizes, strict=True)
        ]

    def mean_trust(self) -> float:
        return sum(tr * sz for tr, sz in zip(self.trust, self.sizes, strict=True)) / max(1, self.n)

    def visible_groups(self) -> set[int]:
        if self.analysis_at is not None:
            return set(range(len(self.gids)))
        seen = set(self.revealed)
        for pid, st in self.partner_state.items():
            if st.engaged and st.willingness >= 0.3:
                for g, r in self.specs[pid].reach.items():
                    if r >= 0.1:
                        seen.add(self.gindex[g])
        return seen

    def _reporter(self):
        """Engaged partners report what they see (tension and the rumour in their groups): a
        function of ``t`` with its run's constants bound, called every SIGNAL_EVERY_HOURS."""
        levels = self.scenario.rumour.levels
        # per partner: the groups they watch, with the report keys, built once per run
        watched = {
            p.id: (
                p,
                [
                    (g, k, self.scenario.groups[k].name, (p.id, k, "tension"), (p.id, k, "rumour"))
                    for g, k in ((g, self.gindex[g]) for g, r in p.reach.items() if r >= 0.1)
                ],
            )
            for p in self.scenario.partners
        }
        states = [(pid, st, watched[pid]) for pid, st in self.partner_state.items()]
        reported, gmax = self.reported, self.group_max_level
        # what each partner last looked at: (tension levels, rumour levels). Only this
        # changes ``reported``, and after a look nothing in it differs from what was seen,
        # so the same view again reports nothing and is skipped.
        last_seen: dict[str, tuple] = {}

        def report(t: float) -> None:
            tensions = view = None
            for pid, st, (spec, groups) in states:
                if not st.engaged or st.willingness < 0.3:
                    continue
                if tensions is None:  # each group's tension level, once per report
                    tensions = [tension_level(a) for a in self.group_angers(t)]
                    view = (tensions, tuple(gmax))
                if last_seen.get(pid) == view:
                    continue
                last_seen[pid] = view
                for g, k, gname, tkey, rkey in groups:
                    tl = tensions[k]
                    if tl != reported.get(tkey, 0) and (tl > 0 or tkey in reported):
                        reported[tkey] = tl
                        self.log(
                            "warning",
                            pid,
                            {
                                "signal": True,
                                "group": g,
                                "level": tl,
                                "text": f"{spec.name}: people in {gname} are {TENSION_WORDS[tl]}.",
                            },
                            t=t,
                        )
                    lv = gmax[k]
                    if lv > reported.get(rkey, 0):
                        reported[rkey] = lv
                        self.log(
                            "warning",
                            pid,
                            {
                                "signal": True,
                                "group": g,
                                "level": lv,
                                "text": f'{spec.name}: in {gname} people are saying "{levels[lv - 1]}"',
                            },
                            t=t,
                        )

        return report

    # -- results -------------------------------------------------------------
    def observe_at(self, at: float, into: list[Observation]) -> None:
        """Append to ``into`` what the trainee sees at hour ``at``, taken during the run.

        An urgent SimPy event at ``at`` (scheduled now, so first of everything at that time)
        sees the state after every event before ``at`` and none at it: the state a run stopped
        there (``env.run(until=at)``) sees. It reads and draws nothing else, so the run goes on
        as it would without it."""
        event = self.env.event()
        event._ok, event._value = True, None  # triggered: step() runs its callback
        event.callbacks.append(lambda _event: into.append(self.observation(at)))
        # a stopped run at hour 0 runs to 1e-9 so that the incident happens (engine.simulate)
        self.env.schedule(event, simpy.events.URGENT, max(at, 1e-9) - self.env.now)

    def observation(self, at: float) -> Observation:
        signals = [
            Signal(e.time, e.who, e.details["text"], e.details["level"])
            for e in self.events
            if e.kind == "warning" and e.details.get("signal")
        ]
        visible = self.visible_groups()
        tension = {
            g: (round(self.mean_anger(at, k), 3) if k in visible else None) for k, g in enumerate(self.gids)
        }
        return Observation(at, self.scenario.clock_label(at), self.incidents, signals, tension)

    def metrics(self) -> dict[str, float]:
        t = min(self.env.now, self.horizon)
        self._integrate_risk(t)
        return {
            "incidents": float(self.incidents),
            "retaliations": float(self.retaliations),
            "time_to_first_retaliation": float(
                self.first_retaliation if self.first_retaliation is not None else self.horizon
            ),
            "peak_reach": self.peak_reach,
            "final_reach": self.believers / self.n,
            "peak_severity": float(self.peak_level),
            "corrected_fraction": self.corrected_count / self.n,
            "heard_fraction": self.heard / self.n,
            "never_heard_fraction": 1.0 - self.heard / self.n,
            "mean_anger_end": self.mean_anger(t),
            "peak_mean_anger": max(self.peak_mean_anger, self.mean_anger(t)),
            "police_trust_end": self.mean_trust(),
            "retaliation_risk": self.risk,
            "leaks": float(self.leaks),
            "case_damage": 1.0 if self.case_damaged else 0.0,
            "contradicted_claims": float(self.contradicted_claims),
        }
