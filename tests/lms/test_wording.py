"""Numbers with units are worded for people: singular for exactly one, no trailing zeros."""

from __future__ import annotations

import pytest

from lms.wording import action_label, quantity


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1, "credit hour", "1 credit hour"),
        (1.0, "credit hour", "1 credit hour"),
        (2, "credit hour", "2 credit hours"),
        (2.5, "hour", "2.5 hours"),
        (0, "minute", "0 minutes"),
        (-1, "point", "-1 points"),
    ],
)
def test_quantity_words_the_unit_for_the_number(value, unit, expected):
    assert quantity(value, unit) == expected


def test_templates_use_the_quantity_filter(app):
    with app.app_context():
        assert app.jinja_env.from_string("{{ 1 | quantity('minute') }}").render() == "1 minute"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("rule.created", "Rule created"),
        ("api_token.revoked", "API token revoked"),
        ("lti.key_rotated", "LTI key rotated"),
        ("account.password_change_locked", "Account password change locked"),
    ],
)
def test_audit_actions_are_shown_as_words(action, expected):
    assert action_label(action) == expected


def test_tension_is_worded_as_partners_word_it():
    from lms.wording import tension_word

    assert [tension_word(v) for v in (0.1, 0.3, 0.5, 0.8)] == ["calm", "uneasy", "tense", "volatile"]


def test_an_audit_change_reads_field_by_field_in_words():
    from lms.wording import changes

    assert changes({"active": True, "rank": "Officer"}, {"active": False, "rank": "Officer"}) == [
        ("Active", "yes", "no")
    ]
    assert changes(None, {"cycle_start": "2026-01-01", "hours": 40.0, "ranks": ["Officer", "Sergeant"]}) == [
        ("Cycle start", None, "Jan 1, 2026"),
        ("Hours", None, "40"),
        ("Ranks", None, "Officer, Sergeant"),
    ]
    assert changes({"due_on": None}, {"due_on": "2026-12-31"}) == [("Due on", "none", "Dec 31, 2026")]
