"""The package pages and the launch routes over HTTP: who may create, download and revoke;
what a refused launch shows; and the framing and reporting of a session opened from a package."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from lms.models import AuditEvent, DispatchPackage, PackageLaunch, Role
from lms.services.packaging import packages

LMS = "https://lms.county.test"


@pytest.fixture
def package(db, coordinator, agency, library):
    made = packages.create_package(
        coordinator, agency, packages.PackageInput("scorm12", "scenario:store-dispute", 2, LMS)
    )
    db.session.commit()
    return made


def _list(agency):
    return f"/agencies/{agency.id}/integrations/packages"


def test_a_coordinator_creates_a_package_from_the_integrations_page(
    client, sign_in, coordinator, agency, library, db
):
    sign_in(coordinator)
    overview = client.get(f"/agencies/{agency.id}/integrations").get_data(as_text=True)
    assert _list(agency) in overview
    page = client.get(_list(agency)).get_data(as_text=True)
    assert "Create a package" in page and "scenario:store-dispute" in page and "SCORM 2004" in page
    response = client.post(
        f"{_list(agency)}/new",
        data={
            "target": "scenario:store-dispute",
            "kind": "scorm2004",
            "seat_limit": "10",
            "allowed_origins": LMS,
        },
    )
    assert response.status_code == 302
    package = db.session.scalars(select(DispatchPackage)).one()
    assert (package.kind, package.seat_limit, package.allowed_origins) == ("scorm2004", 10, [LMS])
    listed = client.get(_list(agency)).get_data(as_text=True)
    assert "0 of 10" in listed and "active" in listed


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"allowed_origins": f"{LMS}\nlms.other.test"},
            "Line 2 (“lms.other.test”): must start with https://",
        ),
        ({"seat_limit": "0"}, "from 1 to"),
        ({"target": "scenario:nope"}, "Not a valid choice"),
        ({"kind": "cmi9"}, "Not a valid choice"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(
    client, sign_in, coordinator, agency, library, db, fields, message
):
    sign_in(coordinator)
    data = {"target": "scenario:store-dispute", "kind": "scorm12", "allowed_origins": LMS, **fields}
    response = client.post(f"{_list(agency)}/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(DispatchPackage)) == 0


def test_download_gives_the_zip(client, sign_in, coordinator, agency, package):
    sign_in(coordinator)
    response = client.get(f"{_list(agency)}/{package.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "imsmanifest.xml" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()


def test_revoking_asks_first_then_stops_downloads(client, sign_in, coordinator, agency, package, db):
    sign_in(coordinator)
    confirm = client.get(f"{_list(agency)}/{package.id}/revoke").get_data(as_text=True)
    assert "Revoke the package" in confirm and "cannot be undone" in confirm
    assert db.session.get(DispatchPackage, package.id).active  # asking changes nothing
    assert client.post(f"{_list(agency)}/{package.id}/revoke").status_code == 302
    db.session.expire_all()
    assert not db.session.get(DispatchPackage, package.id).active
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "package.revoked"))
    assert client.get(f"{_list(agency)}/{package.id}/download").status_code == 302
    assert "revoked" in client.get(_list(agency)).get_data(as_text=True)


def test_an_instructor_downloads_but_neither_creates_nor_revokes(
    client, sign_in, instructor, agency, package
):
    sign_in(instructor)
    page = client.get(_list(agency)).get_data(as_text=True)
    assert "Download" in page and "Create a package" not in page and "Revoke" not in page
    assert client.get("/").get_data(as_text=True).count(_list(agency)) == 1  # in the navigation
    assert client.get(f"{_list(agency)}/{package.id}/download").status_code == 200
    assert client.post(f"{_list(agency)}/new", data={"allowed_origins": LMS}).status_code == 403
    assert client.post(f"{_list(agency)}/{package.id}/revoke").status_code == 403


def test_another_agencys_coordinator_sees_nothing_of_the_package(
    client, sign_in, make_agency, make_user, agency, package, db
):
    sign_in(make_user(make_agency("Other Police"), (Role.COORDINATOR,)))
    for method, path in (
        ("GET", _list(agency)),
        ("GET", f"{_list(agency)}/{package.id}/download"),
        ("GET", f"{_list(agency)}/{package.id}/revoke"),
        ("POST", f"{_list(agency)}/{package.id}/revoke"),
    ):
        assert client.open(path, method=method).status_code == 404, path
    db.session.expire_all()
    assert db.session.get(DispatchPackage, package.id).active


# --- launching ---------------------------------------------------------------------------------------


def _launch(client, package, origin=LMS, learner="lms-7", **headers):
    return client.post(
        f"/packages/{package.key}/launch",
        data={"learner_id": learner, "learner_name": "Lane, Lena"},
        headers={"Origin": origin, **headers} if origin else headers,
    )


def test_a_launch_redeems_once_and_frames_for_the_package_only(app, client, package, db):
    app.config["LMS_FRAME_ORIGINS"] = ["https://some-lti-platform.test"]
    try:
        response = _launch(client, package)
        assert response.status_code == 303
        enter = response.headers["Location"]
        assert f"/packages/{package.key}/enter?token=" in enter
        opened = client.get(enter)
        assert opened.status_code == 302 and "/play/attempts/" in opened.headers["Location"]
        play = client.get(opened.headers["Location"])
        assert play.status_code == 200 and "Lena Lane" in play.get_data(as_text=True)
        ancestors = re.search(r"frame-ancestors ([^;]+)", play.headers["Content-Security-Policy"]).group(1)
        assert ancestors.split() == ["'self'", LMS]
        replay = app.test_client().get(enter)
        assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    finally:
        app.config["LMS_FRAME_ORIGINS"] = []


def test_the_referer_stands_in_for_a_missing_origin(client, package):
    assert _launch(client, package, origin=None, Referer=f"{LMS}/mod/scorm/player.php?a=1").status_code == 303


@pytest.mark.parametrize("origin", ["https://evil.test", "null"])
def test_a_launch_from_an_origin_not_allowed_is_refused_with_a_page(client, package, db, origin):
    response = _launch(client, package, origin=origin)
    assert response.status_code == 400
    assert "Ask your training coordinator to add your LMS" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(PackageLaunch)) == 0


def test_a_revoked_package_shows_why(client, coordinator, package, db):
    packages.revoke_package(coordinator, package)
    db.session.commit()
    response = _launch(client, package)
    assert response.status_code == 400 and "withdrawn" in response.get_data(as_text=True)


def test_pages_of_a_graded_launch_report_to_the_package_origin(client, package, db):
    from lms.models import Attempt
    from lms.services import attempts
    from lms.services.scenario_library import scenario_of

    opened = client.get(_launch(client, package).headers["Location"]).headers["Location"]
    assert 'id="package-report"' not in client.get(opened).get_data(as_text=True)
    attempt = db.session.scalars(select(Attempt)).one()
    scenario = scenario_of(attempt.scenario_version)
    for index, choice in enumerate(scenario.expert_path):
        attempts.decide(attempt.user, attempt, index, choice)
    db.session.commit()
    page = client.get(opened, follow_redirects=True).get_data(as_text=True)  # the debrief
    assert f'data-origin="{LMS}"' in page and '"type": "ripple.result"' in page
    assert "js/package-report.js" in page


def test_a_package_session_over_https_gets_a_cookie_the_lms_frame_can_send(client, package):
    https = "https://ripple.county.test"
    launched = client.post(
        f"/packages/{package.key}/launch",
        data={"learner_id": "lms-8"},
        headers={"Origin": LMS},
        base_url=https,
    )
    entered = client.get(launched.headers["Location"], base_url=https)
    cookie = next(v for v in entered.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "SameSite=None" in cookie and "Secure" in cookie
