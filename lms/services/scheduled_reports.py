"""Scheduled reports: a coordinator subscribes some of the agency's staff to a report, sent
weekly (on a weekday) or monthly (on a day of the month; short months use their last day).

The daily periodic job (`lms.schedule`) calls `send_due`. Each scheduled date is sent once:
the subscription remembers the last date it sent, and every message's outbox key names the
subscription, the date and the recipient, so running the job again sends nothing twice. A job
that missed a date (the server was down) sends it on its next run, once. Messages carry the
figures in their text (the compliance summary, and for an export its size) with a link to the
download, rather than an attachment; with MAIL_SERVER set they are emailed, otherwise they
stay in the in-app outbox (the same delivery as reminders).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from lms.dates import day as day_text
from lms.extensions import db
from lms.models import Agency, OutboxMessage, ReportSubscription, Role, RoleGrant, User
from lms.services import audit, compliance, exports, reminders, trends
from lms.wording import quantity

SUMMARY = "summary"
FREQUENCIES = {"weekly": "Weekly", "monthly": "Monthly"}
WEEKDAYS = list(calendar.day_name)  # Monday first, as date.weekday() counts
# Coordinators only: the reports hold agency-wide figures and link to pages only they can open.
STAFF_ROLES = (Role.COORDINATOR.value,)
MAX_RECIPIENTS = 20


def report_titles() -> dict[str, str]:
    """Every report one can subscribe to: the compliance summary, then each export."""
    return {SUMMARY: "Compliance summary", **{slug: r.title for slug, r in exports.REPORTS.items()}}


class SubscriptionError(ValueError):
    """A subscription that cannot be saved, with the form field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SubscriptionSpec:
    report: str
    frequency: str
    day: int | None
    recipient_ids: list[int]


def staff_of(agency: Agency) -> list[User]:
    """The agency's active coordinators: who may receive its reports."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.agency_id == agency.id,
                User.active.is_(True),
                User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role.in_(STAFF_ROLES))),
            )
            .order_by(User.name, User.id)
        )
    )


def schedule_text(subscription: ReportSubscription, *, in_sentence: bool = False) -> str:
    """ "Weekly on Monday", "Monthly on day 31 (or the month's last day)"; in a sentence
    "weekly on Monday" (only the first letter changes: weekdays keep their capital)."""
    if subscription.frequency == "weekly":
        text = f"Weekly on {WEEKDAYS[subscription.day]}"
    else:
        tail = " (or the month's last day)" if subscription.day > 28 else ""
        text = f"Monthly on day {subscription.day}{tail}"
    return text[0].lower() + text[1:] if in_sentence else text


def _check(agency: Agency, spec: SubscriptionSpec) -> list[int]:
    if spec.report not in report_titles():
        raise SubscriptionError("report", "Choose one of the listed reports.")
    if spec.frequency not in FREQUENCIES:
        raise SubscriptionError("frequency", "Choose weekly or monthly.")
    if spec.day is None:
        raise SubscriptionError("day", "Choose the day it is sent.")
    if spec.frequency == "weekly" and not 0 <= spec.day <= 6:
        raise SubscriptionError("day", "For a weekly report, choose a day of the week.")
    if spec.frequency == "monthly" and not 1 <= spec.day <= 31:
        raise SubscriptionError("day", "For a monthly report, choose a day of the month from 1 to 31.")
    chosen = sorted(set(spec.recipient_ids))
    if not chosen:
        raise SubscriptionError("recipients", "Choose at least one person to send it to.")
    if len(chosen) > MAX_RECIPIENTS:
        raise SubscriptionError("recipients", f"Choose at most {MAX_RECIPIENTS} people.")
    staff = {person.id for person in staff_of(agency)}
    if not set(chosen) <= staff:
        raise SubscriptionError("recipients", "Send it only to active coordinators of the agency.")
    return chosen


def subscribe(
    actor: User, agency: Agency, spec: SubscriptionSpec, today: date | None = None
) -> ReportSubscription:
    """Save a subscription (audit-logged). Its first report goes out on the next scheduled day
    from today on, so subscribing never sends an old period."""
    recipients = _check(agency, spec)
    subscription = ReportSubscription(
        agency_id=agency.id,
        report=spec.report,
        frequency=spec.frequency,
        day=spec.day,
        recipient_ids=recipients,
        status="active",
        created_by_id=actor.id,
        starts_on=today or date.today(),
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record(
        actor,
        "report_subscription.created",
        subscription,
        summary=f"{report_titles()[spec.report]}, {schedule_text(subscription, in_sentence=True)}, "
        f"to {quantity(len(recipients), 'person', 'people')}",
        after=_state(subscription),
    )
    return subscription


def _state(subscription: ReportSubscription) -> dict:
    return {
        "report": subscription.report,
        "frequency": subscription.frequency,
        "day": subscription.day,
        "recipients": list(subscription.recipient_ids),
        "status": subscription.status,
    }


def set_paused(
    actor: User, subscription: ReportSubscription, paused: bool, today: date | None = None
) -> None:
    """Pause or resume (audit-logged). A resumed subscription does not send the periods it
    missed while paused: it starts again from today."""
    before = _state(subscription)
    subscription.status = "paused" if paused else "active"
    if not paused:
        subscription.starts_on = max(subscription.starts_on, today or date.today())
    db.session.flush()
    audit.record(
        actor,
        "report_subscription.paused" if paused else "report_subscription.resumed",
        subscription,
        summary=report_titles().get(subscription.report, subscription.report),
        before=before,
        after=_state(subscription),
    )


def unsubscribe(actor: User, subscription: ReportSubscription) -> None:
    """Delete the subscription (audit-logged, with what it was); messages already sent stay."""
    audit.record(
        actor,
        "report_subscription.deleted",
        subscription,
        summary=report_titles().get(subscription.report, subscription.report),
        before=_state(subscription),
    )
    db.session.delete(subscription)
    db.session.flush()


def subscriptions_of(agency: Agency) -> list[ReportSubscription]:
    return list(
        db.session.scalars(
            select(ReportSubscription)
            .where(ReportSubscription.agency_id == agency.id)
            .order_by(ReportSubscription.id)
        )
    )


def scheduled_on(subscription: ReportSubscription, today: date) -> date:
    """The latest scheduled date on or before `today`."""
    if subscription.frequency == "weekly":
        return today - timedelta(days=(today.weekday() - subscription.day) % 7)

    def in_month(year: int, month: int) -> date:
        return date(year, month, min(subscription.day, calendar.monthrange(year, month)[1]))

    this_month = in_month(today.year, today.month)
    if this_month <= today:
        return this_month
    previous = today.replace(day=1) - timedelta(days=1)
    return in_month(previous.year, previous.month)


def due_on(subscription: ReportSubscription, today: date) -> date | None:
    """The scheduled date to send now, if there is one not sent yet; else None."""
    if subscription.status != "active":
        return None
    scheduled = scheduled_on(subscription, today)
    if scheduled < subscription.starts_on or subscription.last_sent_on == scheduled:
        return None
    return scheduled


def _link(endpoint: str, **values) -> str | None:
    """An absolute link for an email, from PUBLIC_BASE_URL (a periodic job has no request)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    return base.rstrip("/") + current_app.url_map.bind("localhost").build(endpoint, values)


def summary_lines(agency: Agency, today: date) -> list[str]:
    """The compliance summary in plain text: today's figures and the last two months."""
    t = compliance.overview(agency, compliance.Filters(), today=today).totals
    months = trends.trends(agency, compliance.Filters(), today=today).months
    lines = [
        f"Active officers: {t.officers}",
        f"Completion: {t.completion_rate:.0%} ({t.completed} of {t.assignments} assignments)",
        f"Overdue: {t.overdue}",
        f"Due in 30 days: {t.due_soon}",
        f"Certifications expiring in 30 / 60 / 90 days: {t.expiring_30} / {t.expiring_60} / {t.expiring_90}",
    ]
    for month in months[-2:]:
        rate = "none due" if month.completion_rate is None else f"{month.completion_rate:.0%}"
        so_far = " (so far)" if month is months[-1] else ""
        lines.append(
            f"{month.name}{so_far}: {month.completed} completed, completion of what was due {rate}, "
            f"{month.overdue} overdue at month end, {month.expired} certificates expired"
        )
    return lines


def _body(
    subscription: ReportSubscription, agency: Agency, recipient: User, scheduled: date, summary: list[str]
):
    title = report_titles()[subscription.report]
    lines = [f"Hello {recipient.name},", "", f"{title} for {agency.name}, {day_text(scheduled)}.", ""]
    details: dict = {
        "subscription": subscription.id,
        "report": subscription.report,
        "for": scheduled.isoformat(),
    }
    if subscription.report != SUMMARY:
        size = sum(1 for _ in exports.rows(subscription.report, agency, scheduled))
        lines.append(f"The report has {quantity(size, 'row')} today.")
        details["rows"] = size
        for fmt, name in (("csv", "CSV"), ("xlsx", "Excel")):
            link = _link("compliance.export", agency_id=agency.id, report=subscription.report, fmt=fmt)
            if link:
                lines.append(f"Download it ({name}, sign-in required): {link}")
        lines += ["", "Compliance summary:"]
    lines += [f"- {line}" for line in summary]
    link = _link("compliance.subscriptions", agency_id=agency.id)
    lines += ["", f"You get this scheduled report {schedule_text(subscription, in_sentence=True)}."]
    lines.append(f"Change or stop it: {link}" if link else "Change or stop it under Scheduled reports.")
    return f"{title}: {agency.name}, {day_text(scheduled)}", "\n".join(lines) + "\n", details


def collect(today: date) -> list[OutboxMessage]:
    """Queue every subscription's report that is due today and not sent yet (not delivered)."""
    queued: list[OutboxMessage] = []
    due = [
        (subscription, scheduled)
        for subscription in db.session.scalars(
            select(ReportSubscription)
            .where(ReportSubscription.status == "active")
            .order_by(ReportSubscription.id)
        )
        if (scheduled := due_on(subscription, today)) is not None
    ]
    if not due:
        return queued
    recipient_ids = {rid for subscription, _ in due for rid in subscription.recipient_ids}
    people = {p.id: p for p in db.session.scalars(select(User).where(User.id.in_(recipient_ids)))}
    summaries: dict[int, list[str]] = {}
    for subscription, scheduled in due:
        agency = db.session.get(Agency, subscription.agency_id)
        if agency.id not in summaries:
            summaries[agency.id] = summary_lines(agency, today)
        for recipient_id in subscription.recipient_ids:
            recipient = people.get(recipient_id)
            # Someone who left the agency or was deactivated since stops receiving it.
            if (
                recipient is None
                or not recipient.active
                or recipient.agency_id != agency.id
                or not recipient.has_role(Role.COORDINATOR)  # no longer allowed to read it
            ):
                continue
            subject, body, details = _body(subscription, agency, recipient, scheduled, summaries[agency.id])
            message = reminders._queue(  # the reminders' outbox and its dedupe key
                recipient,
                "report",
                f"report:{subscription.id}:{scheduled.isoformat()}:{recipient.id}",
                subject,
                body,
                details,
            )
            if message is not None:
                queued.append(message)
        subscription.last_sent_on = scheduled
    db.session.flush()
    return queued


def send_due(today: date, settings: reminders.MailSettings) -> list[OutboxMessage]:
    """Queue and deliver the reports due today (see `collect`); safe to run again."""
    messages = collect(today)
    reminders.deliver(messages, settings)
    db.session.flush()
    return messages
