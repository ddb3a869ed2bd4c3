"""Assignment rules, the compliance dashboard, exports, reminders and teams."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from lms.models import Assignment, Completion, OutboxMessage, Role, Unit
from lms.services import compliance, exports, reminders, rules
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish

TODAY = date.today()  # exports and pages use the real date


@pytest.fixture
def course(app):
    return publish(course_data(slug="compliance-course"))


@pytest.fixture
def tree(db, agency):
    """agency HQ > North > Squad 1; returns (north, squad)."""
    hq = agency.units[0]
    north = Unit(agency_id=agency.id, code="NORTH", name="North Precinct", parent_id=hq.id)
    db.session.add(north)
    db.session.flush()
    squad = Unit(agency_id=agency.id, code="SQ1", name="Squad One", parent_id=north.id)
    db.session.add(squad)
    db.session.commit()
    return north, squad


def hq(agency) -> int:
    return next(u.id for u in agency.units if u.code == "HQ")


def spec(course, **kw):
    base = dict(
        name="",
        course_id=course.id,
        unit_id=None,
        ranks=[],
        due_on=None,
        due_days=30,
        due_from="assignment",
        recurrence="none",
    )
    return rules.RuleSpec(**{**base, **kw})


def open_assignments(db, user):
    return db.session.scalars(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.status == "assigned")
    ).all()


def test_a_unit_rule_reaches_sub_units_and_not_others(db, coordinator, make_user, agency, tree, course):
    north, squad = tree
    inside = make_user(agency, unit_id=squad.id)
    outside = make_user(agency, unit_id=hq(agency))
    rules.create_rule(coordinator, agency, spec(course, unit_id=north.id))
    db.session.commit()
    assert len(open_assignments(db, inside)) == 1
    assert open_assignments(db, outside) == []


def test_a_rank_rule_and_due_after_hire(db, coordinator, make_user, agency, course):
    sergeant = make_user(agency, rank="Sergeant", hire_date=date.today() - timedelta(days=5))
    officer = make_user(agency, rank="Officer")
    rules.create_rule(coordinator, agency, spec(course, ranks=["Sergeant"], due_days=30, due_from="hire"))
    db.session.commit()
    assert [a.due_on for a in open_assignments(db, sergeant)] == [sergeant.hire_date + timedelta(days=30)]
    assert open_assignments(db, officer) == []


def test_applying_rules_twice_assigns_once(db, coordinator, officer, agency, course):
    rules.create_rule(coordinator, agency, spec(course))
    rules.apply_rules(coordinator, agency)
    db.session.commit()
    assert len(open_assignments(db, officer)) == 1


def test_people_who_join_later_get_the_assignment(db, coordinator, make_user, agency, tree, course):
    north, _ = tree
    rules.create_rule(coordinator, agency, spec(course, unit_id=north.id))
    mover = make_user(agency, unit_id=hq(agency))
    assert open_assignments(db, mover) == []
    mover.unit_id = north.id
    rules.apply_rules(None, agency)
    db.session.commit()
    assert len(open_assignments(db, mover)) == 1


def test_people_who_move_keep_what_they_completed(db, coordinator, make_user, agency, tree, course):
    north, _ = tree
    officer = make_user(agency, unit_id=north.id)
    rules.create_rule(coordinator, agency, spec(course, unit_id=north.id))
    db.session.commit()
    pass_course(officer, open_assignments(db, officer)[0])
    officer.unit_id = hq(agency)
    rules.apply_rules(None, agency)
    db.session.commit()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Completion).where(Completion.user_id == officer.id)
        )
        == 1
    )


def test_a_yearly_rule_reassigns_a_year_after_completion(db, coordinator, officer, agency, course):
    rules.create_rule(coordinator, agency, spec(course, recurrence="yearly"))
    db.session.commit()
    pass_course(officer, open_assignments(db, officer)[0])
    rules.apply_rules(None, agency)
    assert open_assignments(db, officer) == []
    completion = db.session.scalars(select(Completion).where(Completion.user_id == officer.id)).one()
    completion.completed_at = datetime.now(UTC) - timedelta(days=400)
    rules.apply_rules(None, agency)
    assert len(open_assignments(db, officer)) == 1


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"due_days": None}, "due_days"),
        ({"due_on": TODAY}, "due_days"),
        ({"recurrence": "weekly"}, "recurrence"),
    ],
)
def test_bad_rules_are_refused_with_the_field_named(db, coordinator, agency, course, changes, field):
    with pytest.raises(rules.RuleError) as error:
        rules.create_rule(coordinator, agency, spec(course, **changes))
    assert error.value.field == field


def test_a_rule_cannot_use_another_agencys_unit_or_course(db, coordinator, agency, make_agency, course):
    other = make_agency("Other PD")
    with pytest.raises(rules.RuleError):
        rules.create_rule(coordinator, agency, spec(course, unit_id=other.units[0].id))
    private = publish(course_data(slug="private-course"), agency_id=other.id)
    with pytest.raises(rules.RuleError):
        rules.create_rule(coordinator, agency, spec(private))


def test_rule_form_shows_field_errors(client, sign_in, coordinator, agency, course):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/rules",
        data={"course": str(course.id), "recurrence": "none", "due_from": "assignment"},
    )
    assert response.status_code == 400
    assert "Give a due date" in response.get_data(as_text=True)


def test_manual_assignment_skips_officers_already_working_on_it(
    client, sign_in, coordinator, make_user, agency, course, db
):
    a, b = make_user(agency), make_user(agency)
    enrol(a, course)
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/assign",
        data={"course": str(course.id), "officers": [str(a.id), str(b.id)], "due_on": "2027-01-31"},
        follow_redirects=True,
    )
    assert "assigned to 1 officer(s); 1 already had it open" in response.get_data(as_text=True)
    assert open_assignments(db, b)[0].due_on == date(2027, 1, 31)


@pytest.fixture
def department(db, agency, tree, make_user, course):
    """Six officers: two overdue, one due soon, one completed, two with no assignment."""
    north, squad = tree
    people = [
        make_user(agency, unit_id=(north if i < 3 else squad).id, rank="Officer" if i % 2 else "Sergeant")
        for i in range(6)
    ]
    enrol(people[0], course, due_on=TODAY - timedelta(days=10))
    enrol(people[1], course, due_on=TODAY - timedelta(days=1))
    enrol(people[2], course, due_on=TODAY + timedelta(days=10))
    pass_course(people[3], enrol(people[3], course, due_on=TODAY + timedelta(days=60)))
    return people


def test_overview_counts_for_the_agency(db, agency, department):
    view = compliance.overview(agency, compliance.Filters(), today=TODAY)
    t = view.totals
    assert (t.assignments, t.completed, t.overdue, t.due_soon) == (4, 1, 2, 1)
    assert t.completion_rate == pytest.approx(0.25)


def test_overview_drills_down_to_a_unit(db, agency, department, tree):
    _, squad = tree
    view = compliance.overview(agency, compliance.Filters(unit_id=squad.id), today=TODAY)
    assert (view.totals.assignments, view.totals.completed) == (1, 1)


def test_filters_by_rank(db, agency, department):
    view = compliance.overview(agency, compliance.Filters(rank="Sergeant"), today=TODAY)
    assert view.totals.officers == 3


def test_expiring_certificates_are_counted_by_window(db, agency, department):
    view = compliance.overview(agency, compliance.Filters(), today=TODAY)
    assert view.totals.expiring_90 == 0
    later = compliance.overview(agency, compliance.Filters(), today=TODAY + timedelta(days=730 - 20))
    assert later.totals.expiring_30 == 1


def test_mandate_hours_are_counted_in_the_cycle(db, coordinator, agency, department, course):
    compliance.save_mandate(
        coordinator,
        agency,
        hours=1,
        cycle_months=12,
        cycle_start=date(date.today().year, 1, 1),
    )
    view = compliance.overview(agency, compliance.Filters())
    assert view.totals.mandate_met == 1


def test_overdue_officers_list(db, agency, department):
    rows, total = compliance.officers_in(
        agency, compliance.Filters(status="overdue"), direct_unit_only=False, today=TODAY
    )
    assert total == 2
    assert {r.officer.id for r in rows} == {department[0].id, department[1].id}


def test_dashboard_query_count_does_not_grow_with_the_agency(app, db, agency, make_user, course):
    from lms.extensions import db as database

    def queries_for_overview() -> int:
        count = 0

        def on_execute(*args, **kwargs):
            nonlocal count
            count += 1

        event.listen(database.engine, "before_cursor_execute", on_execute)
        try:
            compliance.overview(agency, compliance.Filters(), today=TODAY)
        finally:
            event.remove(database.engine, "before_cursor_execute", on_execute)
        return count

    for _ in range(10):
        enrol(make_user(agency), course, due_on=TODAY)
    small = queries_for_overview()
    for _ in range(300):
        make_user(agency)
    large = queries_for_overview()
    assert large == small


def test_dashboard_page_renders_with_charts_and_tables(
    client, sign_in, coordinator, agency, department, tree
):
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/compliance").get_data(as_text=True)
    for text in (
        "completion",
        "overdue",
        "By unit",
        "Completion by unit",
        "Show the numbers as a table",
        "North Precinct",
    ):
        assert text in page
    north, _ = tree
    drilled = client.get(f"/agencies/{agency.id}/compliance", query_string={"unit": north.id}).get_data(
        as_text=True
    )
    assert "Squad One" in drilled and "Officers directly in North Precinct" in drilled


@pytest.mark.parametrize("query", [{"unit": "999999"}, {"course": "x"}, {"status": "nonsense"}])
def test_bad_filters_are_explained(client, sign_in, coordinator, agency, query):
    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/compliance", query_string=query)
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_overdue_export_as_csv(client, sign_in, coordinator, agency, department):
    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/exports/overdue.csv")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == list(exports.REPORTS["overdue"].header)
    assert len(table) - 1 == 2


@pytest.mark.parametrize("report", sorted(exports.REPORTS))
def test_every_report_downloads_as_xlsx(client, sign_in, coordinator, agency, department, report):
    from openpyxl import load_workbook

    sign_in(coordinator)
    response = client.get(f"/agencies/{agency.id}/exports/{report}.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == list(exports.REPORTS[report].header)


def test_unknown_export_is_404(client, sign_in, coordinator, agency):
    sign_in(coordinator)
    assert client.get(f"/agencies/{agency.id}/exports/secrets.csv").status_code == 404
    assert client.get(f"/agencies/{agency.id}/exports/overdue.pdf").status_code == 404


MAIL = reminders.MailSettings(server=None)


def test_reminders_at_14_days_today_and_overdue(db, agency, make_user, course):
    people = [make_user(agency) for _ in range(3)]
    enrol(people[0], course, due_on=TODAY + timedelta(days=14))
    enrol(people[1], course, due_on=TODAY)
    enrol(people[2], course, due_on=TODAY - timedelta(days=2))
    sent = reminders.send_reminders(TODAY, MAIL)
    assert sorted(m.kind for m in sent) == ["due_14", "due_today", "overdue"]
    assert all(m.delivery == "outbox" for m in sent)


def test_running_twice_the_same_day_sends_nothing_twice(db, agency, officer, course):
    enrol(officer, course, due_on=TODAY)
    assert len(reminders.send_reminders(TODAY, MAIL)) == 1
    assert reminders.send_reminders(TODAY, MAIL) == []


def test_overdue_after_a_week_escalates_to_the_supervisor(db, agency, make_user, course):
    boss = make_user(agency, (Role.OFFICER,), name="Sergeant Boss")
    officer = make_user(agency, supervisor_id=boss.id)
    enrol(officer, course, due_on=TODAY - timedelta(days=8))
    sent = reminders.send_reminders(TODAY, MAIL)
    escalation = next(m for m in sent if m.kind == "escalation")
    assert escalation.user_id == boss.id and officer.name in escalation.body


def test_certificate_expiry_notices_at_90_and_30_days(db, agency, officer, course):
    pass_course(officer, enrol(officer, course))
    from lms.models import Certificate

    cert = db.session.scalars(select(Certificate)).one()
    assert [m.kind for m in reminders.send_reminders(cert.expires_on - timedelta(days=80), MAIL)] == [
        "cert_90"
    ]
    assert [m.kind for m in reminders.send_reminders(cert.expires_on - timedelta(days=20), MAIL)] == [
        "cert_30"
    ]


def test_officers_see_their_own_messages(client, sign_in, db, agency, officer, make_user, course):
    other = make_user(agency)
    enrol(officer, course, due_on=TODAY)
    enrol(other, course, due_on=TODAY)
    reminders.send_reminders(TODAY, MAIL)
    db.session.commit()
    sign_in(officer)
    page = client.get("/messages").get_data(as_text=True)
    assert page.count("Due today") == 1


def test_cli_sends_reminders(app, db, agency, officer, course):
    enrol(officer, course, due_on=TODAY)
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "due_today 1" in result.output
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_supervisor_sees_their_team(client, sign_in, db, agency, make_user, course):
    boss = make_user(agency, name="Sergeant Boss")
    report = make_user(agency, name="Direct Report", supervisor_id=boss.id)
    enrol(report, course, due_on=date.today() - timedelta(days=3))
    sign_in(boss)
    page = client.get("/team").get_data(as_text=True)
    assert "Direct Report" in page and "tag-bad" in page


def test_mandate_form_checks_its_fields(client, sign_in, coordinator, agency):
    sign_in(coordinator)
    response = client.post(
        f"/agencies/{agency.id}/mandate",
        data={
            "hours": "40",
            "cycle_months": "12",
            "cycle_start": "2026-01-01",
            "minimums-0-category": "Firearms",
        },
    )
    assert response.status_code == 400
    assert "Give both a category" in response.get_data(as_text=True)
    ok = client.post(
        f"/agencies/{agency.id}/mandate",
        data={"hours": "40", "cycle_months": "12", "cycle_start": "2026-01-01"},
    )
    assert ok.status_code == 302


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would be sent."""

    sent: list = []

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        self.user = user

    def send_message(self, message):
        FakeSMTP.sent.append(message)


def test_with_smtp_configured_reminders_are_emailed(db, agency, officer, course, monkeypatch):
    monkeypatch.setattr(reminders.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    enrol(officer, course, due_on=TODAY)
    sent = reminders.send_reminders(
        TODAY, reminders.MailSettings(server="127.0.0.1", port=2525, username="u", password="p")
    )
    assert [m.delivery for m in sent] == ["smtp"]
    assert FakeSMTP.sent[0]["To"] == officer.email
    assert "Due today" in FakeSMTP.sent[0]["Subject"]


@pytest.mark.parametrize("page", ["compliance", "compliance/trends"])
def test_monthly_charts_name_their_months_as_people_read_them(client, sign_in, coordinator, page):
    """Bars are labelled "Dec 2026", never the machine key "2026-12" or a cut of it."""
    from datetime import date

    sign_in(coordinator)
    html = client.get(f"/agencies/{coordinator.agency_id}/{page}").get_data(as_text=True)
    this_month = date.today()
    assert f"<dt>{this_month:%b} {this_month.year}</dt>" in html
    assert f"<dt>{this_month:%m}/{this_month:%y}</dt>" not in html
