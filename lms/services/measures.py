"""The engine's outcome measures in words for people: one label, unit, format and direction each.

`scenarios.METRIC_DOCS` says what a measure is for the model's readers; this module says it for
an officer, and is what the debrief, the what-if page and the grade breakdown show.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.wording import quantity

PERCENT, COUNT, SCALE, HOURS, LEVEL = "percent", "count", "scale", "hours", "level"


@dataclass(frozen=True)
class Measure:
    name: str
    label: str  # a short heading, sentence case
    doc: str  # what it means, in a sentence
    format: str  # PERCENT (a 0-1 share), COUNT, SCALE (0-1 in words), HOURS, LEVEL
    better: str  # "lower" or "higher"
    unit: str = ""  # COUNT: the thing counted, singular ("incident")

    @property
    def good_looks_like(self) -> str:
        return f"{'Lower' if self.better == 'lower' else 'Higher'} is better."


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("incidents", "Violent incidents", "Violent incidents in the whole scenario, the first one included.", COUNT, "lower", "incident"),
        Measure("retaliations", "Retaliations", "Incidents after the first one: someone striking back.", COUNT, "lower", "retaliation"),
        Measure("time_to_first_retaliation", "Time before anyone struck back", "Hours from the first incident to the first retaliation (the whole scenario if nobody did).", HOURS, "higher"),
        Measure("peak_reach", "Most people believing the rumor at once", "The largest share of the community believing the rumor at one time.", PERCENT, "lower"),
        Measure("final_reach", "People still believing the rumor at the end", "The share of the community believing the rumor when the scenario ends.", PERCENT, "lower"),
        Measure("peak_severity", "Worst version of the rumor", "The worst version of the rumor anyone believed: version 1 is the first telling, higher versions are more inflammatory.", LEVEL, "lower"),
        Measure("corrected_fraction", "People a correction convinced", "The share of the community a correction reached and convinced.", PERCENT, "higher"),
        Measure("heard_fraction", "People who heard the rumor", "The share of the community who ever heard the rumor.", PERCENT, "lower"),
        Measure("never_heard_fraction", "People who never heard the rumor", "The share of the community the rumor never reached.", PERCENT, "higher"),
        Measure("mean_anger_end", "Anger at the end", "How angry people were on average when the scenario ends.", SCALE, "lower"),
        Measure("peak_mean_anger", "Anger at its worst", "The highest average anger in the community at any time.", SCALE, "lower"),
        Measure("police_trust_end", "Trust in police at the end", "How much the community trusted police on average when the scenario ends.", SCALE, "higher"),
        Measure("retaliation_risk", "Risk of retaliation", "How many retaliations the tension made likely, even where none happened.", COUNT, "lower", "retaliation"),
        Measure("leaks", "Sensitive information leaked", "Pieces of sensitive information that traveled beyond the partner who was told.", COUNT, "lower", "piece"),
        Measure("case_damage", "Case damaged", "How often investigative detail or an operational plan got out.", PERCENT, "lower"),
        Measure("contradicted_claims", "Police claims later contradicted", "Public police claims that the facts later contradicted.", COUNT, "lower", "claim"),
    )
}  # fmt: skip


def measure(name: str) -> Measure:
    """The measure called `name`; an unknown name gets a plain label made from it."""
    found = MEASURES.get(name)
    if found is not None:
        return found
    return Measure(name, name.replace("_", " ").capitalize(), "", COUNT, "lower")


def scale_word(value: float) -> str:
    if value < 0.2:
        return "very low"
    if value < 0.4:
        return "low"
    if value < 0.6:
        return "middling"
    if value < 0.8:
        return "high"
    return "very high"


def format_value(name: str, value: float | None) -> str:
    """A measure's value as people read it: "22%", "1.2 incidents", "middling (0.52 of 1)"."""
    if value is None:
        return "not recorded"
    m = measure(name)
    if m.format == PERCENT:
        return f"{value * 100:.0f}%"
    if m.format == SCALE:
        return f"{scale_word(value)} ({value:.2f} of 1)"
    if m.format == HOURS:
        return quantity(round(value, 1), "hour")
    if m.format == LEVEL:
        return f"version {value:.1f}"
    return quantity(round(value, 2), m.unit) if m.unit else f"{round(value, 2):g}"


def format_difference(name: str, difference: float) -> str:
    """A change in a measure, signed: "+5 points of the community", "-0.3 incidents"."""
    m = measure(name)
    sign = "+" if difference > 0 else "−" if difference < 0 else "±"
    size = abs(difference)
    if m.format == PERCENT:
        return f"{sign}{size * 100:.0f} percentage points"
    if m.format == SCALE:
        return f"{sign}{size:.2f} on the 0 to 1 scale"
    if m.format == HOURS:
        return sign + quantity(round(size, 1), "hour")
    if m.format == LEVEL:
        return f"{sign}{size:.1f} versions" if round(size, 1) != 1 else f"{sign}1 version"
    return sign + format_value(name, size)


def noise(name: str) -> float:
    """The smallest difference in a measure worth a word: below it, "about the same"."""
    m = measure(name)
    return {PERCENT: 0.02, SCALE: 0.02, HOURS: 0.5, LEVEL: 0.05}.get(m.format, 0.05)


def verdict(name: str, yours: float, other: float, margin: float = 0.0) -> str:
    """ "better", "worse" or "about the same" for `yours` beside `other`: differences within
    `margin` (the runs' own noise, e.g. the 95% interval of the difference) or within the
    measure's smallest meaningful step are about the same."""
    difference = yours - other
    if abs(difference) <= max(margin, noise(name)):
        return "about the same"
    lower_is_better = measure(name).better == "lower"
    return "better" if (difference < 0) == lower_is_better else "worse"
