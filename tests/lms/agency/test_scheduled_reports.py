"""Scheduled reports: subscribing, the weekly and monthly schedule, sending once per period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.models import AuditEvent, OutboxMessage, ReportSubscription, Role
from lms.services import reminders, scheduled_reports
from lms.services.scheduled_reports import SubscriptionError, SubscriptionSpec
from tests.lms.agency.test_compliance import FakeSMTP
from tests.lms.learning_fixtures import course_data, enrol, publish

MONDAY = date(2026, 12, 7)
NO_MAIL = reminders.MailSettings(server=None)


@pytest.fixture
def course(app):
    return publish(course_data(slug="report-course"))


def subscribe(coordinator, agency, *, report="summary", frequency="weekly", day=0, to=None, on=MONDAY):
    return scheduled_reports.subscribe(
        coordinator, agency, SubscriptionSpec(report, frequency, day, to or [coordinator.id]), today=on
    )


def sent(db) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "report").order_by(OutboxMessage.id)
    ).all()


@pytest.mark.parametrize(
    ("frequency", "day", "today", "expected"),
    [
        ("weekly", 0, date(2026, 12, 7), date(2026, 12, 7)),  # Monday, on a Monday
        ("weekly", 0, date(2026, 12, 10), date(2026, 12, 7)),  # on the Thursday after
        ("weekly", 4, date(2026, 12, 7), date(2026, 12, 4)),  # Friday, on the Monday after
        ("monthly", 15, date(2026, 12, 15), date(2026, 12, 15)),
        ("monthly", 15, date(2026, 12, 14), date(2026, 11, 15)),
        ("monthly", 31, date(2026, 2, 28), date(2026, 2, 28)),  # a short month's last day
        ("monthly", 31, date(2026, 3, 30), date(2026, 2, 28)),
        ("monthly", 1, date(2026, 1, 1), date(2026, 1, 1)),
    ],
)
def test_the_latest_scheduled_day(frequency, day, today, expected):
    subscription = ReportSubscription(frequency=frequency, day=day)
    assert scheduled_reports.scheduled_on(subscription, today) == expected


def test_a_weekly_report_is_sent_on_its_day_once(db, agency, coordinator):
    subscribe(coordinator, agency, day=0, on=MONDAY - timedelta(days=3))
    db.session.commit()
    assert len(scheduled_reports.send_due(MONDAY, NO_MAIL)) == 1
    assert scheduled_reports.send_due(MONDAY, NO_MAIL) == []  # the job runs again
    assert scheduled_reports.send_due(MONDAY + timedelta(days=1), NO_MAIL) == []
    assert len(scheduled_reports.send_due(MONDAY + timedelta(days=7), NO_MAIL)) == 1
    assert len(sent(db)) == 2


def test_a_monthly_report_is_sent_once_a_month(db, agency, coordinator):
    subscribe(coordinator, agency, frequency="monthly", day=31, on=date(2026, 1, 20))
    runs = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 1)]
    counts = [len(scheduled_reports.send_due(today, NO_MAIL)) for today in runs]
    assert counts == [0, 1, 0, 1, 0]


def test_a_new_subscription_never_sends_a_past_period(db, agency, coordinator):
    subscribe(coordinator, agency, day=0, on=MONDAY + timedelta(days=2))  # Wednesday
    assert scheduled_reports.send_due(MONDAY + timedelta(days=2), NO_MAIL) == []
    assert len(scheduled_reports.send_due(MONDAY + timedelta(days=7), NO_MAIL)) == 1


def test_a_missed_day_is_sent_on_the_next_run_once(db, agency, coordinator):
    subscribe(coordinator, agency, day=0, on=MONDAY - timedelta(days=1))
    assert len(scheduled_reports.send_due(MONDAY + timedelta(days=2), NO_MAIL)) == 1
    assert scheduled_reports.send_due(MONDAY + timedelta(days=3), NO_MAIL) == []


def test_each_recipient_gets_it_once(db, agency, coordinator, make_user):
    colleague = make_user(agency, (Role.COORDINATOR,), name="Cora Coordinator")
    subscribe(coordinator, agency, to=[coordinator.id, colleague.id])
    scheduled_reports.send_due(MONDAY, NO_MAIL)
    scheduled_reports.send_due(MONDAY, NO_MAIL)
    assert sorted(m.to_email for m in sent(db)) == sorted([coordinator.email, colleague.email])


def test_a_paused_report_is_not_sent_and_resuming_skips_what_was_missed(db, agency, coordinator):
    subscription = subscribe(coordinator, agency, on=MONDAY - timedelta(days=7))
    scheduled_reports.set_paused(coordinator, subscription, True)
    assert scheduled_reports.send_due(MONDAY, NO_MAIL) == []
    scheduled_reports.set_paused(coordinator, subscription, False, today=MONDAY + timedelta(days=1))
    assert scheduled_reports.send_due(MONDAY + timedelta(days=1), NO_MAIL) == []
    assert len(scheduled_reports.send_due(MONDAY + timedelta(days=7), NO_MAIL)) == 1


def test_someone_deactivated_since_no_longer_receives_it(db, agency, coordinator, make_user):
    colleague = make_user(agency, (Role.COORDINATOR,))
    subscribe(coordinator, agency, to=[coordinator.id, colleague.id])
    colleague.active = False
    db.session.commit()
    scheduled_reports.send_due(MONDAY, NO_MAIL)
    assert [m.to_email for m in sent(db)] == [coordinator.email]


def test_the_summary_carries_the_figures_of_its_own_agency_only(
    db, agency, coordinator, make_agency, make_user, course
):
    today = date.today()
    enrol(make_user(agency), course, due_on=today - timedelta(days=3))
    other = make_agency("Bravo PD")
    for _ in range(5):
        enrol(make_user(other), course, due_on=today - timedelta(days=3))
    subscribe(coordinator, agency, day=today.weekday(), on=today)
    [message] = scheduled_reports.send_due(today, NO_MAIL)
    assert message.agency_id == agency.id
    assert f"Compliance summary: {agency.name}" in message.subject
    assert "Overdue: 1\n" in message.body
    assert "Completion: 0% (0 of 1 assignments)" in message.body
    assert "Bravo" not in message.body


def test_an_export_report_says_its_size_and_links_to_the_download(
    app, db, agency, coordinator, make_user, course, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://ripple.example.gov")
    today = date.today()
    enrol(make_user(agency), course, due_on=today - timedelta(days=3))
    subscribe(coordinator, agency, report="overdue", day=today.weekday(), on=today)
    [message] = scheduled_reports.send_due(today, NO_MAIL)
    assert "The report has 1 row today." in message.body
    assert f"https://ripple.example.gov/agencies/{agency.id}/exports/overdue.csv" in message.body
    assert "Overdue: 1\n" in message.body
    assert message.details["rows"] == 1


def test_with_smtp_configured_reports_are_emailed(db, agency, coordinator, monkeypatch):
    monkeypatch.setattr(reminders.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    subscribe(coordinator, agency)
    [message] = scheduled_reports.send_due(MONDAY, reminders.MailSettings(server="127.0.0.1", port=2525))
    assert message.delivery == "smtp"
    assert FakeSMTP.sent[0]["To"] == coordinator.email


def test_the_daily_job_sends_due_reports(app, db, agency, coordinator):
    from datetime import UTC, datetime

    from lms import schedule

    subscribe(coordinator, agency, on=MONDAY)
    db.session.commit()
    job = next(job for job in schedule.JOBS if job.name == "scheduled-reports")
    assert job.daily
    assert job.run(datetime(2026, 12, 7, 6, tzinfo=UTC)) == "1 report message(s)"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"report": "nonsense"}, "report"),
        ({"frequency": "daily"}, "frequency"),
        ({"frequency": "weekly", "day": 7}, "day"),
        ({"frequency": "monthly", "day": 0}, "day"),
        ({"frequency": "monthly", "day": 32}, "day"),
        ({"day": None}, "day"),
        ({"recipient_ids": []}, "recipients"),
    ],
)
def test_bad_subscriptions_are_refused_with_the_field_named(db, agency, coordinator, changes, field):
    spec = {
        "report": "summary",
        "frequency": "weekly",
        "day": 0,
        "recipient_ids": [coordinator.id],
        **changes,
    }
    with pytest.raises(SubscriptionError) as refused:
        scheduled_reports.subscribe(coordinator, agency, SubscriptionSpec(**spec))
    assert refused.value.field == field


@pytest.mark.parametrize("who", ["officer", "instructor", "elsewhere"])
def test_reports_go_only_to_the_agencys_coordinators(db, agency, coordinator, make_user, make_agency, who):
    """The reports hold agency-wide figures and links to coordinator pages."""
    person = {
        "officer": lambda: make_user(agency),
        "instructor": lambda: make_user(agency, (Role.INSTRUCTOR,)),
        "elsewhere": lambda: make_user(make_agency(), (Role.COORDINATOR,)),
    }[who]()
    with pytest.raises(SubscriptionError, match="only to active coordinators of the agency"):
        subscribe(coordinator, agency, to=[coordinator.id, person.id])


def test_subscribing_from_the_page(client, sign_in, db, agency, coordinator):
    sign_in(coordinator)
    page = client.get(f"/agencies/{agency.id}/reports/subscriptions").get_data(as_text=True)
    assert "Subscribe to a report" in page and "checked" in page  # the coordinator is ticked
    response = client.post(
        f"/agencies/{agency.id}/reports/subscriptions",
        data={
            "report": "overdue",
            "frequency": "monthly",
            "weekday": "0",
            "month_day": "31",
            "recipients": [str(coordinator.id)],
        },
        follow_redirects=True,
    )
    assert (
        "Subscribed: Overdue training, monthly on day 31 (or the month&#39;s last day)."
        in response.get_data(as_text=True)
    )
    subscription = db.session.scalar(select(ReportSubscription))
    assert (subscription.report, subscription.frequency, subscription.day) == ("overdue", "monthly", 31)
    assert db.session.scalar(select(AuditEvent.action)) == "report_subscription.created"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"recipients": []}, "Choose at least one person to send it to."),
        ({"report": "payroll"}, "Not a valid choice"),
        ({"month_day": "32"}, "Not a valid choice"),
        ({"recipients": ["999999"]}, "not a valid choice"),
    ],
)
def test_the_form_explains_what_is_wrong_and_saves_nothing(
    client, sign_in, db, agency, coordinator, changes, message
):
    sign_in(coordinator)
    data = {
        "report": "summary",
        "frequency": "weekly",
        "weekday": "0",
        "month_day": "1",
        "recipients": [str(coordinator.id)],
        **changes,
    }
    response = client.post(f"/agencies/{agency.id}/reports/subscriptions", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReportSubscription)) == 0


def test_pause_resume_and_unsubscribe_from_the_page(client, sign_in, db, agency, coordinator):
    subscription = subscribe(coordinator, agency)
    db.session.commit()
    sign_in(coordinator)
    base = f"/agencies/{agency.id}/reports/subscriptions/{subscription.id}"
    assert "paused" in client.post(f"{base}/pause", follow_redirects=True).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ReportSubscription, subscription.id).status == "paused"
    assert "sending again" in client.post(f"{base}/resume", follow_redirects=True).get_data(as_text=True)
    assert "Unsubscribed" in client.post(f"{base}/delete", follow_redirects=True).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReportSubscription)) == 0
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == [
        "report_subscription.created",
        "report_subscription.paused",
        "report_subscription.resumed",
        "report_subscription.deleted",
    ]


def test_another_agencys_coordinator_cannot_touch_a_subscription(
    client, sign_in, db, agency, coordinator, make_agency, make_user
):
    subscription = subscribe(coordinator, agency)
    db.session.commit()
    other = make_agency("Bravo PD")
    sign_in(make_user(other, (Role.COORDINATOR,)))
    for change in ("pause", "delete"):
        response = client.post(f"/agencies/{other.id}/reports/subscriptions/{subscription.id}/{change}")
        assert response.status_code == 404
    assert db.session.get(ReportSubscription, subscription.id).status == "active"
