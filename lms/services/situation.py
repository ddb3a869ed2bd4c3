"""The officer's situation room: what each step of a scenario attempt opens with, worded for people.

Pure functions over `attempts.PlayState` and the engine's run. Only what the officer can know is
used: partners' reports (the run's signals), incidents, their own decisions, and tension in the
groups the officer can see now (`observation.tension_by_group`, None where nobody reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import scenarios as engine
from lms.services.network_picture import network_picture, who_names
from lms.wording import join_words, quantity
from scenarios.model.world import TENSION_WORDS, tension_level

STEADY = 0.03  # mean anger changes smaller than this read as "steady"

KIND_WORDS = {
    "facts": "facts",
    "concerns": "concerns",
    "investigative": "investigative detail",
    "identities": "who is involved",
    "operational": "the operational plan",
}

ASKED_TO = {
    "contact_partner": "come on board",
    "follow_up": "check back in",
    "ask_correction": "correct the rumor among the people they reach",
    "joint_message": "put out a joint message with police",
    "mediation": "mediate between {groups}",
    "keep_busy": "keep the young people of {groups} busy and away from the conflict",
    "guardianship": "keep watch where {groups} gather",
    "request_analysis": "map who is connected to whom and where the tension is",
    "support_services": "support families and high-risk people in {groups}",
    "supervision_contact": "check in with the supervised members of {groups}",
    "focused_deterrence": "warn {groups} of the consequences of more violence",
    "evaluate": "evaluate the work done",
    "hand_over": "meet the colleague who stays on",
    "acknowledge": "share a small win with the community",
}


def responds_in(delay_hours: float) -> str:
    """ "about 30 minutes", "about 1 hour", "about 1.5 hours"."""
    if delay_hours < 1:
        return "about " + quantity(round(delay_hours * 60), "minute")
    return "about " + quantity(round(delay_hours, 2), "hour")


def clock(scenario: engine.Scenario, t: float) -> str:
    """ "Sunday 02:00": the scenario's clock without the time since the event."""
    return scenario.clock_label(t).split(" (")[0]


def span_words(hours: float) -> str:
    """How long a stretch of the scenario lasted: "45 minutes", "1 hour", "2.5 hours"."""
    if hours < 1:
        return quantity(round(hours * 60), "minute")
    if hours >= 48:
        return quantity(round(hours / 24, 1), "day")
    return quantity(round(hours, 1), "hour")


def _day(scenario: engine.Scenario, t: float) -> str:
    return clock(scenario, t).split(" ")[0]


def _time_only(scenario: engine.Scenario, t: float) -> str:
    return clock(scenario, t).split(" ")[-1]


def title(play) -> str:
    """The page title of a step: "Decision 2 of 4 · Sunday 06:00 · Crew shooting rumour"."""
    scenario = play.scenario
    if play.point is None:
        return scenario.title
    return (
        f"Decision {play.index + 1} of {len(scenario.decisions)} · "
        f"{clock(scenario, play.point.at_hours)} · {scenario.title}"
    )


def _names(scenario: engine.Scenario) -> dict[str, str]:
    return {g.id: g.name for g in scenario.groups} | {p.id: p.name for p in scenario.partners}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- what partners report -----------------------------------------------------------------


@dataclass
class Report:
    """One line of what a partner told the officer, perhaps said several times."""

    time: float
    partner: str  # the partner's name
    text: str  # in their own words
    level: int  # 0 calm .. 3 volatile, or the rumour version (1-based)
    kind: str  # "tension" | "rumour" | "said" (their own words)
    groups: list[str] = field(default_factory=list)  # group ids it is about
    count: int = 1
    last: float | None = None
    when: str = ""  # "02:00" or "3 times, 02:00–05:00"


def _signal_events(run: engine.Run, start: float, end: float) -> list[engine.Event]:
    return [
        e for e in run.events if e.kind == "warning" and e.details.get("signal") and start < e.time <= end
    ]


def _is_rumour(event: engine.Event) -> bool:
    return 'people are saying "' in str(event.details.get("text", ""))


def _kind(event: engine.Event) -> tuple[str, str]:
    """ "rumour" or "tension" (reports this module words itself, grouping groups), or "said":
    anything else a partner reports, in their own words (the text after their name)."""
    if _is_rumour(event):
        return "rumour", ""
    text = str(event.details.get("text", ""))
    if ": people in " in text and event.details.get("group"):
        return "tension", ""
    return "said", _sentence(text.split(": ", 1)[1] if ": " in text else text)


def reports(
    scenario: engine.Scenario, run: engine.Run, start: float = -1.0, end: float = 1e9
) -> list[Report]:
    """Partners' reports between `start` (exclusive) and `end`, grouped for reading.

    One partner's reports at one time about several groups in the same state become one line
    ("People in the Eastside crew and the Westside crew are tense."); the same line from the
    same partner again, with nothing else from them on that subject in between, is counted
    ("3 times, 02:00–05:00") instead of repeated.
    """
    names = _names(scenario)
    levels = scenario.rumour.levels
    buckets: dict[tuple, Report] = {}
    for event in _signal_events(run, start, end):
        kind, own = _kind(event)
        level = int(event.details.get("level", 0))
        key = (event.time, event.who, kind, level, own)
        line = buckets.setdefault(key, Report(event.time, names.get(event.who, event.who), own, level, kind))
        if event.details.get("group"):
            line.groups.append(event.details["group"])
    lines: list[Report] = []
    previous: dict[tuple[str, str], Report] = {}
    for line in buckets.values():
        groups = join_words([names.get(g, g) for g in line.groups]) or "the groups they reach"
        if line.kind == "rumour":
            version = levels[line.level - 1] if 0 < line.level <= len(levels) else ""
            line.text = _sentence(f"in {groups} people are saying “{version.rstrip('.')}.”")
        elif line.kind == "tension":
            line.text = _sentence(f"people in {groups} are {TENSION_WORDS[min(line.level, 3)]}.")
        before = previous.get((line.partner, line.kind))
        if before is not None and before.text == line.text:
            before.count += 1
            before.last = line.time
            continue
        previous[(line.partner, line.kind)] = line
        lines.append(line)
    # The day too when the stretch crosses midnight (a call-in's decisions are days apart).
    days = {
        clock(scenario, t).split(" ")[0] for line in lines for t in (line.time, line.last) if t is not None
    }
    stamp = clock if len(days) > 1 else _time_only
    for line in lines:
        if line.count > 1:
            span = f"{stamp(scenario, line.time)}–{stamp(scenario, line.last)}"
            line.when = f"{line.count} times, {span}"
        else:
            line.when = stamp(scenario, line.time)
    return lines


# --- what changed -----------------------------------------------------------------------


@dataclass
class TensionChange:
    group: str  # name
    before: str | None  # "uneasy"; None: not visible at the previous decision
    now: str
    direction: str  # "up" | "down" | "steady" | "new"
    text: str


def tension_changes(
    scenario: engine.Scenario,
    now: dict[str, float | None],
    before: dict[str, float | None] | None,
) -> list[TensionChange]:
    """Tension per group the officer can see now, against the previous decision. Groups not
    visible now are left out, whatever the previous decision showed."""
    changes = []
    for group in scenario.groups:
        value = now.get(group.id)
        if value is None:
            continue
        word = TENSION_WORDS[tension_level(value)]
        old = None if before is None else before.get(group.id)
        if old is None:
            changes.append(TensionChange(group.name, None, word, "new", f"{word} (a partner can see it now)"))
            continue
        old_word = TENSION_WORDS[tension_level(old)]
        if value - old >= STEADY:
            direction = "up"
            text = f"up from {old_word} to {word}" if old_word != word else f"up a little, still {word}"
        elif old - value >= STEADY:
            direction = "down"
            text = f"down from {old_word} to {word}" if old_word != word else f"down a little, still {word}"
        else:
            direction, text = "steady", f"steady, {word}"
        changes.append(TensionChange(group.name, old_word, word, direction, text))
    return changes


@dataclass
class Happening:
    time: float
    when: str  # "Sunday 02:10"
    kind: str  # "Incident" | "Partner" | "Correction" | "Your decision" | "Report"
    text: str


def _violence_text(scenario: engine.Scenario, event: engine.Event) -> str:
    names = _names(scenario)
    by, against = event.details.get("by"), event.details.get("against")
    if by and against:
        text = f"{names.get(by, by)} against {names.get(against, against)}."
        return text if event.kind == "incident" else "Retaliation: " + text
    return "A retaliation." if event.kind == "retaliation" else "An incident."


def happenings(scenario: engine.Scenario, run: engine.Run, start: float, end: float) -> list[Happening]:
    """Incidents, partners' news and corrections between `start` (exclusive) and `end`."""
    found = []
    for event in run.events:
        if not start < event.time <= end:
            continue
        if event.kind in ("incident", "retaliation"):
            kind, text = "Incident", _violence_text(scenario, event)
        elif event.kind == "partner_action" and event.details.get("text"):
            kind, text = "Partner", str(event.details["text"])
        elif event.kind == "correction":
            kind, text = "Correction", f"{who_names(scenario, event.who)} put out the correction."
        else:
            continue
        found.append(Happening(event.time, clock(scenario, event.time), kind, text))
    return found


@dataclass
class RumourNews:
    version: str | None  # the most severe version partners have reported, None if none
    number: int
    of: int
    groups: list[str]  # names of the groups where partners heard it

    @property
    def where(self) -> str:
        return join_words(self.groups)


def rumour_news(scenario: engine.Scenario, run: engine.Run) -> RumourNews:
    """The rumour as the officer knows it: only what partners have reported so far."""
    names = _names(scenario)
    heard = [e for e in _signal_events(run, -1.0, 1e9) if _is_rumour(e)]
    levels = scenario.rumour.levels
    if not heard:
        return RumourNews(None, 0, len(levels), [])
    top = max(int(e.details.get("level", 0)) for e in heard)
    groups = [names.get(e.details.get("group"), "") for e in heard if e.details.get("group")]
    return RumourNews(levels[top - 1], top, len(levels), list(dict.fromkeys(g for g in groups if g)))


# --- the recap opening each step ---------------------------------------------------------


@dataclass
class Recap:
    heading: str
    start: float
    end: float
    reports: list[Report]
    tension: list[TensionChange]
    happenings: list[Happening]
    incidents: int  # incidents since the previous decision
    rumour: RumourNews


def previous_observation(play) -> engine.Observation | None:
    """What the officer saw at the previous decision: taken during the replay to this one
    (``run.earlier``), or the attempt replayed to it."""
    if play.index == 0:
        return None
    if play.run is not None and len(play.run.earlier) >= play.index:
        return play.run.earlier[play.index - 1]
    choices = play.attempt.choices[: play.index - 1]
    return engine.simulate(
        play.scenario, choices, play.attempt.seed, stop_at_decision=play.index - 1
    ).observation


def recap(play, before: engine.Observation | None = None) -> Recap | None:
    """What opens the step: since the previous decision (or since the start, at decision 1)."""
    if play.run is None or play.point is None:
        return None
    scenario, run = play.scenario, play.run
    end = play.point.at_hours
    if play.index == 0:
        start, heading = -1.0, f"Where things stand ({clock(scenario, end)})"
    else:
        before = before if before is not None else previous_observation(play)
        start = scenario.decisions[play.index - 1].at_hours
        heading = (
            f"Since your last decision: {clock(scenario, start)} to "
            f"{_time_only(scenario, end) if _day(scenario, start) == _day(scenario, end) else clock(scenario, end)}"
            f" ({span_words(end - start)})"
        )
    news = happenings(scenario, run, start, end)
    return Recap(
        heading,
        start,
        end,
        reports(scenario, run, start, end),
        tension_changes(
            scenario, run.observation.tension_by_group, before.tension_by_group if before else None
        ),
        news,
        sum(1 for h in news if h.kind == "Incident"),
        rumour_news(scenario, run),
    )


def timeline(play) -> list[Happening]:
    """Everything the officer has seen so far, oldest first: reports (grouped as in the recap),
    incidents, partners' news and their own decisions."""
    if play.run is None:
        return []
    scenario, run = play.scenario, play.run
    end = play.point.at_hours if play.point is not None else 1e9
    entries = happenings(scenario, run, -1.0, end)
    for line in reports(scenario, run, -1.0, end):
        entries.append(Happening(line.time, line.when, "Report", f"{line.partner}: {line.text}"))
    for point, chosen in zip(scenario.decisions, play.attempt.choices, strict=False):
        labels = [point.option(o).label for o in chosen if point.option(o)]
        entries.append(
            Happening(point.at_hours, clock(scenario, point.at_hours), "Your decision", "; ".join(labels))
        )
    order = {"Your decision": 0}
    return sorted(entries, key=lambda e: (e.time, order.get(e.kind, 1)))


# --- partners ---------------------------------------------------------------------------


@dataclass
class PartnerNote:
    name: str
    kind: str  # the partner type, for people
    responds: str  # "about 1 hour"
    asked: list[str]
    told: list[str]


def _action_partners(action: engine.Action) -> list[str]:
    found = []
    for key in ("partner", "partners", "alongside"):
        value = action.args.get(key)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(v for v in value if isinstance(v, str))
    return found


def partners(play) -> list[PartnerNote]:
    """Each partner of the scenario, with what the officer has asked of them and told them so far."""
    scenario = play.scenario
    names = _names(scenario)
    notes = {
        p.id: PartnerNote(
            p.name,
            engine.PARTNER_TYPES[p.type].label if p.type in engine.PARTNER_TYPES else p.type,
            responds_in(p.delay_hours),
            [],
            [],
        )
        for p in scenario.partners
    }
    for point, chosen in zip(scenario.decisions, play.attempt.choices, strict=False):
        for option_id in chosen:
            option = point.option(option_id)
            for action in option.actions if option else ():
                groups = action.args.get("groups") or [action.args.get("group")]
                group_names = join_words([names.get(g, g) for g in groups if g]) or "the groups"
                phrase = ASKED_TO.get(action.type, "take part in your plan").format(groups=group_names)
                for partner_id in _action_partners(action):
                    note = notes.get(partner_id)
                    if note is None:
                        continue
                    if phrase not in note.asked:
                        note.asked.append(phrase)
                    for kind in action.args.get("share") or ():
                        word = KIND_WORDS.get(kind, kind)
                        if word not in note.told:
                            note.told.append(word)
    return list(notes.values())


def picture(play) -> dict | None:
    """The community so far, drawn only for the groups the officer can see now."""
    if play.run is None:
        return None
    visible = {g for g, value in play.run.observation.tension_by_group.items() if value is not None}
    known: dict[str, tuple[float, int]] = {}
    for event in _signal_events(play.run, -1.0, play.run.observation.time):
        group = event.details.get("group")
        if _is_rumour(event) and group in visible:
            until, worst = known.get(group, (-1.0, 0))
            known[group] = (max(until, event.time), max(worst, int(event.details.get("level", 0))))
    return network_picture(play.scenario, play.run, visible=visible, known=known)


def room(play) -> dict:
    """Everything the play page shows beside the decision form."""
    return {
        "page_title": title(play),
        "recap": recap(play),
        "partners": partners(play),
        "timeline": timeline(play),
        "picture": picture(play),
    }
