"""The Today board: what each figure counts, the lists behind them, and the actions on rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from lms.models import (
    Assignment,
    Attempt,
    AttemptGrade,
    AuditEvent,
    Certificate,
    DueDateChange,
    OutboxMessage,
    Role,
    Unit,
)
from lms.services import certificates, compliance, today
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

TODAY = date.today()  # the pages use the real date


@pytest.fixture
def course(app):
    return publish(course_data(slug="board-course", title="Board Course"))


@pytest.fixture
def squad(db, agency):
    unit = Unit(agency_id=agency.id, code="SQ", name="Squad Seven", parent_id=agency.units[0].id)
    db.session.add(unit)
    db.session.commit()
    return unit


@pytest.fixture
def department(db, agency, make_user, course, squad):
    """Two overdue, one due in three days, one due next month, one with nothing assigned."""
    people = [
        make_user(agency, name=f"Officer {n}", badge_number=f"77{n}", unit_id=squad.id) for n in range(5)
    ]
    enrol(people[0], course, due_on=TODAY - timedelta(days=10))
    enrol(people[1], course, due_on=TODAY - timedelta(days=1))
    enrol(people[2], course, due_on=TODAY + timedelta(days=3))
    enrol(people[3], course, due_on=TODAY + timedelta(days=40))
    return people


def board(agency, **kw):
    return today.figures(today.Scope(agency, **kw), today=TODAY)


def assignment_of(db, person):
    return db.session.scalars(select(Assignment).where(Assignment.user_id == person.id)).one()


def test_the_board_counts_what_needs_doing(db, agency, department):
    figures = board(agency)
    assert (figures.overdue, figures.due_week, figures.unassigned) == (2, 1, 1)
    assert (figures.completed, figures.assignments, figures.officers) == (0, 4, 5)


@pytest.mark.parametrize("key", ["overdue", "due_week", "unassigned"])
def test_every_figure_lists_exactly_what_it_counts(db, agency, department, key):
    rows, total = today.rows_of(today.Scope(agency), key, today=TODAY)
    assert total == len(rows) == board(agency).count(key)


def test_the_overdue_list_names_officer_badge_unit_course_and_due_date(
    client, sign_in, coordinator, agency, department
):
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/today?list=overdue").get_data(as_text=True)
    due = TODAY - timedelta(days=10)
    for text in ("Officer 0", "770", "Squad Seven", "Board Course", f"{due:%b} {due.day}, {due.year}"):
        assert text in page


def test_the_board_says_what_each_number_counts(client, sign_in, coordinator, agency, department):
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/today").get_data(as_text=True)
    assert "0 of 4 assignments completed" in page
    for key in today.LISTS:
        assert f"?list={key}" in page


def test_an_unknown_list_is_a_clear_400(client, sign_in, coordinator, agency):
    response = sign_in(coordinator).get(f"/agencies/{agency.id}/today?list=everything")
    assert response.status_code == 400 and "must be one of" in response.get_data(as_text=True)


def test_the_coordinators_home_shows_the_board(client, sign_in, coordinator, agency, department):
    page = sign_in(coordinator).get("/").get_data(as_text=True)
    assert f"/agencies/{agency.id}/today" in page and "assignments past their due date" in page


def test_a_supervisor_sees_only_their_direct_reports(db, agency, make_user, course, client, sign_in):
    boss = make_user(agency)
    mine = make_user(agency, supervisor_id=boss.id)
    enrol(mine, course, due_on=TODAY - timedelta(days=2))
    enrol(make_user(agency), course, due_on=TODAY - timedelta(days=2))
    assert board(agency, supervisor=boss).overdue == 1
    page = sign_in(boss).get("/team/today?list=overdue").get_data(as_text=True)
    assert mine.name in page and mine.badge_number in page


def _act(client, agency, key, **data):
    return client.post(f"/agencies/{agency.id}/today/actions?list={key}", data=data)


def test_extending_moves_the_due_date_and_keeps_the_history(
    db, client, sign_in, coordinator, agency, department
):
    sign_in(coordinator)
    picks = [str(assignment_of(db, p).id) for p in department[:2]]
    new_due = TODAY + timedelta(days=14)
    response = _act(client, agency, "overdue", action="extend", pick=picks, new_due=new_due.isoformat(),
                    reason="Court week")  # fmt: skip
    assert response.status_code == 302
    assert board(agency).overdue == 0
    assert assignment_of(db, department[0]).due_on == new_due
    change = db.session.scalars(select(DueDateChange).order_by(DueDateChange.id)).first()
    assert (change.old_due_on, change.new_due_on, change.reason) == (
        TODAY - timedelta(days=10),
        new_due,
        "Court week",
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.extended")).first()
    assert event.before == {"due_on": (TODAY - timedelta(days=10)).isoformat()}


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"action": "extend", "new_due": (TODAY - timedelta(days=1)).isoformat(), "reason": "x"},
            "cannot be in the past",
        ),
        (
            {"action": "extend", "new_due": (TODAY + timedelta(days=5)).isoformat(), "reason": "  "},
            "Give a reason",
        ),
        ({"action": "extend", "reason": "Court"}, "Enter the new due date"),
        ({"action": "excuse", "reason": ""}, "Give a reason"),
    ],
)
def test_bad_actions_are_refused_and_change_nothing(
    db, client, sign_in, coordinator, agency, department, data, message
):
    sign_in(coordinator)
    pick = str(assignment_of(db, department[0]).id)
    response = _act(client, agency, "overdue", pick=[pick], **data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert assignment_of(db, department[0]).due_on == TODAY - timedelta(days=10)
    assert assignment_of(db, department[0]).status == "assigned"


def test_another_agencys_assignment_is_refused(
    db, client, sign_in, coordinator, agency, make_agency, make_user, course
):
    other = make_user(make_agency("Other PD"))
    theirs = enrol(other, course, due_on=TODAY - timedelta(days=3))
    sign_in(coordinator)
    response = _act(client, agency, "overdue", action="excuse", pick=[str(theirs.id)], reason="Mine now")
    assert response.status_code == 400 and "not assignments of your agency" in response.get_data(as_text=True)
    assert db.session.get(Assignment, theirs.id).status == "assigned"


def test_an_excused_assignment_stops_counting_everywhere_and_shows_why(
    db, client, sign_in, coordinator, agency, department
):
    sign_in(coordinator)
    person = department[0]
    _act(
        client,
        agency,
        "overdue",
        action="excuse",
        pick=[str(assignment_of(db, person).id)],
        reason="On medical leave",
    )
    assert board(agency).overdue == 1
    totals = compliance.overview(agency, compliance.Filters(), today=TODAY).totals
    assert (totals.overdue, totals.assignments) == (1, 3)
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Excused" in page and "On medical leave" in page


def test_remind_now_queues_one_message_a_day(db, client, sign_in, coordinator, agency, department):
    sign_in(coordinator)
    pick = [str(assignment_of(db, department[0]).id)]
    _act(client, agency, "overdue", action="remind", pick=pick)
    response = _act(client, agency, "overdue", action="remind", pick=pick)
    assert response.status_code == 302
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).all()
    assert [(m.user_id, m.subject) for m in messages] == [(department[0].id, "Reminder: Board Course")]


def test_assigning_from_the_nothing_assigned_list(
    db, client, sign_in, coordinator, agency, department, course
):
    sign_in(coordinator)
    person, before = department[4], board(agency).unassigned
    response = _act(client, agency, "unassigned", action="assign", person=[str(person.id)], course=str(course.id),
                    due_on=(TODAY + timedelta(days=30)).isoformat())  # fmt: skip
    assert response.status_code == 302
    assert assignment_of(db, person).due_on == TODAY + timedelta(days=30)
    assert board(agency).unassigned == before - 1


@pytest.fixture
def renewable(db, officer):
    """A certificate expiring in 20 days whose course renews through a refresher."""
    publish(course_data(slug="refresher", title="Refresher", certificate_valid_months=24))
    main = publish(course_data(slug="main", renewal={"course": "refresher", "window_days": 90}))
    pass_course(officer, enrol(officer, main))
    certificate = db.session.scalar(select(Certificate))
    certificate.expires_on = TODAY + timedelta(days=20)
    db.session.commit()
    return certificate


def test_a_renewed_certificate_no_longer_counts_as_expiring(db, agency, officer, renewable):
    assert board(agency).expiring_30 == 1
    assert compliance.overview(agency, compliance.Filters(), today=TODAY).totals.expiring_30 == 1
    [renewal] = certificates.renew_due(TODAY)
    pass_course(officer, renewal)
    assert board(agency).expiring_30 == 0
    assert compliance.overview(agency, compliance.Filters(), today=TODAY).totals.expiring_90 == 0


def _graded(db, person, version, passed: bool) -> Attempt:
    attempt = Attempt(agency_id=person.agency_id, user_id=person.id, scenario_version_id=version.id, seed=1,
                      status="completed", completed_at=datetime.now(UTC))  # fmt: skip
    db.session.add(attempt)
    db.session.flush()
    db.session.add(AttemptGrade(attempt_id=attempt.id, agency_id=person.agency_id, score=80 if passed else 30,
                                passed=passed, breakdown={}))  # fmt: skip
    db.session.commit()
    return attempt


def test_a_failed_scenario_counts_until_it_is_passed(db, agency, officer, store_dispute):
    _graded(db, officer, store_dispute, passed=False)
    assert board(agency).failed == 1
    rows, _ = today.rows_of(today.Scope(agency), "failed", today=TODAY)
    assert [r.officer.id for r in rows] == [officer.id]
    _graded(db, officer, store_dispute, passed=True)
    assert board(agency).failed == 0


def _queries(database, fn) -> int:
    count = 0

    def on_execute(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(database.engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(database.engine, "before_cursor_execute", on_execute)
    return count


@pytest.mark.parametrize(
    "path", ["", "?list=overdue", "?list=expiring_90", "?list=unassigned", "?list=failed"]
)
def test_the_board_and_its_lists_run_a_fixed_number_of_queries(
    app, db, client, sign_in, coordinator, agency, make_user, course, path
):
    sign_in(coordinator)
    url = f"/agencies/{agency.id}/today{path}"

    def grow(n):
        for _ in range(n):
            enrol(make_user(agency, unit_id=agency.units[0].id), course, due_on=TODAY - timedelta(days=1))
            make_user(agency)

    grow(3)
    client.get(url)
    small = _queries(db, lambda: client.get(url))
    grow(30)
    assert _queries(db, lambda: client.get(url)) == small


# --- manual assignment and rule preview -------------------------------------------------


def test_assign_lists_officers_of_a_unit_with_badge_and_unit(
    client, sign_in, coordinator, agency, department, make_user
):
    make_user(agency, name="Elsewhere Person")
    squad = department[0].unit_id
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/assign?unit={squad}").get_data(as_text=True)
    assert "5 officers match" in page and "badge 770" in page and "Elsewhere Person" not in page


def test_assign_searches_by_badge(client, sign_in, coordinator, agency, department):
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/assign?q=773").get_data(as_text=True)
    assert "1 officer matches" in page and "Officer 3" in page


def test_assign_to_everyone_matching(db, client, sign_in, coordinator, agency, department):
    other = publish(course_data(slug="other-course", title="Other Course"))
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/assign?unit={department[0].unit_id}",
        data={
            "course": str(other.id),
            "all_matching": "y",
            "due_on": (TODAY + timedelta(days=9)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).where(Assignment.course_id == other.id)) == 5


def test_assign_refuses_a_past_due_date(db, client, sign_in, coordinator, agency, department, course):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/assign",
        data={"course": str(course.id), "officers": [str(department[4].id)], "due_on": "2001-01-01"},
    )
    assert response.status_code == 400 and "cannot be in the past" in response.get_data(as_text=True)


def test_rule_preview_says_whom_it_matches_and_saves_nothing(
    db, client, sign_in, coordinator, agency, department, course
):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/rules",
        data={"course": str(course.id), "unit": str(department[0].unit_id), "due_days": "30",
              "due_from": "assignment", "recurrence": "none", "preview": "1"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This rule matches 5 officers" in page and "4 of them already have the course" in page
    assert "Save and apply to 1 person" in page and "Officer 4" in page
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 4


def test_the_officer_lists_show_badges_and_overdue_courses(client, sign_in, coordinator, agency, department):
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/compliance/officers?status=overdue")
    text = page.get_data(as_text=True)
    assert "770" in text and "Board Course" in text


def test_the_team_page_shows_badges(db, client, sign_in, agency, make_user):
    boss = make_user(agency, (Role.OFFICER,))
    make_user(agency, supervisor_id=boss.id, badge_number="4242")
    assert "4242" in sign_in(boss).get("/team").get_data(as_text=True)


def test_excused_training_is_exported_with_its_reason(db, coordinator, agency, department):
    from lms.services import exports

    today.excuse(coordinator, agency, [assignment_of(db, department[0]).id], "Transferred to records")
    [row] = list(exports.rows("excused", agency))
    assert (row[0], row[3], row[5], row[8]) == ("770", "Board Course", "Excused", "Transferred to records")
    completion = list(exports.rows("completion", agency))
    assert sum(r[2] for r in completion) == 3


def test_a_renewed_certificate_gets_no_expiry_reminder_or_digest_line(
    db, agency, make_user, officer, renewable
):
    from lms.models import OutboxMessage
    from lms.services import reminders, team_digest

    boss = make_user(agency, name="Sam Supervisor")
    officer.supervisor_id = boss.id
    [renewal] = certificates.renew_due(TODAY)
    pass_course(officer, renewal)
    db.session.commit()
    no_mail = reminders.MailSettings(server=None)
    reminders.send_reminders(TODAY, no_mail)
    team_digest.send_digests(TODAY, no_mail)
    sent = db.session.scalars(select(OutboxMessage)).all()
    assert not [m for m in sent if m.kind in ("cert_30", "cert_90")]
    assert not [m for m in sent if m.kind == "team_digest" and "Certificates expiring" in m.body]


def test_an_excused_yearly_assignment_is_not_handed_straight_back(db, agency, coordinator, officer):
    from lms.services import rules

    course = publish(course_data(slug="yearly-course", title="Yearly"))
    rule = rules.create_rule(coordinator, agency, rules.RuleSpec(
        name="Everyone yearly", course_id=course.id, unit_id=None, ranks=[], due_on=None, due_days=30,
        due_from="assignment", recurrence="yearly",
    ))  # fmt: skip
    given = db.session.scalars(select(Assignment).where(Assignment.rule_id == rule.id)).all()
    today.excuse(coordinator, agency, [a.id for a in given], "On medical leave this year")
    db.session.commit()
    assert rules.apply_rules(None, agency, TODAY) == []
    assert rules.apply_rules(None, agency, TODAY + timedelta(days=366)) != []


# --- supervisors act for their direct reports (helper "fix-board") ---------------------------


@pytest.fixture
def team(db, agency, make_user, course):
    """A supervisor with one overdue direct report, and an overdue officer who is not theirs."""
    boss = make_user(agency, name="Sergeant Stone")
    mine = make_user(agency, name="Officer Mine", supervisor_id=boss.id)
    theirs = make_user(agency, name="Officer Theirs")
    for person in (mine, theirs):
        enrol(person, course, due_on=TODAY - timedelta(days=4))
    return boss, mine, theirs


def _team_act(client, key, **data):
    return client.post(f"/team/today/actions?list={key}", data=data)


def test_a_supervisor_extends_a_direct_reports_due_date(db, client, sign_in, team):
    boss, mine, _ = team
    sign_in(boss)
    new_due = TODAY + timedelta(days=10)
    response = _team_act(client, "overdue", action="extend", pick=[str(assignment_of(db, mine).id)],
                         new_due=new_due.isoformat(), reason="Court week")  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"].endswith("/team/today?list=overdue")
    assert assignment_of(db, mine).due_on == new_due


def test_the_team_board_offers_the_actions(client, sign_in, team):
    page = sign_in(team[0]).get("/team/today?list=overdue").get_data(as_text=True)
    assert 'action="/team/today/actions?list=overdue"' in page and "Extend the due date" in page


@pytest.mark.parametrize(
    "key,data",
    [
        ("overdue", {"action": "extend", "new_due": (TODAY + timedelta(days=9)).isoformat(), "reason": "x"}),
        ("overdue", {"action": "excuse", "reason": "Not mine to excuse"}),
        ("overdue", {"action": "remind"}),
    ],
)
def test_a_supervisor_cannot_act_on_someone_elses_assignment(db, client, sign_in, team, key, data):
    boss, _, theirs = team
    sign_in(boss)
    response = _team_act(client, key, pick=[str(assignment_of(db, theirs).id)], **data)
    assert response.status_code == 400
    assert "not assignments of your direct reports" in response.get_data(as_text=True)
    assert (assignment_of(db, theirs).due_on, assignment_of(db, theirs).status) == (
        TODAY - timedelta(days=4),
        "assigned",
    )
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_supervisor_cannot_assign_to_someone_elses_report(db, client, sign_in, team, make_user, course):
    boss, stranger = team[0], make_user(team[0].agency, name="Officer Stranger")
    sign_in(boss)
    response = _team_act(
        client, "unassigned", action="assign", person=[str(stranger.id)], course=str(course.id)
    )
    assert response.status_code == 400 and "not of your direct reports" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Assignment.user_id == stranger.id)) == 0


def test_an_officer_without_reports_cannot_act_from_a_team_board(db, client, sign_in, team):
    _, mine, theirs = team
    sign_in(mine)
    response = _team_act(
        client, "overdue", action="excuse", pick=[str(assignment_of(db, theirs).id)], reason="x"
    )
    assert response.status_code == 403
    assert assignment_of(db, theirs).status == "assigned"


# --- dates in the agency's style, and within reach ---------------------------------------------


@pytest.fixture
def british(db, agency):
    agency.date_style = "en-GB"
    db.session.commit()
    return agency


def test_reminders_write_the_due_date_in_the_agencys_style(db, british, coordinator, department):
    assignment = assignment_of(db, department[0])
    (message,) = today.remind_now(coordinator, british, [assignment.id], TODAY)
    due = assignment.due_on
    assert f"It was due on {due.day} {due:%b} {due.year}." in message.body


def test_an_extension_says_the_new_date_in_the_agencys_style(db, british, coordinator, department):
    new_due = TODAY + timedelta(days=20)
    done = today.act(coordinator, british, "extend", picks=[assignment_of(db, department[0]).id], people=[],
                     new_due=new_due, reason="Court week", today=TODAY)  # fmt: skip
    written = f"{new_due.day} {new_due:%b} {new_due.year}"
    assert done == f"Due date of 1 assignment moved to {written}."
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.extended")).one()
    assert f"due {written} (Court week)" in event.summary


@pytest.mark.parametrize(
    "key,data,field_message",
    [
        ("overdue", {"action": "extend", "new_due": "9999-12-31", "reason": "Typo"}, "The new due date must be within 5 years"),
        ("unassigned", {"action": "assign", "due_on": "9999-12-31"}, "The due date must be within 5 years"),
    ],
)  # fmt: skip
def test_a_far_future_date_is_refused_and_changes_nothing(
    db, client, sign_in, coordinator, agency, department, course, key, data, field_message
):
    sign_in(coordinator)
    rows = (
        {"pick": [str(assignment_of(db, department[0]).id)]}
        if key == "overdue"
        else {"person": [str(department[4].id)]}
    )
    response = _act(client, agency, key, course=str(course.id), **rows, **data)
    assert response.status_code == 400 and field_message in response.get_data(as_text=True)
    assert assignment_of(db, department[0]).due_on == TODAY - timedelta(days=10)
    assert db.session.scalar(select(func.count()).where(Assignment.user_id == department[4].id)) == 0


@pytest.mark.parametrize("days_past_the_limit,accepted", [(0, True), (1, False)])
def test_a_due_date_up_to_five_years_ahead_is_accepted(
    db, coordinator, agency, department, days_past_the_limit, accepted
):
    latest = (
        TODAY.replace(year=TODAY.year + 5)
        if (TODAY.month, TODAY.day) != (2, 29)
        else date(TODAY.year + 5, 2, 28)
    )
    pick = [assignment_of(db, department[0]).id]
    new_due = latest + timedelta(days=days_past_the_limit)
    if accepted:
        today.extend(coordinator, agency, pick, new_due, "Long leave", TODAY)
        assert assignment_of(db, department[0]).due_on == new_due
    else:
        with pytest.raises(today.BoardError) as refused:
            today.extend(coordinator, agency, pick, new_due, "Long leave", TODAY)
        assert refused.value.field == "new_due"


# --- the failed-scenarios list, and who has been assigned anything ----------------------------


def test_the_failed_list_offers_remind_extend_and_assign(
    db, client, sign_in, coordinator, agency, officer, store_dispute
):
    _graded(db, officer, store_dispute, passed=False)
    page = sign_in(coordinator).get(f"/agencies/{agency.id}/today?list=failed").get_data(as_text=True)
    for action in ("Remind now", "Extend the due date", "Assign a course"):
        assert f">{action}</option>" in page


def test_extending_from_the_failed_list_moves_the_scenarios_assignment(
    db, client, sign_in, coordinator, agency, department, store_dispute
):
    assignment = assignment_of(db, department[0])
    attempt = _graded(db, department[0], store_dispute, passed=False)
    attempt.assignment_id = assignment.id
    db.session.commit()
    sign_in(coordinator)
    new_due = TODAY + timedelta(days=7)
    response = _act(client, agency, "failed", action="extend", pick=[str(assignment.id)],
                    new_due=new_due.isoformat(), reason="Retake next week")  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()  # the assignment was loaded above, before the request changed it
    assert assignment_of(db, department[0]).due_on == new_due


def test_an_officer_whose_training_was_excused_has_been_assigned_training(
    db, coordinator, agency, department
):
    before = board(agency).unassigned
    today.excuse(coordinator, agency, [assignment_of(db, department[0]).id], "Transferred to records")
    assert board(agency).unassigned == before
    rows, _ = today.rows_of(today.Scope(agency), "unassigned", today=TODAY)
    assert department[0].id not in [row.officer.id for row in rows]
