"""SCORM packages: what a coordinator may create, the zip an LMS imports, and the launch rules
(a single-use, short-lived token bound to its package and agency; revoked packages, full seats
and origins not allowed refused; learners matched by (package, learner id) only)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.models import AuditEvent, PackageLearner, User
from lms.services.packaging import packages, scorm
from lms.services.scenario_library import scenario_of

LMS = "https://lms.county.test"
TARGET = "scenario:store-dispute"


@pytest.fixture(autouse=True)
def _in_a_request(app):
    """Opening a target builds the URL it goes to, as the launch request does."""
    with app.test_request_context(base_url="https://ripple.county.test"):
        yield


@pytest.fixture
def make_package(db, coordinator, agency, library):
    def make(kind="scorm12", *, seats=None, origins=LMS, target=TARGET, by=None, of=None):
        package = packages.create_package(
            by or coordinator, of or agency, packages.PackageInput(kind, target, seats, origins)
        )
        db.session.commit()
        return package

    return make


def _launch(package, learner="lms-learner-1", name="Doe, Jane", origin=LMS, **kwargs):
    launch, token = packages.issue_launch(package.key, origin, learner, name, **kwargs)
    return launch, token


# --- creating -------------------------------------------------------------------------------------


def test_a_package_opens_a_catalogue_target_with_its_origins_and_is_audited(db, make_package):
    package = make_package(seats=3, origins=f"  {LMS}/\n\nHTTPS://Content.County.Test:8443\n{LMS}")
    assert package.title == scenario_of(package_target_version(package)).title
    assert package.allowed_origins == [LMS, "https://content.county.test:8443"]
    assert package.seat_limit == 3 and package.active and len(package.key) >= 32
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "package.created"))
    assert event.target_id == package.id and event.agency_id == package.agency_id


def package_target_version(package):
    from lms.services.scenario_library import latest_published

    return latest_published(package.agency_id, package.target.split(":", 1)[1])


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        ("", "at least one LMS"),
        (f"{LMS}\nftp://files.county.test", "Line 2 (“ftp://files.county.test”): must start with https://"),
        (
            "https://lms.county.test/course/view.php?id=4",
            "Line 1 (“https://lms.county.test/course/view.php?id=4”): is a page address",
        ),
        ("https://lms.county.test:99999", "port that is not a number"),
        ("https://", "has no host name"),
        ("lms.county.test", "must start with https://"),
        ("https://user@lms.county.test", "has no host name"),
    ],
)
def test_bad_origins_are_refused_naming_the_line(db, make_package, origins, expected):
    with pytest.raises(packages.PackageError) as refused:
        make_package(origins=origins)
    assert expected in str(refused.value) and refused.value.field == "allowed_origins"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "scorm3000"}, "kind"),
        ({"target": "scenario:no-such-scenario"}, "target"),
        ({"target": "course:999999"}, "target"),
        ({"seats": 0}, "seat_limit"),
    ],
)
def test_a_package_needs_a_kind_a_target_of_the_catalogue_and_a_sensible_seat_limit(
    make_package, kwargs, field
):
    with pytest.raises(packages.PackageError) as refused:
        make_package(**kwargs)
    assert refused.value.field == field


def test_a_cmi5_package_is_made_from_the_same_form_and_downloads_its_cmi5_xml(make_package):
    import io
    import zipfile

    assert packages.available_kinds() == ["scorm12", "scorm2004", "cmi5"]
    package = make_package(kind="cmi5")
    name, data = packages.build_zip(package)
    assert name.endswith(".zip")
    assert "cmi5.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_revoking_is_audited_and_happens_once(db, make_package, coordinator):
    package = make_package()
    packages.revoke_package(coordinator, package)
    assert not package.active and package.revoked_by_id == coordinator.id
    with pytest.raises(packages.PackageError, match="already revoked"):
        packages.revoke_package(coordinator, package)
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "package.revoked")).target_id
        == package.id
    )


# --- the zip ----------------------------------------------------------------------------------------

SCORM12_CP = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
SCORM2004_CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def _zip(package) -> zipfile.ZipFile:
    _, data = packages.build_zip(package)
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_scorm12_manifest(make_package):
    package = make_package("scorm12")
    archive = _zip(package)
    assert sorted(archive.namelist()) == ["imsmanifest.xml", "index.html", "ripple-scorm.js"]
    text = archive.read("imsmanifest.xml").decode()
    assert 'xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"' in text
    assert 'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"' in text
    root = ET.fromstring(archive.read("imsmanifest.xml"))
    assert root.tag == SCORM12_CP + "manifest" and root.get("identifier") == f"ripple-{package.key}"
    assert root.findtext(f"{SCORM12_CP}metadata/{SCORM12_CP}schema") == "ADL SCORM"
    assert root.findtext(f"{SCORM12_CP}metadata/{SCORM12_CP}schemaversion") == "1.2"
    organizations = root.find(SCORM12_CP + "organizations")
    organization = organizations.find(SCORM12_CP + "organization")
    assert organizations.get("default") == organization.get("identifier")
    item = organization.find(SCORM12_CP + "item")
    assert organization.findtext(SCORM12_CP + "title") == package.title
    resource = root.find(f"{SCORM12_CP}resources/{SCORM12_CP}resource")
    assert item.get("identifierref") == resource.get("identifier")
    assert resource.get("{http://www.adlnet.org/xsd/adlcp_rootv1p2}scormtype") == "sco"
    assert resource.get("href") == "index.html" and resource.get("type") == "webcontent"
    assert {f.get("href") for f in resource.findall(SCORM12_CP + "file")} == {"index.html", "ripple-scorm.js"}


def test_the_scorm2004_third_edition_manifest(make_package):
    package = make_package("scorm2004")
    archive = _zip(package)
    text = archive.read("imsmanifest.xml").decode()
    for prefix, uri in scorm.NAMESPACES["scorm2004"].items():
        assert f'xmlns{":" + prefix if prefix else ""}="{uri}"' in text
    root = ET.fromstring(archive.read("imsmanifest.xml"))
    assert root.tag == SCORM2004_CP + "manifest"
    assert root.findtext(f"{SCORM2004_CP}metadata/{SCORM2004_CP}schema") == "ADL SCORM"
    assert root.findtext(f"{SCORM2004_CP}metadata/{SCORM2004_CP}schemaversion") == "2004 3rd Edition"
    resource = root.find(f"{SCORM2004_CP}resources/{SCORM2004_CP}resource")
    assert resource.get("{http://www.adlnet.org/xsd/adlcp_v1p3}scormType") == "sco"
    item = root.find(f"{SCORM2004_CP}organizations/{SCORM2004_CP}organization/{SCORM2004_CP}item")
    assert item.get("identifierref") == resource.get("identifier") == "ripple-sco"


def test_the_launch_page_names_ripple_and_the_package(make_package):
    package = make_package("scorm2004")
    page = _zip(package).read("index.html").decode()
    assert 'data-ripple-origin="https://ripple.county.test"' in page
    assert f'action="https://ripple.county.test/packages/{package.key}/launch"' in page
    assert 'data-kind="scorm2004"' in page and '<script src="ripple-scorm.js">' in page
    assert "suspend_data" not in _zip(package).read("ripple-scorm.js").decode()


def test_a_title_with_markup_stays_text_in_the_manifest(db, make_package):
    package = make_package()
    package.title = 'Store <dispute> & "friends"'
    root = ET.fromstring(_zip(package).read("imsmanifest.xml"))
    assert root.findtext(f".//{SCORM12_CP}organization/{SCORM12_CP}title") == package.title


# --- launches -------------------------------------------------------------------------------------


def test_a_token_signs_in_once(db, make_package, agency):
    package = make_package()
    launch, token = _launch(package)
    db.session.commit()
    redeemed, user, redirect_to = packages.redeem_launch(package.key, token)
    db.session.commit()
    assert redeemed.id == launch.id and user.agency_id == agency.id and user.name == "Jane Doe"
    assert "/play/attempts/" in redirect_to and redeemed.attempt_id
    with pytest.raises(packages.LaunchRefused, match="already used"):
        packages.redeem_launch(package.key, token)


def test_a_token_expires(db, make_package, app):
    package = make_package()
    launch, token = _launch(package)
    db.session.commit()
    later = launch.expires_at + timedelta(seconds=1)
    with pytest.raises(packages.LaunchRefused, match="expired"):
        packages.redeem_launch(package.key, token, now=later)
    assert launch.expires_at - launch.issued_at == timedelta(
        seconds=app.config["PACKAGE_LAUNCH_TOKEN_SECONDS"]
    )


def test_a_token_works_for_its_own_package_only(db, make_package):
    first, second = make_package(), make_package("scorm2004")
    _, token = _launch(first)
    db.session.commit()
    with pytest.raises(packages.LaunchRefused, match="another package"):
        packages.redeem_launch(second.key, token)
    packages.redeem_launch(first.key, token)  # still good where it belongs


def test_a_token_of_another_agency_or_forged_is_refused(db, make_package, make_agency, make_user, library):
    from lms.models import Role

    other = make_agency("Other Police")
    theirs = make_package(by=make_user(other, (Role.COORDINATOR,)), of=other)
    ours = make_package()
    _, token = _launch(theirs)
    db.session.commit()
    with pytest.raises(packages.LaunchRefused):
        packages.redeem_launch(ours.key, token)
    for forged in (token[:-2] + "xx", "", "x" * 600, None):
        with pytest.raises(packages.LaunchRefused, match="could not check"):
            packages.redeem_launch(theirs.key, forged)


def test_a_revoked_package_is_refused_at_launch_and_at_redemption(db, make_package, coordinator):
    package = make_package()
    _, token = _launch(package)
    packages.revoke_package(coordinator, package)
    db.session.commit()
    for attempt in (lambda: _launch(package), lambda: packages.redeem_launch(package.key, token)):
        with pytest.raises(packages.LaunchRefused, match="withdrawn"):
            attempt()


@pytest.mark.parametrize("origin", ["https://elsewhere.test", "http://lms.county.test", None])
def test_a_page_at_an_origin_not_allowed_gets_no_token(db, make_package, origin):
    package = make_package()
    with pytest.raises(packages.LaunchRefused, match="may not be opened from"):
        _launch(package, origin=origin)


@pytest.mark.parametrize("learner", ["", "   ", "x" * 256, "bad\x00id", None])
def test_a_launch_needs_a_usable_learner_id(make_package, learner):
    with pytest.raises(packages.LaunchRefused, match="learner id"):
        _launch(make_package(), learner=learner)


def test_seats_run_out_for_new_learners_only(db, make_package):
    package = make_package(seats=1)
    _, token = _launch(package, learner="first")
    db.session.commit()
    _, first_user, _ = packages.redeem_launch(package.key, token)
    db.session.commit()
    with pytest.raises(packages.LaunchRefused, match="All 1 seats"):
        _launch(package, learner="second")
    _, again = _launch(package, learner="first")  # the seat holder comes back
    assert packages.redeem_launch(package.key, again)[1].id == first_user.id


def test_seats_are_checked_again_at_redemption(db, make_package):
    package = make_package(seats=1)
    _, first = _launch(package, learner="first")
    _, second = _launch(package, learner="second")  # both asked while a seat was free
    db.session.commit()
    packages.redeem_launch(package.key, first)
    db.session.commit()
    with pytest.raises(packages.LaunchRefused, match="seats"):
        packages.redeem_launch(package.key, second)


def test_learners_are_matched_by_package_and_learner_id_never_by_name(db, make_package, officer):
    first, second = make_package(), make_package("scorm2004")
    users = []
    for package, learner, name in (
        (first, "a-1", officer.name),
        (first, "a-1", "Someone Else"),
        (first, "a-2", officer.name),
        (second, "a-1", officer.name),
    ):
        _, token = _launch(package, learner=learner, name=name)
        users.append(packages.redeem_launch(package.key, token)[1])
        db.session.commit()
    assert users[0].id == users[1].id
    assert len({users[0].id, users[2].id, users[3].id, officer.id}) == 4
    assert db.session.scalar(select(db.func.count()).select_from(PackageLearner)) == 3
    assert all(u.email.endswith("@package.invalid") for u in users)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "package.person_created")).all()
    assert len(audit) == 3


def test_a_deactivated_learner_is_refused(db, make_package):
    package = make_package()
    _, token = _launch(package)
    user = packages.redeem_launch(package.key, token)[1]
    user.active = False
    db.session.commit()
    _, again = _launch(package)
    with pytest.raises(packages.LaunchRefused, match="deactivated"):
        packages.redeem_launch(package.key, again)


def test_an_unfinished_attempt_resumes_from_the_next_launch(db, make_package):
    package = make_package()
    _, token = _launch(package)
    first = packages.redeem_launch(package.key, token)[0]
    db.session.commit()
    _, token = _launch(package)
    assert packages.redeem_launch(package.key, token)[0].attempt_id == first.attempt_id


def test_the_report_follows_the_grade(db, make_package):
    from lms.models import Attempt
    from lms.services import attempts

    package = make_package()
    _, token = _launch(package)
    launch, user, _ = packages.redeem_launch(package.key, token)
    db.session.commit()
    assert packages.report_of(launch) is None  # nothing to report before the grade
    attempt = db.session.get(Attempt, launch.attempt_id)
    for index, choice in enumerate(scenario_of(attempt.scenario_version).expert_path):
        attempts.decide(user, attempt, index, choice)
    db.session.commit()
    report = packages.report_of(launch)
    grade = attempt.grade
    assert report["completion"] == "completed"
    assert report["success"] == ("passed" if grade.passed else "failed")
    assert report["score"] == {
        "raw": grade.score,
        "min": 0,
        "max": 100,
        "scaled": round(grade.score / 100, 4),
    }
    expected = (attempt.completed_at - launch.redeemed_at).total_seconds()
    assert report["session_seconds"] == round(expected, 2)


def test_nothing_is_written_by_a_refused_launch(db, make_package):
    package = make_package(seats=1)
    _, token = _launch(package, learner="first")
    packages.redeem_launch(package.key, token)
    db.session.commit()
    people = db.session.scalar(select(db.func.count()).select_from(User))
    with pytest.raises(packages.LaunchRefused):
        _launch(package, learner="second")
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(User)) == people


def test_a_course_package_assigns_the_course_and_reports_its_completion(db, make_package):
    from lms.models import Assignment
    from tests.lms.learning_fixtures import course_data, pass_course, publish

    course = publish(course_data(slug="package-course", credit_hours=0.25))
    package = make_package("scorm2004", target=f"course:{course.id}")
    _, token = _launch(package)
    launch, user, redirect_to = packages.redeem_launch(package.key, token)
    db.session.commit()
    assignment = db.session.get(Assignment, launch.assignment_id)
    assert assignment.user_id == user.id and assignment.source == "package"
    assert redirect_to.endswith(f"/learn/assignments/{assignment.id}") or str(assignment.id) in redirect_to
    assert packages.report_of(launch) is None
    pass_course(user, assignment)
    report = packages.report_of(launch)
    assert (report["completion"], report["success"], report["score"]["scaled"]) == (
        "completed",
        "passed",
        1.0,
    )


def test_the_periodic_purge_deletes_tokens_that_expired_unused_and_keeps_used_launches(db, make_package):
    from lms import schedule
    from lms.models import PackageLaunch

    package = make_package()
    used, token = _launch(package, learner="used")
    packages.redeem_launch(package.key, token)
    unused, _ = _launch(package, learner="unused")
    fresh, _ = _launch(package, learner="fresh", now=unused.expires_at)
    db.session.commit()
    job = next(job for job in schedule.JOBS if job.name == "package-launches")
    assert job.run(unused.expires_at) == "1 expired package launch(es) deleted"
    db.session.commit()
    assert set(db.session.scalars(select(PackageLaunch.id))) == {used.id, fresh.id}
