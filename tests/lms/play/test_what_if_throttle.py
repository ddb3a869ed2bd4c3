"""What if: each projection is simulated once, and a user's uncached ones are rate-limited."""

from __future__ import annotations

import pytest

import scenarios as engine
from lms.services.scenario_library import scenario_of
from tests.lms.ops.test_limiter_storage_down import storage_down  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def fresh_projections():
    from lms.services import debrief

    debrief._projections.clear()
    yield
    debrief._projections.clear()


@pytest.fixture
def finished_attempt(db, instructor, direct_attempt):
    """The instructor's attempt played along the expert path, graded."""
    from lms.services import attempts

    scenario = scenario_of(direct_attempt.scenario_version)
    for index, choice in enumerate(scenario.expert_path):
        attempts.decide(instructor, direct_attempt, index, choice)
    db.session.commit()
    assert direct_attempt.status == "completed"
    return direct_attempt


def alternatives(attempt) -> list[tuple[int, str]]:
    """Every (decision number, option) the attempt did not choose, single choices only."""
    scenario = scenario_of(attempt.scenario_version)
    return [
        (index + 1, option.id)
        for index, point in enumerate(scenario.decisions)
        for option in point.options
        if [option.id] != attempt.choices[index]
    ]


@pytest.fixture
def simulations(monkeypatch):
    """Counts the Monte Carlo sweeps the what-ifs run."""
    calls = []
    real = engine.monte_carlo

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "monte_carlo", counted)
    return calls


def test_a_what_if_is_simulated_once_then_served_from_the_cache(finished_attempt, simulations):
    from lms.services import debrief

    (number, option), (other_number, other) = alternatives(finished_attempt)[:2]
    first = debrief.what_if(finished_attempt, number - 1, [option])
    # The alternative only: "as you played" is the grade's own distribution, not simulated again.
    assert len(simulations) == 1
    again = debrief.what_if(finished_attempt, number - 1, [option])
    assert len(simulations) == 1 and again.rows == first.rows
    debrief.what_if(finished_attempt, other_number - 1, [other])
    assert len(simulations) == 2


def test_the_cache_is_bounded(finished_attempt, monkeypatch):
    from lms.services import debrief

    monkeypatch.setattr(debrief._projections, "size", 2)
    for number, option in alternatives(finished_attempt)[:3]:
        debrief.what_if(finished_attempt, number - 1, [option])
    assert len(debrief._projections._items) == 2


@pytest.fixture
def two_what_ifs_per_minute(rate_limit):
    rate_limit("WHAT_IF_RATE_LIMIT", "2 per minute")


def test_uncached_what_ifs_are_rate_limited_per_user_and_cached_ones_are_not(
    client, sign_in, instructor, finished_attempt, two_what_ifs_per_minute
):
    sign_in(instructor)
    url = f"/play/attempts/{finished_attempt.id}/what-if"
    (n1, o1), (n2, o2), (n3, o3) = alternatives(finished_attempt)[:3]
    answers = [client.get(url, query_string={"decision": n, "options": o}) for n, o in [(n1, o1), (n2, o2)]]
    assert [a.status_code for a in answers] == [200, 200]
    refused = client.get(url, query_string={"decision": n3, "options": o3})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "many new projections" in page and "Please wait" in page
    # What costs nothing is still answered: a projection already made, and the form itself.
    assert client.get(url, query_string={"decision": n1, "options": o1}).status_code == 200
    assert client.get(url).status_code == 200


def test_one_persons_spent_allowance_leaves_anothers_alone(
    client,
    app,
    sign_in,
    make_user,
    agency,
    instructor,
    finished_attempt,
    db,
    store_dispute,
    two_what_ifs_per_minute,
):
    from lms.models import Role
    from lms.services import attempts

    colleague = make_user(agency, roles=(Role.INSTRUCTOR,))
    theirs = attempts.start_direct(colleague, store_dispute)
    for index, choice in enumerate(scenario_of(store_dispute).expert_path):
        attempts.decide(colleague, theirs, index, choice)
    db.session.commit()

    sign_in(instructor)
    url = f"/play/attempts/{finished_attempt.id}/what-if"
    codes = [
        client.get(url, query_string={"decision": n, "options": o}).status_code
        for n, o in alternatives(finished_attempt)[:3]
    ]
    assert codes == [200, 200, 429]
    other = app.test_client()
    sign_in(colleague, other)
    number, option = alternatives(theirs)[0]
    assert (
        other.get(
            f"/play/attempts/{theirs.id}/what-if", query_string={"decision": number, "options": option}
        ).status_code
        == 200
    )


def test_the_what_if_limit_fails_open_when_its_storage_is_down(
    client,
    sign_in,
    instructor,
    finished_attempt,
    storage_down,  # noqa: F811
):
    sign_in(instructor)
    url = f"/play/attempts/{finished_attempt.id}/what-if"
    asked = [
        client.get(url, query_string={"decision": n, "options": o})
        for n, o in alternatives(finished_attempt)[:2]
    ]
    assert [a.status_code for a in asked] == [200, 200]  # at 1 per minute, uncounted
