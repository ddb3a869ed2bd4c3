"""The editors' live checks (the lesson's Markdown preview and the scenario's YAML check) draw
on one AUTHOR_PREVIEW_RATE_LIMIT allowance per instructor; a refusal is a 429 with Retry-After,
which the editors' scripts turn into "checking paused, try again in N s"."""

from __future__ import annotations

import pytest

from lms.models import Role


def live_checks(adapted) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "markdown preview": ("/author/markdown-preview", {"body": "**bold**"}),
        "yaml check": (f"/author/scenarios/{adapted.id}/validate", {"source": "slug: x\n"}),
    }


@pytest.fixture
def three_checks_per_minute(rate_limit):
    rate_limit("AUTHOR_PREVIEW_RATE_LIMIT", "3 per minute")


@pytest.mark.parametrize("last", ["markdown preview", "yaml check"])
def test_both_live_checks_draw_on_one_allowance_per_instructor(
    client, sign_in, instructor, adapted, three_checks_per_minute, last
):
    sign_in(instructor)
    checks = live_checks(adapted)
    spent = [checks[name] for name in ("markdown preview", "yaml check", "markdown preview")]
    assert [client.post(url, data=data).status_code for url, data in spent] == [200, 200, 200]
    url, data = checks[last]
    refused = client.post(url, data=data, headers={"Accept": "application/json"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["status"] == 429
    assert "live checks" in refused.json["detail"]


def test_another_instructor_has_an_allowance_of_their_own(
    client, app, sign_in, instructor, make_user, agency, adapted, three_checks_per_minute
):
    url, data = live_checks(adapted)["markdown preview"]
    sign_in(instructor)
    assert [client.post(url, data=data).status_code for _ in range(4)] == [200, 200, 200, 429]
    colleague = make_user(agency, (Role.INSTRUCTOR,), name="Cora Colleague")
    other = app.test_client()
    sign_in(colleague, other)
    assert other.post(url, data=data).status_code == 200
