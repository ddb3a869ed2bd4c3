"""The course catalogue: publishing courses into the database and reading them back.

A course's content lives whole in each `CourseVersion` in the course file format, so the
parsed `CourseSpec` of a version can be cached: a published version never changes.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from lms.course_format import CourseSpec, course_from_data, course_to_data, load_builtin_courses
from lms.extensions import db
from lms.models import Course, CourseVersion, User
from lms.models.types import utcnow

# (version id, course id, number, created_at) -> spec; the key changes if the row does.
_SPECS: dict[tuple, CourseSpec] = {}
_SPECS_MAX = 256


def publish_course(
    spec: CourseSpec, *, agency_id: int | None = None, actor: User | None = None
) -> CourseVersion:
    """Publish `spec` as the next version of its course (created if missing) and return it.

    `agency_id` None puts the course in the platform library, offered to every agency.
    """
    course = db.session.scalar(
        select(Course).where(
            Course.slug == spec.slug,
            Course.agency_id.is_(None) if agency_id is None else Course.agency_id == agency_id,
        )
    )
    if course is None:
        course = Course(agency_id=agency_id, slug=spec.slug, title=spec.title)
        db.session.add(course)
        db.session.flush()
    number = 1 + max((v.number for v in course.versions), default=0)
    version = CourseVersion(
        course_id=course.id,
        number=number,
        status="published",
        content=course_to_data(spec),
        title=spec.title,
        category=spec.category,
        credit_hours=spec.credit_hours,
        certificate_valid_months=spec.certificate_valid_months,
        renewal_course_slug=spec.renewal.course if spec.renewal else None,
        renewal_window_days=spec.renewal.window_days if spec.renewal else None,
        created_by_id=actor.id if actor is not None else None,
        published_at=utcnow(),
    )
    db.session.add(version)
    course.title = spec.title
    db.session.flush()
    return version


def load_builtin_courses_into_db() -> list[Course]:
    """Put every built-in course in the platform library as published version 1.

    Idempotent: a course already in the library is left as it is.
    """
    courses = []
    for slug, spec in load_builtin_courses().items():
        course = db.session.scalar(select(Course).where(Course.slug == slug, Course.agency_id.is_(None)))
        if course is None:
            course = publish_course(spec).course
        courses.append(course)
    return courses


def spec_of(version: CourseVersion) -> CourseSpec:
    """The parsed content of a course version (cached: versions are immutable)."""
    key = (version.id, version.course_id, version.number, version.created_at)
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) >= _SPECS_MAX:
            _SPECS.clear()
        spec = _SPECS[key] = course_from_data(version.content)
    return spec


def published_version(course: Course) -> CourseVersion | None:
    """The newest published version of a course, if any."""
    return db.session.scalar(
        select(CourseVersion)
        .where(CourseVersion.course_id == course.id, CourseVersion.status == "published")
        .order_by(CourseVersion.number.desc())
        .limit(1)
    )


def courses_offered_to(agency_id: int | None):
    """A SELECT of the courses an agency may use: its own and the platform library's."""
    stmt = select(Course)
    if agency_id is None:
        return stmt
    return stmt.where(or_(Course.agency_id.is_(None), Course.agency_id == agency_id))


def course_by_slug(slug: str, agency_id: int | None) -> Course | None:
    """The course with `slug` offered to the agency; the agency's own wins over the library's."""
    courses = db.session.scalars(courses_offered_to(agency_id).where(Course.slug == slug)).all()
    return next((c for c in courses if c.agency_id is not None), courses[0] if courses else None)
