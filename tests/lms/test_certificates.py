"""Certificates: issue, expiry, revocation, reissue, recertification, PDF, transcript."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.models import Assignment, AuditEvent, Certificate, Role
from lms.services import certificates, learning, transcript
from tests.lms.learning_fixtures import course_data, enrol, pass_course, publish


@pytest.fixture
def course(db):
    return publish()


@pytest.fixture
def cert(db, officer, course):
    assignment = enrol(officer, course)
    pass_course(officer, assignment)
    return db.session.scalar(select(Certificate))


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- issuing -----------------------------------------------------------------------------


def test_certificate_carries_name_agency_course_hours_and_dates(cert, officer, agency):
    assert cert.recipient_name == "Olive Officer" and cert.agency_id == agency.id
    assert cert.course_title == "Test Partnership Course" and cert.credit_hours == 4
    assert cert.issued_on == date.today()
    assert cert.expires_on == certificates.add_months(date.today(), 24)


def test_certificate_code_is_long_random_and_unique(db, make_user, agency, course, cert):
    other = make_user(agency)
    pass_course(other, enrol(other, course))
    codes = set(db.session.scalars(select(Certificate.code)))
    assert len(codes) == 2 and all(len(code) >= 22 for code in codes)


def test_course_without_expiry_issues_a_certificate_that_never_expires(db, officer):
    assignment = enrol(officer, publish(course_data(slug="forever", certificate_valid_months=None)))
    pass_course(officer, assignment)
    assert db.session.scalar(select(Certificate)).expires_on is None


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 23), 24, date(2028, 11, 23)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert certificates.add_months(start, months) == expected


@pytest.mark.parametrize(
    ("today_offset", "expected"),
    [(-1, "valid"), (0, "valid"), (1, "expired")],
)
def test_status_depends_on_expiry(cert, today_offset, expected):
    assert certificates.status_of(cert, cert.expires_on + timedelta(days=today_offset)) == expected


# --- revocation and reissue ------------------------------------------------------------


def test_revoking_records_reason_and_audits(db, coordinator, cert):
    certificates.revoke(coordinator, cert, "Issued in error")
    assert certificates.status_of(cert) == "revoked" and cert.revoked_reason == "Issued in error"
    assert _count(db, AuditEvent, AuditEvent.action == "certificate.revoked") == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_revoking_needs_a_sensible_reason(coordinator, cert, reason):
    with pytest.raises(certificates.CertificateError, match="Reason"):
        certificates.revoke(coordinator, cert, reason)
    assert cert.revoked_at is None


def test_revoking_twice_is_refused(coordinator, cert):
    certificates.revoke(coordinator, cert, "Issued in error")
    with pytest.raises(certificates.CertificateError, match="already revoked"):
        certificates.revoke(coordinator, cert, "Again")


def test_reissue_creates_a_new_certificate_and_keeps_history(db, coordinator, cert):
    new = certificates.reissue(coordinator, cert, recipient_name="Olive O. Officer", reason="Name misspelt")
    assert new.replaces_id == cert.id and new.code != cert.code
    assert new.recipient_name == "Olive O. Officer" and new.expires_on == cert.expires_on
    assert certificates.status_of(cert) == "revoked" and certificates.status_of(new) == "valid"
    assert [c.id for c in certificates.history(cert)] == [new.id, cert.id]


def test_revoke_over_http_needs_the_coordinator_role(client, sign_in, officer, cert):
    response = sign_in(officer).post(f"/learn/certificates/{cert.id}/revoke", data={"revoke-reason": "x"})
    assert response.status_code == 403


def test_coordinator_revokes_over_http(db, client, sign_in, coordinator, cert):
    response = sign_in(coordinator).post(
        f"/learn/certificates/{cert.id}/revoke",
        data={"revoke-reason": "Issued in error"},
        follow_redirects=True,
    )
    assert "Certificate revoked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_reason == "Issued in error"


def test_revoke_without_reason_names_the_field_and_changes_nothing(db, client, sign_in, coordinator, cert):
    response = sign_in(coordinator).post(
        f"/learn/certificates/{cert.id}/revoke", data={"revoke-reason": ""}, follow_redirects=True
    )
    assert "Reason for revoking: Give a reason for revoking." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_at is None


def test_coordinator_reissues_over_http(db, client, sign_in, coordinator, cert):
    response = sign_in(coordinator).post(
        f"/learn/certificates/{cert.id}/reissue",
        data={"reissue-recipient_name": "Olive Officer-Smith", "reissue-reason": "Name changed"},
    )
    assert response.status_code == 302
    assert _count(db, Certificate) == 2


def test_other_agency_coordinator_cannot_revoke(db, client, sign_in, make_agency, make_user, cert):
    outsider = make_user(make_agency(), (Role.COORDINATOR,))
    response = sign_in(outsider).post(f"/learn/certificates/{cert.id}/revoke", data={"revoke-reason": "x"})
    assert response.status_code == 404


def test_agency_certificate_list_shows_only_own_agency(
    client, sign_in, make_agency, make_user, coordinator, course, cert
):
    other_agency = make_agency()
    stranger = make_user(other_agency, name="Stranger Danger")
    pass_course(stranger, enrol(stranger, course))
    page = sign_in(coordinator).get("/learn/agency/certificates").get_data(as_text=True)
    assert "Olive Officer" in page and "Stranger Danger" not in page


# --- the certificate page and PDF ------------------------------------------------------


def test_certificate_page_shows_the_facts(client, sign_in, officer, cert):
    page = sign_in(officer).get(f"/learn/certificates/{cert.id}").get_data(as_text=True)
    assert "Olive Officer" in page and "Riverside Test PD" in page and cert.code in page


def test_pdf_is_a_pdf_with_the_verification_link(client, sign_in, officer, cert):
    response = sign_in(officer).get(f"/learn/certificates/{cert.id}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_pdf_has_a_qr_code_of_the_verification_url(cert):
    info = certificates.facts(cert, "Riverside Test PD")
    pdf = certificates.render_pdf(info, f"https://ripple.test/verify/{cert.code}")
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    assert cert.code.encode() in pdf  # the printed code (the page stream is not compressed)


def test_another_officer_cannot_see_my_certificate(client, sign_in, make_user, agency, cert):
    assert sign_in(make_user(agency)).get(f"/learn/certificates/{cert.id}").status_code == 404


# --- recertification -------------------------------------------------------------------


@pytest.fixture
def renewable(db, officer):
    """A course that renews through a refresher 90 days before expiry, completed today."""
    publish(course_data(slug="refresher", title="Refresher", credit_hours=1, certificate_valid_months=24))
    main = publish(course_data(renewal={"course": "refresher", "window_days": 90}))
    pass_course(officer, enrol(officer, main))
    return db.session.scalar(select(Certificate))


def test_renewal_is_not_assigned_before_the_window_opens(renewable):
    assert certificates.renew_due(renewable.expires_on - timedelta(days=91)) == []


def test_renewal_is_assigned_when_the_window_opens(renewable):
    [assignment] = certificates.renew_due(renewable.expires_on - timedelta(days=90))
    assert assignment.source == "renewal" and assignment.due_on == renewable.expires_on
    assert assignment.course.slug == "refresher"


def test_renewal_is_assigned_once(renewable):
    day = renewable.expires_on - timedelta(days=10)
    certificates.renew_due(day)
    assert certificates.renew_due(day) == []


def test_revoked_certificates_are_not_renewed(coordinator, renewable):
    certificates.revoke(coordinator, renewable, "Issued in error")
    assert certificates.renew_due(renewable.expires_on) == []


def test_a_certificate_kept_when_its_completion_was_withdrawn_is_still_renewed(db, coordinator, renewable):
    assignment = db.session.scalar(select(Assignment))
    learning.withdraw_item_pass(coordinator, assignment, "basics-check", reason="Re-marked")
    certificates.keep(coordinator, renewable, "Certified on the practical test as well.")
    [renewal] = certificates.renew_due(renewable.expires_on - timedelta(days=90))
    assert renewal.course.slug == "refresher" and renewal.due_on == renewable.expires_on


def test_completing_the_renewal_extends_from_the_old_expiry(db, officer, renewable):
    [assignment] = certificates.renew_due(renewable.expires_on - timedelta(days=30))
    pass_course(officer, assignment)
    new = db.session.scalar(select(Certificate).where(Certificate.id != renewable.id))
    assert new.expires_on == certificates.add_months(renewable.expires_on, 24)
    assert certificates.renew_due(renewable.expires_on) == []  # renewed: nothing more to assign


def test_viewing_my_training_assigns_due_renewals(db, client, sign_in, officer, renewable):
    renewable.expires_on = date.today() + timedelta(days=30)
    db.session.commit()
    page = sign_in(officer).get("/learn/").get_data(as_text=True)
    assert "Recertification" in page
    assert _count(db, Assignment, Assignment.source == "renewal") == 1


def test_renew_due_cli_assigns_and_reports(app, db, renewable):
    runner = app.test_cli_runner()
    day = (renewable.expires_on - timedelta(days=1)).isoformat()
    result = runner.invoke(args=["certificates", "renew-due", "--today", day])
    assert result.exit_code == 0 and "1 renewal assignment(s) created." in result.output


# --- transcript --------------------------------------------------------------------------


def test_transcript_lists_completions_and_total_hours(officer, cert):
    t = transcript.transcript_for(officer)
    assert [row.course_title for row in t.rows] == ["Test Partnership Course"] and t.total_hours == 4
    assert t.rows[0].certificate.id == cert.id


def test_transcript_page_shows_hours(client, sign_in, officer, cert):
    page = sign_in(officer).get("/learn/transcript").get_data(as_text=True)
    assert "Test Partnership Course" in page and "Total credit hours" in page


def test_transcript_csv_has_a_row_per_completion(client, sign_in, officer, cert):
    response = sign_in(officer).get("/learn/transcript.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert rows == [
        {
            "completed_on": date.today().isoformat(),
            "course": "Test Partnership Course",
            "category": "Community policing",
            "credit_hours": "4",
            "certificate_code": cert.code,
            "certificate_status": "valid",
            "issued_on": cert.issued_on.isoformat(),
            "expires_on": cert.expires_on.isoformat(),
            "active_minutes": "0.0",
        }
    ]


def test_transcript_csv_neutralises_formulas(db, officer):
    publish_data = course_data(slug="formula", title="=HYPERLINK(1)")
    pass_course(officer, enrol(officer, publish(publish_data)))
    text = transcript.transcript_csv(transcript.transcript_for(officer))
    assert "'=HYPERLINK(1)" in text


def test_transcript_shows_only_my_completions(client, sign_in, make_user, agency, cert):
    page = sign_in(make_user(agency)).get("/learn/transcript").get_data(as_text=True)
    assert "Test Partnership Course" not in page


def test_completed_check_is_listed_under_completed(client, sign_in, officer, cert):
    page = sign_in(officer).get("/learn/").get_data(as_text=True)
    assert "Completed" in page and "Valid" in page


def test_learning_progress_links_certificate(officer, cert):
    assignment = learning.assignments_for(officer)[0]
    assert learning.progress(assignment).certificate.id == cert.id


def test_coordinator_sees_an_officers_training_and_transcript(client, sign_in, coordinator, officer, cert):
    page = sign_in(coordinator).get(f"/learn/people/{officer.id}/training").get_data(as_text=True)
    assert "Olive Officer" in page and "Test Partnership Course" in page and "Assigned courses" in page
    csv_text = client.get(f"/learn/people/{officer.id}/transcript.csv").get_data(as_text=True)
    assert cert.code in csv_text


def test_other_agency_coordinator_cannot_see_an_officers_training(
    client, sign_in, make_agency, make_user, officer, cert
):
    outsider = make_user(make_agency(), (Role.COORDINATOR,))
    assert sign_in(outsider).get(f"/learn/people/{officer.id}/training").status_code == 404
    assert client.get(f"/learn/people/{officer.id}/transcript.csv").status_code == 404


def test_officers_cannot_open_someone_elses_training(client, sign_in, make_user, agency, officer):
    assert sign_in(make_user(agency)).get(f"/learn/people/{officer.id}/training").status_code == 403


def test_revoke_form_carries_its_csrf_token(app, db, client, sign_in, coordinator, cert):
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        sign_in(coordinator)
        page = client.get(f"/learn/certificates/{cert.id}").get_data(as_text=True)
        token = re.search(r'name="revoke-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            f"/learn/certificates/{cert.id}/revoke",
            data={"revoke-csrf_token": token, "revoke-reason": "Issued in error"},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).revoked_at is not None


def test_printable_page_has_a_qr_code_of_the_verification_url(client, sign_in, officer, cert):
    sign_in(officer)
    page = client.get(f"/learn/certificates/{cert.id}").get_data(as_text=True)
    assert f'src="/learn/certificates/{cert.id}/qr.svg"' in page
    svg = client.get(f"/learn/certificates/{cert.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and f"/verify/{cert.code}" in svg.get_data(as_text=True)
