"""Reminders: due soon, due today, overdue (escalated to the supervisor after 7 days) and
certificate-expiry notices at 90 and 30 days.

Each message is written to the outbox with a key that names what it is about, so running
`flask reminders send` twice on a day sends nothing twice. With SMTP configured (MAIL_SERVER)
messages are also emailed; otherwise they stay in the outbox, where people see their own.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms import dates
from lms.extensions import db
from lms.models import Agency, Assignment, Certificate, OutboxMessage, User
from lms.models.types import utcnow
from lms.services import certificates

ESCALATE_AFTER_DAYS = 7


@dataclass(frozen=True)
class MailSettings:
    server: str | None
    port: int = 587
    username: str | None = None
    password: str | None = None
    use_tls: bool = True
    sender: str = "Ripple <no-reply@ripple.test>"

    @classmethod
    def from_config(cls, config) -> MailSettings:
        """The app's MAIL_* settings (no MAIL_SERVER: messages stay in the in-app outbox)."""
        return cls(
            server=config.get("MAIL_SERVER"),
            port=config.get("MAIL_PORT", 587),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            use_tls=config.get("MAIL_USE_TLS", True),
            sender=config.get("MAIL_SENDER", "Ripple <no-reply@ripple.test>"),
        )


def _queue(user: User, kind: str, key: str, subject: str, body: str, details: dict) -> OutboxMessage | None:
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
        return None
    message = OutboxMessage(
        agency_id=user.agency_id,
        user_id=user.id,
        kind=kind,
        dedupe_key=key,
        to_email=user.email,
        subject=subject,
        body=body,
        details=details,
    )
    db.session.add(message)
    return message


def _day(user: User, value: date) -> str:
    """A date in the person's agency's style (one agency lookup per agency: the session keeps it)."""
    agency = db.session.get(Agency, user.agency_id) if user.agency_id else None
    return dates.day(value, where=dates.settings_of(agency))


def _greeting(user: User) -> str:
    return f"Hello {user.name},\n\n"


def collect(today: date) -> list[OutboxMessage]:
    """Queue today's reminders (not yet delivered). Only rows in the reminder windows are read."""
    queued: list[OutboxMessage] = []
    in_two_weeks = today + timedelta(days=14)
    due = db.session.scalars(
        select(Assignment)
        .options(joinedload(Assignment.user), joinedload(Assignment.course))
        .where(
            Assignment.status == "assigned", Assignment.due_on.is_not(None), Assignment.due_on <= in_two_weeks
        )
    )
    for a in due:
        user, title = a.user, a.course.title
        if not user.active:
            continue
        days = (a.due_on - today).days
        if days == 14:
            m = _queue(
                user,
                "due_14",
                f"due14:{a.id}",
                f"Due in 14 days: {title}",
                _greeting(user) + f"Your training “{title}” is due on {_day(user, a.due_on)}.\n",
                {"assignment": a.id},
            )
        elif days == 0:
            m = _queue(
                user,
                "due_today",
                f"duetoday:{a.id}",
                f"Due today: {title}",
                _greeting(user) + f"Your training “{title}” is due today.\n",
                {"assignment": a.id},
            )
        elif days < 0:
            late = -days
            m = _queue(
                user,
                "overdue",
                f"overdue:{a.id}:{(late - 1) // 7}",
                f"Overdue: {title}",
                _greeting(user)
                + f"Your training “{title}” was due on {_day(user, a.due_on)} ({late} days ago).\n",
                {"assignment": a.id, "days_overdue": late},
            )
            if late >= ESCALATE_AFTER_DAYS and user.supervisor is not None and user.supervisor.active:
                boss = user.supervisor
                e = _queue(
                    boss,
                    "escalation",
                    f"escalate:{a.id}",
                    f"{user.name} is overdue: {title}",
                    _greeting(boss) + f"{user.name}'s training “{title}” has been overdue for {late} days "
                    f"(due {_day(boss, a.due_on)}). Please follow up.\n",
                    {"assignment": a.id, "officer": user.id},
                )
                if e:
                    queued.append(e)
        else:
            m = None
        if m:
            queued.append(m)
    expiring = db.session.scalars(
        select(Certificate)
        .options(joinedload(Certificate.user))
        .where(Certificate.revoked_at.is_(None), Certificate.expires_on >= today,
               Certificate.expires_on <= today + timedelta(days=90), certificates.not_renewed())
    )  # fmt: skip
    for c in expiring:
        if not c.user.active:
            continue
        days = (c.expires_on - today).days
        kind, key = ("cert_30", f"cert30:{c.id}") if days <= 30 else ("cert_90", f"cert90:{c.id}")
        m = _queue(
            c.user,
            kind,
            key,
            f"Certificate expires in {days} days: {c.course_title}",
            _greeting(c.user)
            + f"Your certificate for “{c.course_title}” expires on {_day(c.user, c.expires_on)}. "
            "Your renewal course will be assigned when the renewal window opens.\n",
            {"certificate": c.id},
        )
        if m:
            queued.append(m)
    db.session.flush()
    return queued


def _grade_words(grade) -> str:
    return f"{grade.score:g} ({'passed' if grade.passed else 'not passed'})"


def grade_changed(
    attempt,
    previous,
    grade,
    *,
    course_title=None,
    withdrawn=None,
    certificate=None,
    certificate_choice=None,
    still_passed_by=None,
) -> OutboxMessage | None:
    """Tell the officer an instructor changed their grade, and what it changed in their records.
    Queued in the outbox like every reminder (shown in Messages, emailed when mail is set up)."""
    user = attempt.user
    title = attempt.scenario_version.title
    body = (
        _greeting(user) + f"An instructor changed the grade of your attempt {attempt.number} at “{title}” "
        f"from {_grade_words(previous)} to {_grade_words(grade)}.\nReason: {grade.reason}\n"
    )
    if withdrawn is not None:
        body += f"\nYour completion of “{course_title}” is withdrawn and the course is open again in My training.\n"
        if certificate is not None and certificate_choice == "revoke":
            body += f"Your certificate {certificate.code} is revoked: {certificate.revoked_reason}\n"
        elif certificate is not None:
            body += f"Your certificate {certificate.code} is kept and stays valid.\n"
    elif still_passed_by is not None and course_title:
        body += (
            f"\nThe scenario still counts as passed in “{course_title}”: "
            f"your attempt {still_passed_by.number} passed.\n"
        )
    elif grade.passed and not previous.passed and course_title:
        body += f"\nThe scenario now counts as passed in “{course_title}”.\n"
    return _queue(
        user,
        "grade_changed",
        f"grade:{grade.id}",
        f"Your grade was changed: {title}",
        body,
        {"attempt": attempt.id, "grade": grade.id},
    )


def deliver(
    messages: list[OutboxMessage], settings: MailSettings, *, bodies: dict[int, str] | None = None
) -> None:
    """Email the messages when SMTP is configured; otherwise they stay in the outbox.

    `bodies` (message id -> text) replaces a stored body in the email: a single-use link is
    emailed but not kept (lms/services/invitations.py)."""
    if not settings.server:
        for message in messages:
            message.delivery, message.sent_at = "outbox", utcnow()
        return
    with smtplib.SMTP(settings.server, settings.port, timeout=30) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        for message in messages:
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = settings.sender, message.to_email, message.subject
            email.set_content((bodies or {}).get(message.id, message.body))
            try:
                smtp.send_message(email)
            except smtplib.SMTPException:
                message.delivery = "failed"
            else:
                message.delivery, message.sent_at = "smtp", utcnow()


def send_reminders(today: date, settings: MailSettings) -> list[OutboxMessage]:
    messages = collect(today)
    deliver(messages, settings)
    db.session.flush()
    return messages


def messages_for(user: User, limit: int = 100) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id).order_by(OutboxMessage.id.desc()).limit(limit)
    ))  # fmt: skip
