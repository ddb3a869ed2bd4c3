"""Download names: whatever people typed into a badge number or slug, the Content-Disposition
header names one safe file and nothing else."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from lms.downloads import attachment, safe_filename

# attachment; filename="<safe ASCII>" and, for a name beyond ASCII, filename*=UTF-8''<encoded>
ONE_SAFE_FILE = re.compile(
    r"attachment; filename=\"([A-Za-z0-9._-]+)\"(?:; filename\*=UTF-8''([A-Za-z0-9._%-]+))?"
)

HOSTILE_BADGES = [
    'x"; filename="evil.exe',
    "x;filename*=UTF-8''evil.exe",
    "../../etc/passwd",
    "a\\b/c:d*e?f<g>h|i",
    "tab\tand\x07bell",
]


def _names(header: str) -> list[str]:
    """The file names a Content-Disposition value gives (ASCII fallback, then UTF-8 name)."""
    match = ONE_SAFE_FILE.fullmatch(header)
    assert match, header
    return [match[1]] + ([unquote(match[2])] if match[2] else [])


@pytest.mark.parametrize("name", HOSTILE_BADGES)
def test_a_safe_name_keeps_only_letters_digits_dot_dash_underscore(name):
    safe = safe_filename(f"ripple-transcript-{name}.csv")
    assert safe.endswith(".csv") and not safe.startswith(".")
    assert all(c.isalnum() or c in "._-" for c in safe)


def test_a_non_ascii_name_gets_filename_star_and_an_ascii_fallback():
    assert attachment("ripple-transcript-Müller-7.csv") == (
        'attachment; filename="ripple-transcript-Muller-7.csv"; '
        "filename*=UTF-8''ripple-transcript-M%C3%BCller-7.csv"
    )


def test_a_name_with_no_ascii_letters_falls_back_to_a_default_with_its_extension():
    assert _names(attachment("Ελληνικά.csv", default="transcript")) == ["transcript.csv", "Ελληνικά.csv"]


def test_a_long_name_is_cut_but_keeps_its_extension():
    assert safe_filename("a" * 500 + ".xlsx").endswith("a.xlsx")
    assert len(safe_filename("a" * 500 + ".xlsx")) <= 120


@pytest.mark.parametrize("badge", HOSTILE_BADGES + ["Müller\r\nSet-Cookie: x=1"])
def test_transcript_download_names_one_safe_file_whatever_the_badge(
    client, sign_in, coordinator, make_user, agency, badge
):
    person = make_user(agency, badge_number=badge)
    response = sign_in(coordinator).get(f"/learn/people/{person.id}/transcript.csv")
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert not [cookie for cookie in response.headers.getlist("Set-Cookie") if "x=1" in cookie]
    for name in _names(header):
        assert name.startswith("ripple-transcript-") and name.endswith(".csv")
        assert all(c.isalnum() or c in "._-" for c in name)


def test_compliance_exports_use_the_safe_name(client, sign_in, coordinator, db, agency):
    agency.slug = 'evil";x=1'
    db.session.commit()
    sign_in(coordinator)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/agencies/{agency.id}/exports/overdue.{fmt}")
        assert response.headers["Content-Disposition"] == f'attachment; filename="evil_x_1-overdue.{fmt}"'
