"""Small courses and helpers shared by the learning, certificate and verification tests."""

from __future__ import annotations

import copy
from typing import Any

LESSON_BODY = """## Why partners matter

Partners **hear** what you cannot.

![A diagram](images/rumour-race.svg)

- [ ] Call one partner this week
- [x] Read this lesson

<script>alert('x')</script>
<a href="javascript:alert(1)">bad link</a>
"""

CHECK = {
    "kind": "knowledge_check",
    "slug": "basics-check",
    "title": "Knowledge check: basics",
    "pass_mark": 75,
    "locked_until_previous": True,
    "questions": [
        {
            "kind": "single_choice",
            "id": "when",
            "prompt": "When do you call partners?",
            "choices": [
                {"text": "Now", "correct": True, "feedback": "Yes, early."},
                {"text": "Next week", "feedback": "Too late: the rumour wins."},
            ],
            "explanation": "Early calls beat rumours.",
        },
        {
            "kind": "multiple_choice",
            "id": "gives",
            "prompt": "What does early contact give?",
            "choices": [
                {"text": "Warning", "correct": True},
                {"text": "Visibility", "correct": True},
                {"text": "A guarantee"},
            ],
        },
        {"kind": "true_false", "id": "risk", "prompt": "Risk drops at once.", "answer": False},
        {
            "kind": "ordering",
            "id": "steps",
            "prompt": "Order these.",
            "sequence": ["Safety", "Facts", "Partners", "Message"],
        },
    ],
}


def course_data(**overrides: Any) -> dict:
    """A small valid course: module 1 = lesson, locked check, optional lesson; module 2 =
    a required lesson and an optional scenario."""
    data = {
        "ripple_course": 1,
        "slug": "test-course",
        "title": "Test Partnership Course",
        "summary": "A short course for tests.",
        "category": "Community policing",
        "credit_hours": 4,
        "certificate_valid_months": 24,
        "attempt_policy": {"max_attempts": 2, "counts": "best"},
        "modules": [
            {
                "slug": "basics",
                "title": "Basics",
                "items": [
                    {"kind": "lesson", "slug": "intro", "title": "Intro lesson", "body": LESSON_BODY},
                    copy.deepcopy(CHECK),
                    {
                        "kind": "lesson",
                        "slug": "extra",
                        "title": "Extra reading",
                        "required": False,
                        "body": "More.",
                    },
                ],
            },
            {
                "slug": "practice",
                "title": "Practice",
                "items": [
                    {"kind": "lesson", "slug": "wrap-up", "title": "Wrap-up", "body": "Done soon."},
                    {
                        "kind": "scenario",
                        "slug": "practice-scenario",
                        "title": "Practice scenario",
                        "required": False,
                        "scenario": "crew-shooting-rumour",
                        "intro": "Decide whom to call.",
                    },
                ],
            },
        ],
    }
    data.update(overrides)
    return data


def publish(data: dict | None = None, *, agency_id: int | None = None):
    """Publish a course (the platform library by default) and return the Course."""
    from lms.course_format import course_from_data
    from lms.extensions import db
    from lms.services import catalog

    version = catalog.publish_course(course_from_data(data or course_data()), agency_id=agency_id)
    db.session.commit()
    return version.course


def enrol(user, course, **kwargs):
    from lms.extensions import db
    from lms.services import learning

    assignment = learning.assign_course(None, user, course, **kwargs)
    db.session.commit()
    return assignment


def correct_form(assignment, item_slug: str = "basics-check", *, wrong: tuple[str, ...] = ()) -> dict:
    """Form fields answering every question the next attempt at a check presents right
    (except those in `wrong`), as the page shows them: choices by their shown position."""
    from lms.services import learning

    _, item = learning.item_of(assignment, item_slug)
    number = learning.next_check_number(assignment, item_slug)
    key = learning.display_key(assignment, item, number)
    form: dict[str, Any] = {"attempt": str(number)}
    for shown in learning.presented(assignment, item, number):
        q = shown.question
        name = f"q-{q.id}"
        bad = q.id in wrong
        position = {index: pos for pos, index in enumerate(shown.choice_order)}
        if q.kind == "single_choice":
            right = next(i for i, c in enumerate(q.choices) if c.correct)
            pick = next(i for i, c in enumerate(q.choices) if not c.correct) if bad else right
            form[name] = str(position[pick])
        elif q.kind == "multiple_choice":
            chosen = [i for i, c in enumerate(q.choices) if c.correct]
            form[name] = [str(position[i]) for i in (chosen[:1] if bad else chosen)]
        elif q.kind == "true_false":
            form[name] = "true" if (q.answer != bad) else "false"
        elif q.kind == "ordering":
            shown_items = learning.ordering_display(q, key)
            order = list(q.sequence)
            if bad:
                order = order[::-1]
            for index, text in enumerate(shown_items):
                form[f"{name}-{index}"] = str(order.index(text) + 1)
    return form


def pass_course(officer, assignment) -> None:
    """Do every required item of the test course, as the officer would."""
    from lms.extensions import db
    from lms.services import learning

    learning.mark_lesson_read(officer, assignment, "intro")
    learning.submit_check(
        officer,
        assignment,
        "basics-check",
        learning.parse_check_form(
            learning.item_of(assignment, "basics-check")[1],
            correct_form(assignment),
            key=learning.display_key(assignment, learning.item_of(assignment, "basics-check")[1]),
        ),
    )
    learning.mark_lesson_read(officer, assignment, "wrap-up")
    db.session.commit()


def learning_objects(officer) -> dict:
    """URL parameters for the isolation test: agency A's officer's course records."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import Certificate

    course = publish(course_data(slug="isolation-course", credit_hours=0.25))  # adaptable: honest hours
    pass_course(officer, enrol(officer, course))
    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == officer.id))
    open_assignment = enrol(officer, course)
    return {
        "assignment_id": open_assignment.id,
        "item_slug": "intro",
        "course_id": course.id,
        "certificate_id": cert.id,
        "code": cert.code,
    }
