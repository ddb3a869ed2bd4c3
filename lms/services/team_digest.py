"""The supervisor's weekly digest: their direct reports' overdue training, training due this
week and certificates expiring within 30 days (name, badge number, course, date).

A supervisor is an active person with at least one active direct report (`User.supervisor_id`)
in their own agency. The daily periodic job calls `send_digests`; a digest is sent on the
first run of each week (Monday to Sunday) that finds something to say, and only once that
week: its outbox key names the supervisor and the week's Monday. Everything is read in three
queries, however many supervisors and teams there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from lms.dates import day
from lms.extensions import db
from lms.models import Assignment, Certificate, Course, OutboxMessage, User
from lms.services import certificates, reminders

EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Line:
    name: str
    badge_number: str | None
    course: str
    on: date

    def text(self) -> str:
        badge = f" (badge {self.badge_number})" if self.badge_number else ""
        return f"{self.name}{badge}: {self.course}, {day(self.on)}"


@dataclass
class Digest:
    supervisor: User
    week_of: date  # the week's Monday
    overdue: list[Line] = field(default_factory=list)
    due_this_week: list[Line] = field(default_factory=list)
    expiring: list[Line] = field(default_factory=list)

    @property
    def has_news(self) -> bool:
        return bool(self.overdue or self.due_this_week or self.expiring)


def week_of(today: date) -> date:
    return today - timedelta(days=today.weekday())


def digests(today: date) -> list[Digest]:
    """Every supervisor's digest for the week of `today` (empty ones included)."""
    monday = week_of(today)
    sunday = monday + timedelta(days=6)
    boss = aliased(User)
    reports = db.session.execute(
        select(User.id, User.name, User.badge_number, boss)
        .join(boss, boss.id == User.supervisor_id)
        .where(User.active.is_(True), boss.active.is_(True), boss.agency_id == User.agency_id)
    ).all()
    found: dict[int, Digest] = {}
    officer: dict[int, tuple[str, str | None, Digest]] = {}
    for report_id, name, badge, supervisor in reports:
        digest = found.setdefault(supervisor.id, Digest(supervisor, monday))
        officer[report_id] = (name, badge, digest)
    if not officer:
        return []
    for user_id, course, due in db.session.execute(
        select(Assignment.user_id, Course.title, Assignment.due_on)
        .join(Course, Course.id == Assignment.course_id)
        .join(User, User.id == Assignment.user_id)
        .join(boss, and_(boss.id == User.supervisor_id, boss.agency_id == Assignment.agency_id))
        .where(
            Assignment.status == "assigned",
            Assignment.due_on <= sunday,
            User.active.is_(True),
            boss.active.is_(True),
        )
        .order_by(Assignment.due_on, User.name)
    ):
        if user_id not in officer:
            continue
        name, badge, digest = officer[user_id]
        (digest.overdue if due < today else digest.due_this_week).append(Line(name, badge, course, due))
    for user_id, course, expires in db.session.execute(
        select(Certificate.user_id, Certificate.course_title, Certificate.expires_on)
        .join(User, User.id == Certificate.user_id)
        .join(boss, and_(boss.id == User.supervisor_id, boss.agency_id == Certificate.agency_id))
        .where(
            Certificate.revoked_at.is_(None),
            certificates.not_renewed(),  # a renewed certificate's expiry is nothing to act on
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + timedelta(days=EXPIRING_WITHIN_DAYS),
            User.active.is_(True),
            boss.active.is_(True),
        )
        .order_by(Certificate.expires_on, User.name)
    ):
        if user_id not in officer:
            continue
        name, badge, digest = officer[user_id]
        digest.expiring.append(Line(name, badge, course, expires))
    return sorted(found.values(), key=lambda d: d.supervisor.id)


def body(digest: Digest) -> str:
    """The digest's text: one section per list, only the lists with something in them."""
    lines = [
        f"Hello {digest.supervisor.name},",
        "",
        f"Your team's training for the week of {day(digest.week_of)}:",
    ]
    for title, items in (
        ("Overdue", digest.overdue),
        ("Due this week", digest.due_this_week),
        (f"Certificates expiring within {EXPIRING_WITHIN_DAYS} days", digest.expiring),
    ):
        if items:
            lines += ["", f"{title} ({len(items)}):"] + [f"- {item.text()}" for item in items]
    lines += ["", "Your team's page in Ripple (My team) shows each officer's training."]
    return "\n".join(lines) + "\n"


def collect(today: date) -> list[OutboxMessage]:
    """Queue this week's digests that have something to say and were not sent yet."""
    queued = []
    for digest in digests(today):
        if not digest.has_news:
            continue
        counts = {
            "overdue": len(digest.overdue),
            "due_this_week": len(digest.due_this_week),
            "expiring": len(digest.expiring),
        }
        message = reminders._queue(  # the reminders' outbox and its dedupe key
            digest.supervisor,
            "team_digest",
            f"digest:{digest.supervisor.id}:{digest.week_of.isoformat()}",
            f"Your team's training, week of {day(digest.week_of)}",
            body(digest),
            {"week_of": digest.week_of.isoformat(), **counts},
        )
        if message is not None:
            queued.append(message)
    db.session.flush()
    return queued


def send_digests(today: date, settings: reminders.MailSettings) -> list[OutboxMessage]:
    """Queue and deliver this week's digests (see `collect`); safe to run again."""
    messages = collect(today)
    reminders.deliver(messages, settings)
    db.session.flush()
    return messages
