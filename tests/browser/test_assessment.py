"""An officer takes a drawn, shuffled knowledge check and makes a scenario decision whose
options are shown in the attempt's own order, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from lms.services import attempts, learning
from lms.services.scenario_library import scenario_of
from tests.lms.learning_fixtures import enrol, publish
from tests.lms.test_assessment_integrity import assessed_course


def test_officer_takes_a_shuffled_check_and_a_shuffled_scenario_decision(
    page, sign_in_as, axe_violations, officer, db, library
):
    assignment = enrol(officer, publish(assessed_course()))
    learning.mark_lesson_read(officer, assignment, "intro")
    db.session.commit()
    item = learning.item_of(assignment, "pool-check")[1]
    shown = learning.presented(assignment, item)
    sign_in_as(officer)

    page.goto(f"/learn/assignments/{assignment.id}/items/pool-check")
    expect(page.get_by_text("Each attempt draws 4 of 8 questions")).to_be_visible()
    legends = page.locator("fieldset.question")
    expect(legends).to_have_count(4)
    for index, presented in enumerate(shown):
        question = legends.nth(index)
        expect(question.locator(".prompt")).to_have_text(presented.question.prompt)
        labels = [presented.question.choices[i].text for i in presented.choice_order]
        expect(question.locator("label.check span")).to_have_text(labels)  # the attempt's order
        right = next(c.text for c in presented.question.choices if c.correct)
        question.get_by_label(right, exact=True).check()
    assert axe_violations() == []
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_text("You passed with 100%.")).to_be_visible()
    expect(page.get_by_role("heading", name="Attempt 1: 100% — passed")).to_be_visible()

    page.goto(f"/learn/assignments/{assignment.id}/items/final")  # the final check and its case
    expect(page.get_by_text("This is the course's final check")).to_be_visible()
    expect(page.locator(".question .case strong")).to_have_text("the crew is back")
    assert axe_violations() == []

    page.goto(f"/learn/assignments/{assignment.id}/items/practice-scenario")
    page.get_by_role("button", name="Start attempt").click()
    expect(page.get_by_role("heading", name="Decision 1 of")).to_be_visible()
    attempt = db.session.scalars(
        db.select(attempts.Attempt).where(attempts.Attempt.assignment_id == assignment.id)
    ).one()
    scenario = scenario_of(attempt.scenario_version)
    point = scenario.decisions[0]
    order = [o.label for o in attempts.shown_options(attempt, point)]
    expect(page.locator("ul.options label.option span")).to_have_text(order)
    page.reload()  # the same attempt replays the same order
    expect(page.locator("ul.options label.option span")).to_have_text(order)
    for option_id in scenario.expert_path[0]:
        page.get_by_label(point.option(option_id).label, exact=True).check()
    page.get_by_role("button", name="Decide and continue").click()
    expect(page.get_by_role("heading", name="Decision 2 of")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(attempts.Attempt, attempt.id).choices[0] == list(scenario.expert_path[0])
