"""The play page as a situation room, over HTTP: the redirect lands on the recap, the title
names the step, the panels and the picture are there without JavaScript."""

from __future__ import annotations

from markupsafe import escape

from lms.services.scenario_library import scenario_of


def decide(client, attempt_id, index, options):
    return client.post(f"/play/attempts/{attempt_id}/decisions/{index}", data={"options": options})


def test_a_decision_lands_on_the_recap_and_the_title_names_the_step(
    client, sign_in, instructor, direct_attempt
):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    response = decide(client, direct_attempt.id, 0, scenario.expert_path[0])
    assert response.headers["Location"].endswith(f"/play/attempts/{direct_attempt.id}#recap")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    clock = scenario.clock_label(scenario.decisions[1].at_hours).split(" (")[0]
    title = f"Decision 2 of {len(scenario.decisions)} · {clock} · {scenario.title}"
    assert f"<title>{escape(title)} · Ripple</title>" in page
    assert 'id="recap" tabindex="-1" role="status" aria-live="polite"' in page
    assert "Since your last decision: " in page
    assert '<details class="card panel" id="briefing-panel">' in page  # closed after decision 1
    assert "Partners you can work with" in page and "Everything so far" in page


def test_the_first_step_opens_the_briefing_and_words_delays_for_people(
    client, sign_in, instructor, direct_attempt
):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    page = client.get(f"/play/attempts/{direct_attempt.id}").get_data(as_text=True)
    assert '<details class="card panel" id="briefing-panel" open>' in page
    assert "1 hours" not in page and " 1.0 " not in page
    for partner in scenario.partners:
        hours = partner.delay_hours
        unit = f"{round(hours * 60)} minutes" if hours < 1 else f"{hours:g} hour{'s' * (hours != 1)}"
        assert f"responds in about {unit}" in page


def test_the_decision_form_says_what_it_is_busy_with(client, sign_in, instructor, direct_attempt):
    sign_in(instructor)
    scenario = scenario_of(direct_attempt.scenario_version)
    page = client.get(f"/play/attempts/{direct_attempt.id}").get_data(as_text=True)
    assert 'data-busy-label="Simulating the next hours…"' in page
    for index, choice in enumerate(scenario.expert_path[:-1]):
        decide(client, direct_attempt.id, index, choice)
    page = client.get(f"/play/attempts/{direct_attempt.id}").get_data(as_text=True)
    assert 'data-busy-label="Grading your attempt…"' in page


def test_the_debrief_draws_the_whole_run_with_its_table(client, sign_in, officer, officers_finished_attempt):
    sign_in(officer)
    page = client.get(f"/play/attempts/{officers_finished_attempt.id}/debrief").get_data(as_text=True)
    assert 'id="debrief-network"' in page and "Who heard the rumor, by group" in page
    assert "Replay the spread" in page and "Not visible to you" not in page


def test_the_picture_of_the_largest_library_scenario_stays_small(app):
    """Every person is a circle and every telling a line: for the biggest community in the
    library the whole run's figure stays a light page (well under 200 KB of HTML)."""
    from flask import render_template_string

    import scenarios as engine
    from lms.services.network_picture import network_picture

    largest = max((engine.load_scenario(path) for path in engine.list_library()), key=lambda s: s.population)
    run = engine.simulate(largest, largest.expert_path, 7)
    pic = network_picture(largest, run)
    with app.test_request_context():
        html = render_template_string(
            '{% from "play/_network.html" import network_figure %}{{ network_figure(pic, "n", 0, end) }}',
            pic=pic,
            end=largest.grading.horizon_hours,
        )
    assert html.count("<circle") >= largest.population
    assert len(html.encode()) < 200_000
