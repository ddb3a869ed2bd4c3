"""Playing through the browser's HTTP: pages, forms, stale submits, debrief, overrides."""

from __future__ import annotations

import pytest
from markupsafe import escape

from lms.models import Attempt
from lms.services.scenario_library import scenario_of


def decide(client, attempt_id, index, options):
    return client.post(f"/play/attempts/{attempt_id}/decisions/{index}", data={"options": options})


def test_instructor_sees_the_library_and_starts_a_play(client, sign_in, instructor, library, db):
    sign_in(instructor)
    page = client.get("/play/scenarios/").get_data(as_text=True)
    assert "Trouble at the corner market" in page or library["store-dispute"].title in page
    response = client.post(f"/play/scenarios/{library['store-dispute'].id}/start")
    attempt = db.session.scalars(db.select(Attempt)).one()
    assert response.headers["Location"].endswith(f"/play/attempts/{attempt.id}")


def test_the_first_decision_page_shows_briefing_clock_and_options(
    client, sign_in, instructor, direct_attempt
):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    page = client.get(f"/play/attempts/{direct_attempt.id}").get_data(as_text=True)
    assert "Briefing" in page
    assert scenario.clock_label(scenario.decisions[0].at_hours) in page
    for option in scenario.decisions[0].options:
        assert str(escape(option.label)) in page  # as the page writes it ("don't" is "don&#39;t")


def test_deciding_moves_on_and_a_resubmit_changes_nothing(client, sign_in, instructor, direct_attempt, db):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    first = scenario.expert_path[0]
    assert decide(client, direct_attempt.id, 0, first).status_code == 302
    other = [o.id for o in scenario.decisions[0].options if [o.id] != first][:1]
    again = decide(client, direct_attempt.id, 0, other)
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already made" in page
    db.session.expire_all()
    assert db.session.get(Attempt, direct_attempt.id).choices == [first]


@pytest.mark.parametrize("options", [[], ["nope"]], ids=["nothing-chosen", "unknown-option"])
def test_a_bad_choice_is_explained_and_records_nothing(
    client, sign_in, instructor, direct_attempt, db, options
):
    sign_in(instructor)
    response = decide(client, direct_attempt.id, 0, options)
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attempt, direct_attempt.id).choices == []


def play_through(client, attempt, path):
    for index, choice in enumerate(path):
        response = decide(client, attempt.id, index, choice)
    return response


def test_finishing_shows_the_grade_and_debrief(client, sign_in, instructor, direct_attempt):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    last = play_through(client, direct_attempt, scenario.expert_path)
    assert last.headers["Location"].endswith(f"/play/attempts/{direct_attempt.id}/debrief")
    page = client.get(last.headers["Location"]).get_data(as_text=True)
    for heading in ("Passed", "Your decisions", "expert", "How the rumor spread", "hour by hour"):
        assert heading in page
    assert scenario.decisions[0].option(scenario.expert_path[0][0]).feedback.split("\n")[0][:40] in page
    # A finished attempt's play page goes to the debrief.
    assert client.get(f"/play/attempts/{direct_attempt.id}").status_code == 302


def test_what_if_projects_a_changed_decision(client, sign_in, instructor, direct_attempt):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    play_through(client, direct_attempt, scenario.expert_path)
    alternative = scenario.baseline_path[0]
    response = client.get(
        f"/play/attempts/{direct_attempt.id}/what-if", query_string={"decision": 1, "options": alternative}
    )
    assert response.status_code == 200
    assert "Projection: decision 1 changed" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", [{"decision": 99, "options": "a"}, {"decision": 1, "options": "zzz"}])
def test_what_if_with_a_bad_choice_is_explained(client, sign_in, instructor, direct_attempt, query):
    sign_in(instructor)
    play_through(client, direct_attempt, scenario_of(direct_attempt.scenario_version).expert_path)
    response = client.get(f"/play/attempts/{direct_attempt.id}/what-if", query_string=query)
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)


def test_instructor_reviews_and_overrides_with_a_reason(
    client, sign_in, instructor, officers_finished_attempt, db
):
    sign_in(instructor)
    assert officers_finished_attempt.user.name in client.get("/play/review").get_data(as_text=True)
    url = f"/play/attempts/{officers_finished_attempt.id}/grade"
    missing = client.post(url, data={"score": "90", "reason": ""}, follow_redirects=True)
    assert "Give a reason" in missing.get_data(as_text=True)
    review = client.post(url, data={"score": "90", "reason": "Called the interrupter by phone"})
    assert "Review the change" in review.get_data(as_text=True)
    client.post(url, data={"score": "90", "reason": "Called the interrupter by phone", "confirm": "Confirm"})
    page = client.get(f"/play/attempts/{officers_finished_attempt.id}/debrief").get_data(as_text=True)
    assert "Called the interrupter by phone" in page
    assert "Grade history" in page


def test_officers_cannot_see_each_others_attempts(
    client, sign_in, make_user, agency, officers_finished_attempt
):
    sign_in(make_user(agency))
    assert client.get(f"/play/attempts/{officers_finished_attempt.id}/debrief").status_code == 404


def test_officers_cannot_override(client, sign_in, officer, officers_finished_attempt):
    sign_in(officer)
    response = client.post(
        f"/play/attempts/{officers_finished_attempt.id}/grade", data={"score": "99", "reason": "x"}
    )
    assert response.status_code == 403


def test_what_if_as_you_played_is_the_debriefs_figure(client, sign_in, instructor, direct_attempt, db):
    """The what-if projects over the debrief's runs and seed: "as you played" is the same number."""
    import re

    from lms.services import measures

    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    play_through(client, direct_attempt, scenario.expert_path)
    db.session.expire_all()
    summary = db.session.get(Attempt, direct_attempt.id).grade.breakdown["distribution"]
    debrief_page = client.get(f"/play/attempts/{direct_attempt.id}/debrief").get_data(as_text=True)
    page = client.get(
        f"/play/attempts/{direct_attempt.id}/what-if",
        query_string={"decision": 1, "options": scenario.baseline_path[0]},
    ).get_data(as_text=True)
    assert f"over {summary['runs']} simulated runs" in page
    # The option projected stays selected in its form.
    changed = scenario.baseline_path[0][0]
    assert re.search(rf'name="options" value="{re.escape(changed)}" checked', page)
    shown = dict(re.findall(r'data-metric="([a-z_]+)">.*?<td class="num as-played">([^<]*)</td>', page))
    assert set(shown) == set(summary["metrics"])
    for name, text in shown.items():
        assert text == measures.format_value(name, summary["metrics"][name]["mean"])
    # The debrief leads with the same figures: its bars for your choices.
    for name in ("retaliations", "heard_fraction", "police_trust_end"):
        assert "Your choices</dt>" in debrief_page
        assert f'<span class="comparison-value">{shown[name]}</span>' in debrief_page
    from lms.services import debrief

    projection = debrief.what_if(db.session.get(Attempt, direct_attempt.id), 0, scenario.baseline_path[0])
    assert projection.runs == summary["runs"]
    assert {row.name: row.yours for row in projection.rows} == {
        name: m["mean"] for name, m in summary["metrics"].items()
    }
