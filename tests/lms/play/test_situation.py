"""The situation room's recap, reports, wording and picture (lms/services/situation.py,
lms/services/network_picture.py), over real runs of library scenarios."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import scenarios as engine
from lms.services import network_picture as picture_module
from lms.services import situation
from lms.services.attempts import PlayState

SEED = 7


@pytest.fixture(scope="module")
def crew():
    return engine.load_scenario(engine.library_path() / "crew-shooting-rumour.yaml")


def play_at(scenario, choices, index, seed=SEED):
    attempt = SimpleNamespace(choices=[list(c) for c in choices[:index]], seed=seed, number=1)
    run = engine.simulate(scenario, attempt.choices, seed, stop_at_decision=index)
    return PlayState(attempt, scenario, index, run)


@pytest.mark.parametrize(
    ("hours", "text"),
    [(0.5, "about 30 minutes"), (1, "about 1 hour"), (1.5, "about 1.5 hours"), (2, "about 2 hours")],
)
def test_a_partners_delay_is_worded_with_the_right_unit(hours, text):
    assert situation.responds_in(hours) == text


def test_the_title_names_the_step_the_clock_and_the_scenario(crew):
    play = play_at(crew, crew.expert_path, 1)
    assert situation.title(play) == f"Decision 2 of {len(crew.decisions)} · Sunday 02:00 · {crew.title}"


def test_repeated_reports_become_one_line_with_a_count_and_a_span(crew):
    def said(time, level):
        text = "Marcus Reed (Safe Streets outreach): people in the Eastside crew are tense."
        details = {"signal": True, "group": "east_crew", "level": level, "text": text}
        return engine.Event(time, "warning", "outreach", details)

    run = SimpleNamespace(events=[said(3.0, 2), said(4.0, 2), said(6.0, 2), said(7.0, 1)])
    lines = situation.reports(crew, run)
    assert [(line.text, line.when) for line in lines] == [
        ("People in the Eastside crew are tense.", "3 times, 02:00–05:00"),
        ("People in the Eastside crew are uneasy.", "06:00"),
    ]
    assert lines[0].partner == "Marcus Reed (Safe Streets outreach)"


def test_one_partners_reports_about_several_groups_at_once_are_one_line(crew):
    play = play_at(crew, crew.expert_path, 2)
    signals = [s for s in play.run.observation.signals if 0.5 < s.time <= 3.0]
    lines = situation.reports(crew, play.run, 0.5, 3.0)
    assert 0 < len(lines) < len(signals)
    joined = [line for line in lines if " and " in line.text]
    assert joined and joined[0].text.startswith(
        "In east-block families and west-block families people are saying"
    )
    for line in lines:  # no engine ids or raw action names
        assert "_" not in line.text and "+" not in line.text


def test_the_recap_between_decisions_2_and_3_is_short(crew):
    play = play_at(crew, crew.expert_path, 2)
    recap = situation.recap(play)
    assert recap.heading == (
        f"Since your last decision: {situation.clock(crew, 3)} to {situation.clock(crew, 5).split(' ')[-1]} (2 hours)"
    )
    assert len(recap.reports) <= 8
    texts = [(line.partner, line.text) for line in recap.reports]
    assert len(texts) == len(set(texts))


def test_tension_changes_leave_out_groups_not_visible_now(crew):
    now = {"east_crew": 0.45, "west_crew": None, "east_families": 0.2}
    before = {"east_crew": 0.3, "west_crew": 0.7, "east_families": None}
    changes = situation.tension_changes(crew, now, before)
    assert [(c.group, c.direction, c.text) for c in changes] == [
        ("the Eastside crew", "up", "up from uneasy to tense"),
        ("east-block families", "new", "calm (a partner can see it now)"),
    ]


def test_the_recap_compares_tension_with_the_previous_decision(crew):
    play = play_at(crew, crew.expert_path, 2)
    before = play_at(crew, crew.expert_path, 1).run.observation.tension_by_group
    recap = situation.recap(play)
    now = play.run.observation.tension_by_group
    visible = [g.name for g in crew.groups if now[g.id] is not None]
    assert [c.group for c in recap.tension] == visible
    east = next(c for c in recap.tension if c.group == "the Eastside crew")
    assert east.before == situation.TENSION_WORDS[situation.tension_level(before["east_crew"])]


def test_without_partners_the_officer_hears_nothing_of_the_rumour(crew):
    alone = [["b"], ["c"], ["a"], ["d"], ["b"]]
    play = play_at(crew, alone, 2)
    assert play.run.spread, "the rumour spreads all the same"
    recap = situation.recap(play)
    assert recap.rumour.version is None and recap.reports == []
    assert recap.tension == []
    picture = situation.picture(play)
    assert picture["tellings"] == [] and all(not shown for *_, shown in picture["people"])


def test_the_rumour_news_is_the_worst_version_partners_reported(crew):
    play = play_at(crew, crew.expert_path, 2)
    news = situation.rumour_news(crew, play.run)
    reported = [s.level for s in play.run.observation.signals if 'people are saying "' in s.text]
    assert news.number == max(reported) and news.version == crew.rumour.levels[news.number - 1]
    assert news.of == len(crew.rumour.levels)
    assert news.where == ", ".join(news.groups[:-1]) + " and " + news.groups[-1]


def test_partners_show_what_they_were_asked_and_told_in_plain_words(crew):
    play = play_at(crew, crew.expert_path, 2)
    notes = {note.name: note for note in situation.partners(play)}
    marcus = notes["Marcus Reed (Safe Streets outreach)"]
    assert marcus.asked[0] == "come on board" and marcus.told == ["facts", "concerns"]
    assert marcus.responds == "about 1 hour"
    assert notes["Council member Ana Price"].asked == []


def test_the_timeline_so_far_has_decisions_and_no_engine_words(crew):
    play = play_at(crew, crew.expert_path, 3)
    entries = situation.timeline(play)
    assert [e.kind for e in entries].count("Your decision") == 3
    for entry in entries:
        assert not re.search(r"\b\w+_\w+\b|\w\+\w", entry.text), entry.text
    assert [e.time for e in entries] == sorted(e.time for e in entries)


def test_a_joint_correction_names_everyone_in_words(crew):
    assert (
        picture_module.who_names(crew, "police+pastor+block_captain")
        == "Police, Pastor Denise Hall (Greater Hope) and Luis Ortega (block captain)"
    )


def test_the_picture_has_when_each_person_heard_and_corrections_by_group(crew):
    run = engine.simulate(crew, crew.expert_path, SEED)
    pic = picture_module.network_picture(crew, run)
    assert len(pic["people"]) == crew.population
    first_heard = {}
    for time, _, to, level in run.spread:
        first_heard.setdefault(to, (time, level))
    for index, (_, _, _, held, at, first, shown) in enumerate(pic["people"]):
        assert shown and (at, first) == first_heard.get(index, (None, 0))
        assert held >= first
    assert [t[5] for t in pic["tellings"]] == [t for t, a, *_ in run.spread if a >= 0]
    corrected = sum(e.details["corrected"] for e in run.events if e.kind == "correction")
    assert pic["corrections"] and sum(c[3] for c in pic["corrections"]) == corrected
    assert sum(g["corrected"] for g in pic["groups"]) == corrected


def test_the_picture_for_play_shows_only_the_groups_in_view(crew):
    run = engine.simulate(crew, crew.expert_path[:1], SEED, stop_at_decision=1)
    pic = picture_module.network_picture(crew, run, visible={"east_crew"})
    for _, _, group, held, at, _, shown in pic["people"]:
        assert shown == (crew.groups[group].id == "east_crew")
        assert shown or (held == 0 and at is None)
    assert [g["shown"] for g in pic["groups"]] == [g.id == "east_crew" for g in crew.groups]
    assert "in the groups your partners can see" in pic["summary"]


@pytest.mark.parametrize("at", [1, 2, 3, 4])
def test_the_play_picture_draws_only_what_partners_have_reported(crew, at):
    play = play_at(crew, crew.expert_path, at)
    pic = situation.picture(play)
    reported = situation.rumour_news(crew, play.run).number
    drawn = [held for *_, held, _, _, shown in pic["people"] if shown and held]
    assert all(level <= reported for level in drawn)
    assert all(g["level"] <= reported for g in pic["groups"] if g["shown"])
    if reported == 0:
        assert not drawn and all(g.get("heard", 0) == 0 for g in pic["groups"])
    latest = max((s.time for s in play.run.observation.signals), default=-1.0)
    assert all(t[5] <= latest for t in pic["tellings"])


def test_before_any_partner_the_picture_says_so(crew):
    play = play_at(crew, crew.expert_path, 0)
    assert situation.picture(play)["summary"].startswith("None of your partners can see any group yet")
