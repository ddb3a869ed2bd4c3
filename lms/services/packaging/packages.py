"""Dispatch packages: creating, listing, revoking, and the launches an LMS makes of them.

A coordinator creates a package for one published course or scenario (`create_package`); its
zip (SCORM 1.2 or 2004 here, cmi5 beside it) is what the agency's LMS imports. When the LMS
opens the package, its page asks Ripple for a launch (`issue_launch`): the package must be
active, the asking page's origin one the coordinator allowed, and a seat free for a learner
id not seen before. Ripple answers with a signed token that works once, for
PACKAGE_LAUNCH_TOKEN_SECONDS, for that package and agency only; only its redemption
(`redeem_launch`) finds or creates the person, by (package, learner id) and never by name or
email, and opens the course or scenario through `launch_targets`. `report_of` is what the
Ripple pages of that launch post back to the package once there is a result.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select, update

from lms.extensions import db
from lms.input import one_line, text_problem
from lms.models import (
    Agency,
    Attempt,
    Completion,
    DispatchPackage,
    PackageLaunch,
    PackageLearner,
    Role,
    RoleGrant,
    User,
)
from lms.models.types import utcnow
from lms.services import audit, launch_targets
from lms.services.scoping import scoped

KIND_LABELS = {"scorm12": "SCORM 1.2", "scorm2004": "SCORM 2004 (3rd edition)", "cmi5": "cmi5"}
SCORM_KINDS = ("scorm12", "scorm2004")
MAX_ORIGINS = 20
MAX_SEATS = 1_000_000
TOKEN_SALT = "ripple-package-launch"


class PackageError(ValueError):
    """A package that cannot be created or changed as asked; `field` names the form field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class LaunchRefused(ValueError):
    """A launch or redemption that is refused; the message tells the learner what to do."""


@dataclass
class PackageInput:
    kind: str
    target: str
    seat_limit: int | None
    allowed_origins: str  # one per line, as typed


@dataclass
class PackageRow:
    package: DispatchPackage
    seats_used: int

    @property
    def status(self) -> str:
        if not self.package.active:
            return "revoked"
        if self.package.seat_limit is not None and self.seats_used >= self.package.seat_limit:
            return "all seats taken"
        return "active"


def available_kinds() -> list[str]:
    return [*SCORM_KINDS, "cmi5"]


def parse_origins(text: str | None) -> list[str]:
    """The origins of a textarea, one per line (blank lines skipped), each scheme://host[:port]
    with http or https, lower-cased; a bad line raises PackageError naming its line."""
    origins: list[str] = []
    lines = (text or "").splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        shown = line if len(line) <= 60 else line[:57] + "…"
        problem = _origin_problem(line)
        if problem:
            raise PackageError(f"Line {number} (“{shown}”): {problem}", field="allowed_origins")
        origin = line.lower().rstrip("/")
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise PackageError(
            "Enter the address of at least one LMS, like https://lms.example.org.", field="allowed_origins"
        )
    if len(origins) > MAX_ORIGINS:
        raise PackageError(f"Enter at most {MAX_ORIGINS} origins.", field="allowed_origins")
    return origins


def _origin_problem(line: str) -> str | None:
    hint = "write scheme://host[:port], like https://lms.example.org"
    if len(line) > 255:
        return "is longer than 255 characters."
    try:
        parts = urlsplit(line)
        port = parts.port
    except ValueError:
        return f"has a port that is not a number from 1 to 65535; {hint}."
    if parts.scheme.lower() not in ("http", "https"):
        return f"must start with https:// (or http://); {hint}."
    if not parts.hostname or "@" in parts.netloc or any(c in line for c in " \\\"'<>"):
        return f"has no host name; {hint}."
    if parts.path not in ("", "/") or parts.query or parts.fragment or line.endswith("?"):
        return f"is a page address, not an origin: leave out the path; {hint}."
    if port == 0:
        return f"has a port that is not a number from 1 to 65535; {hint}."
    return None


def origin_of(header: str | None) -> str | None:
    """The normalized origin an Origin or Referer header names, or None."""
    if not header or header == "null" or len(header) > 2000:
        return None
    try:
        parts = urlsplit(header)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def create_package(actor: User, agency: Agency, data: PackageInput) -> DispatchPackage:
    """A new package for a target of the agency's catalogue. Flushes; audited."""
    if data.kind not in available_kinds():
        raise PackageError("Choose SCORM 1.2, SCORM 2004 or cmi5.", field="kind")
    entry = next((e for e in launch_targets.catalogue(agency.id) if e.target == data.target), None)
    if entry is None:
        raise PackageError("Choose one of the published courses or scenarios listed.", field="target")
    if data.seat_limit is not None and not 1 <= data.seat_limit <= MAX_SEATS:
        raise PackageError(
            f"Enter a seat limit from 1 to {MAX_SEATS:,}, or leave it empty.", field="seat_limit"
        )
    origins = parse_origins(data.allowed_origins)
    package = DispatchPackage(
        agency_id=agency.id,
        kind=data.kind,
        target=entry.target,
        title=entry.title[:200],
        key=secrets.token_urlsafe(24),
        seat_limit=data.seat_limit,
        allowed_origins=origins,
        created_by_id=actor.id,
    )
    db.session.add(package)
    db.session.flush()
    audit.record(
        actor,
        "package.created",
        package,
        summary=f"{KIND_LABELS[package.kind]} package of “{package.title}” for {', '.join(origins)}",
        after={"kind": package.kind, "target": package.target, "seat_limit": package.seat_limit},
    )
    return package


def seats_used(package: DispatchPackage) -> int:
    return db.session.scalar(
        select(func.count()).select_from(PackageLearner).where(PackageLearner.package_id == package.id)
    )


def packages_of(actor: User, agency: Agency) -> list[PackageRow]:
    """The agency's packages, newest first, with the seats each has used."""
    used = (
        select(PackageLearner.package_id, func.count().label("n"))
        .group_by(PackageLearner.package_id)
        .subquery()
    )
    stmt = (
        scoped(DispatchPackage, actor)
        .add_columns(func.coalesce(used.c.n, 0))
        .outerjoin(used, used.c.package_id == DispatchPackage.id)
        .where(DispatchPackage.agency_id == agency.id)
        .order_by(DispatchPackage.id.desc())
    )
    return [PackageRow(package, count) for package, count in db.session.execute(stmt)]


def revoke_package(actor: User, package: DispatchPackage) -> None:
    """Stop every launch of the package at once. Flushes; audited."""
    if not package.active:
        raise PackageError("This package is already revoked.")
    package.revoked_at = utcnow()
    package.revoked_by_id = actor.id
    db.session.flush()
    audit.record(actor, "package.revoked", package, summary=f"Package of “{package.title}” revoked")


def build_zip(package: DispatchPackage) -> tuple[str, bytes]:
    """The file name and bytes of the package's zip."""
    from lms.downloads import safe_filename

    stem = safe_filename(f"ripple-{package.kind}-{package.title}")
    if package.kind == "cmi5":
        from lms.services.packaging import cmi5

        return f"{stem}.zip", cmi5.build_zip(package)
    from lms.services.packaging import scorm

    return f"{stem}.zip", scorm.build_zip(package)


# --- launches -------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=TOKEN_SALT)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _active_package(key: str | None) -> DispatchPackage:
    package = (
        db.session.scalar(select(DispatchPackage).where(DispatchPackage.key == key))
        if isinstance(key, str) and 0 < len(key) <= 64
        else None
    )
    if package is None:
        raise LaunchRefused("Ripple does not know this package. Ask your training coordinator for a new one.")
    if not package.active:
        raise LaunchRefused(
            "This package was withdrawn by the agency's training coordinator. Ask them for its replacement."
        )
    return package


def _learner(package: DispatchPackage, learner_id: str) -> PackageLearner | None:
    return db.session.scalar(
        select(PackageLearner).where(
            PackageLearner.package_id == package.id, PackageLearner.learner_id == learner_id
        )
    )


def check_seat(package: DispatchPackage, learner_id: str) -> None:
    if package.seat_limit is None or _learner(package, learner_id) is not None:
        return
    if seats_used(package) >= package.seat_limit:
        raise LaunchRefused(
            f"All {package.seat_limit} seats of this package are taken, so Ripple cannot open it for "
            "another learner. Tell your training coordinator."
        )


def issue_launch(
    key: str | None,
    origin: str | None,
    learner_id: str | None,
    learner_name: str | None,
    *,
    now: datetime | None = None,
) -> tuple[PackageLaunch, str]:
    """A launch token for a SCORM package's page at `origin`. Flushes."""
    package = _active_package(key)
    if package.kind not in SCORM_KINDS:
        raise LaunchRefused("This is not a SCORM package: import it into your LMS as the kind it is.")
    if origin is None or origin not in package.allowed_origins:
        raise LaunchRefused(
            f"This package may not be opened from {origin or 'a page whose address the browser did not send'}. "
            "Ask your training coordinator to add your LMS's address to the package in Ripple."
        )
    learner_id = learner_id if isinstance(learner_id, str) else ""
    if text_problem(PackageLearner.learner_id, learner_id, required=True):
        raise LaunchRefused(
            "Your LMS did not give Ripple a usable learner id (empty, longer than 255 characters "
            "or with control characters). Tell your LMS administrator."
        )
    check_seat(package, learner_id)
    now = now or utcnow()
    launch = PackageLaunch(
        agency_id=package.agency_id,
        package_id=package.id,
        learner_id=learner_id,
        learner_name=_person_name(learner_name),
        origin=origin,
        token_hash="pending:" + secrets.token_hex(16),
        issued_at=now,
        expires_at=now + timedelta(seconds=current_app.config["PACKAGE_LAUNCH_TOKEN_SECONDS"]),
    )
    db.session.add(launch)
    db.session.flush()
    token = _serializer().dumps(
        {"l": launch.id, "p": package.key, "a": package.agency_id, "n": secrets.token_urlsafe(16)}
    )
    launch.token_hash = _hash(token)
    db.session.flush()
    return launch, token


def purge_expired_launches(now: datetime | None = None) -> int:
    """Delete the launch tokens that expired without being used (a redeemed launch is kept: it
    says what its session opened); returns how many. Flushes."""
    result = db.session.execute(
        delete(PackageLaunch)
        .where(PackageLaunch.redeemed_at.is_(None), PackageLaunch.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _person_name(raw: str | None) -> str:
    """A learner name for people: SCORM 1.2 sends "Last, First", so that is turned round."""
    name = one_line(raw, User.name)
    last, comma, first = name.partition(",")
    if comma and first.strip() and last.strip() and "," not in first:
        name = f"{first.strip()} {last.strip()}"
    return name[:200]


def redeem_launch(key: str | None, token: str | None, *, now: datetime | None = None):
    """Use a launch token, once: the person (found or created) and where the launch goes.
    Returns (launch, user, redirect_to). Flushes."""
    now = now or utcnow()
    refused = "Ripple could not check this launch. Open the package again from your LMS."
    if not isinstance(token, str) or not 0 < len(token) <= 500:
        raise LaunchRefused(refused)
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise LaunchRefused(refused) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("l"), int):
        raise LaunchRefused(refused)
    if payload.get("p") != key:
        raise LaunchRefused(
            "This launch was issued for another package. Open the package again from your LMS."
        )
    package = _active_package(key)
    launch = db.session.get(PackageLaunch, payload["l"]) if 0 < payload["l"] < 2**31 else None
    if (
        launch is None
        or launch.token_hash != _hash(token)
        or launch.package_id != package.id
        or launch.agency_id != package.agency_id
        or payload.get("a") != package.agency_id
    ):
        raise LaunchRefused(refused)
    if launch.redeemed_at is not None:
        raise LaunchRefused("This launch was already used. Open the package again from your LMS.")
    if now >= launch.expires_at:
        raise LaunchRefused("This launch expired before it was opened. Open the package again from your LMS.")
    check_seat(package, launch.learner_id)
    # Used once even when two requests race with the same token: only one update matches.
    claimed = db.session.execute(
        update(PackageLaunch)
        .where(PackageLaunch.id == launch.id, PackageLaunch.redeemed_at.is_(None))
        .values(redeemed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise LaunchRefused("This launch was already used. Open the package again from your LMS.")
    launch.redeemed_at = now
    user = _person_of(package, launch, now)
    opened = _open(package, launch, user)
    launch.user_id = user.id
    launch.attempt_id = opened.attempt.id if opened.attempt else None
    launch.assignment_id = opened.assignment.id if opened.assignment else None
    db.session.flush()
    return launch, user, opened.redirect_to


def learner_for(
    package: DispatchPackage, learner_id: str, learner_name: str | None, *, now: datetime | None = None
) -> PackageLearner:
    """The package's learner for this LMS learner id: found, or created with a new person (an
    officer of the package's agency) while seats remain. Never matched by name or email; the
    same for SCORM and cmi5 launches. LaunchRefused when no seat is left, or the person is
    deactivated or belongs to another agency. Flushes."""
    check_seat(package, learner_id)
    learner = _learner(package, learner_id)
    if learner is None:
        user = User(
            agency_id=package.agency_id,
            email=f"package-{package.id}-{secrets.token_hex(6)}@package.invalid",
            name=learner_name or "Learner",
        )
        user.role_grants = [RoleGrant(role=Role.OFFICER.value)]
        db.session.add(user)
        db.session.flush()
        learner = PackageLearner(
            agency_id=package.agency_id, package_id=package.id, learner_id=learner_id, user_id=user.id
        )
        db.session.add(learner)
        db.session.flush()
        audit.record(
            None,
            "package.person_created",
            user,
            summary=f"{user.name} first launched the package of “{package.title}”",
        )
    user = learner.user
    if user.agency_id != package.agency_id:
        raise LaunchRefused(
            "This learner is linked to a person of another agency. Tell your training coordinator."
        )
    if not user.active:
        raise LaunchRefused("Your Ripple account is deactivated. Ask your training coordinator.")
    learner.last_launch_at = now or utcnow()
    db.session.flush()
    return learner


def _person_of(package: DispatchPackage, launch: PackageLaunch, now: datetime) -> User:
    """The person for (package, learner id), created in the package's agency on first launch."""
    return learner_for(package, launch.learner_id, launch.learner_name, now=now).user


def _open(package: DispatchPackage, launch: PackageLaunch, user: User) -> launch_targets.Opened:
    def resume(_version) -> Attempt | None:
        # An attempt in progress from an earlier launch of this package goes on where it was.
        return db.session.scalar(
            select(Attempt)
            .join(PackageLaunch, PackageLaunch.attempt_id == Attempt.id)
            .where(
                Attempt.user_id == user.id,
                Attempt.status == "in_progress",
                PackageLaunch.package_id == package.id,
            )
            .order_by(Attempt.id.desc())
            .limit(1)
        )

    try:
        return launch_targets.open_target(
            user, package.agency_id, package.target, source="package", resume=resume, default="main.index"
        )
    except launch_targets.TargetError as error:
        raise LaunchRefused(f"{error} Tell your training coordinator.") from error


def launch_of_session(marker, user: User) -> PackageLaunch | None:
    """The redeemed launch a session's package marker names, if it is this person's."""
    launch_id = marker.get("launch_id") if isinstance(marker, dict) else None
    launch = db.session.get(PackageLaunch, launch_id) if isinstance(launch_id, int) else None
    if launch is None or launch.user_id != user.id or launch.redeemed_at is None:
        return None
    return launch


def report_of(launch: PackageLaunch, *, now: datetime | None = None) -> dict | None:
    """What the package writes to the LMS once there is a result, else None.

    A scenario reports when its attempt is graded (score 0 to 100, passed or failed); a course
    when its completion is recorded (completed and passed, score 100, as LTI reports it). The
    session time runs from the launch's redemption to the result, or to now when the result
    came before this launch.
    """
    now = now or utcnow()
    result_at, score, passed = None, None, None
    if launch.attempt_id:
        attempt = db.session.get(Attempt, launch.attempt_id)
        grade = attempt.grade if attempt is not None and attempt.status == "completed" else None
        if grade is None:
            return None
        result_at, score, passed = attempt.completed_at, grade.score, grade.passed
    elif launch.assignment_id:
        completion = db.session.scalar(
            select(Completion).where(
                Completion.assignment_id == launch.assignment_id, Completion.withdrawn_at.is_(None)
            )
        )
        if completion is None:
            return None
        result_at, score, passed = completion.completed_at, 100.0, True
    else:
        return None
    started = launch.redeemed_at or now
    end = result_at if result_at is not None and result_at >= started else now
    return {
        "type": "ripple.result",
        "completion": "completed",
        "success": "passed" if passed else "failed",
        "score": {"raw": round(score, 2), "min": 0, "max": 100, "scaled": round(score / 100, 4)},
        "session_seconds": round(max(0.0, (end - started).total_seconds()), 2),
    }
