"""The heartbeat in a real browser: it posts while the item page is visible, and stops when hidden."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.models import ActiveTime
from tests.lms.learning_fixtures import enrol, publish


@pytest.fixture
def quick_beats(app):
    # the beat carries the page's CSRF token, as a form does; a 3 s interval keeps the test short
    app.config.update(WTF_CSRF_ENABLED=True, HEARTBEAT_SECONDS=3)
    yield
    app.config.update(WTF_CSRF_ENABLED=False, HEARTBEAT_SECONDS=30)


def _is_beat(response) -> bool:
    return response.url.endswith("/activity/beat")


def test_the_heartbeat_posts_while_the_page_is_visible_and_stops_when_hidden(
    page, sign_in_as, officer, db, quick_beats
):
    assignment = enrol(officer, publish())
    sign_in_as(officer)
    posted = []
    page.on("request", lambda request: posted.append(request.url) if _is_beat(request) else None)
    with page.expect_response(_is_beat) as first:
        page.goto(f"/learn/assignments/{assignment.id}/items/intro")
    assert first.value.status == 200

    with page.expect_response(_is_beat) as second:
        page.mouse.move(10, 10)
    assert second.value.status == 200

    page.mouse.move(20, 20)
    page.wait_for_timeout(1500)  # a second or two counted since that beat, not yet sent
    with page.expect_request(_is_beat):  # leaving view sends what was counted, as a beacon
        page.evaluate(
            "() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
    sent = len(posted)
    page.wait_for_timeout(4000)  # hidden: no beats
    assert len(posted) == sent

    db.session.expire_all()
    row = db.session.scalar(select(ActiveTime).where(ActiveTime.user_id == officer.id))
    assert (row.item_slug, row.assignment_id) == ("intro", assignment.id) and row.beats >= 3
    assert 0 < row.seconds <= 45 * (row.beats - 1)
