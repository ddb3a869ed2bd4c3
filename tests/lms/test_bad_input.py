"""Bad input answers a clear 400 (or 404) and changes nothing; it never gives a 500.

One test per class of payload: blank and whitespace filters, huge, negative and non-numeric
numbers, ids past 2^31-1, NUL and other C0 control characters, CR/LF in single-line fields,
strings one past their column's limit, deeply nested and oversized JSON, structure actions
that name nothing, and reasons without visible text. Runs on PostgreSQL too (`DATABASE_URL`),
where NUL bytes and ids past `integer` used to reach the database.
"""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from lms import input as request_input
from lms.models import AttemptGrade, AuditEvent, Certificate, Role, RosterImport, Unit, User
from lms.services import api_tokens, attempts, authoring, certificates, roster_import
from tests.lms.integrations.test_api import openapi  # noqa: F401  (the OpenAPI checker fixture)
from tests.lms.learning_fixtures import enrol, pass_course, publish

BLANKS = ["%20", "%20%20", "%09", "+"]
HUGE = [str(2**31), str(2**63), "9" * 40]
PAGES = [*HUGE, "-5", "0", "abc", "%20", "1e9"]
CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f", "\x7f"]
LINE_BREAKS = ["\n", "\r", "\r\n"]


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _fresh(db, model, id_):
    """The row as the database has it now (not as this test's session remembers it)."""
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def staff(sign_in, coordinator):
    return sign_in(coordinator)


@pytest.fixture
def api(client, db, agency, coordinator):
    _, raw = api_tokens.create_token(coordinator, agency, "Records system", ["people:read", "people:write"])
    db.session.commit()

    def call(method, path, **kwargs):
        return client.open(
            "/api/v1" + path, method=method, headers={"Authorization": f"Bearer {raw}"}, **kwargs
        )

    return call


# --- blank filters ------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize(
    "page",
    ["compliance?unit={}", "compliance?course={}", "compliance/officers?unit={}&course={}", "people?unit={}"],
)
def test_a_blank_filter_is_no_filter(staff, agency, page, blank):
    response = staff.get(f"/agencies/{agency.id}/" + page.format(blank, blank))
    assert response.status_code == 200


@pytest.mark.parametrize("blank", [" ", "  ", "\t"])
def test_a_rule_for_a_blank_unit_applies_to_the_whole_agency(db, staff, agency, blank):
    course = publish()
    response = staff.post(
        f"/agencies/{agency.id}/rules",
        data={
            "course": str(course.id),
            "unit": blank,
            "due_days": "30",
            "due_from": "assignment",
            "recurrence": "none",
        },
    )
    assert response.status_code == 302
    from lms.models import AssignmentRule

    assert db.session.scalar(select(AssignmentRule.unit_id)) is None


@pytest.mark.parametrize("bad", ["abc", "-1", str(2**31), "1.5"])
def test_an_unknown_filter_id_is_refused_with_the_form(staff, agency, bad):
    response = staff.get(f"/agencies/{agency.id}/compliance?unit={bad}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        (" ", None),
        ("\t", None),
        ("7", 7),
        (" 7 ", 7),
        (7, 7),
        (request_input.MAX_ID,) * 2,
    ],
)
def test_parse_id_reads_ids_and_ignores_blanks(raw, expected):
    assert request_input.parse_id(raw, "unit") == expected


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "1.5", "²", str(2**31), "9" * 40, True, -3, 2**31])
def test_parse_id_names_the_field_of_a_bad_id(raw):
    with pytest.raises(request_input.BadInput) as problem:
        request_input.parse_id(raw, "unit")
    assert problem.value.field == "unit" and "unit" in str(problem.value)


# --- page numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("listing", ["audit", "people", "compliance/officers"])
def test_any_page_number_shows_a_page(staff, agency, listing, page):
    assert staff.get(f"/agencies/{agency.id}/{listing}?page={page}").status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 1), ("", 1), ("abc", 1), ("-5", 1), ("0", 1), ("3", 3), ("9" * 40, request_input.MAX_PAGE)],
)
def test_page_numbers_are_clamped(raw, expected):
    assert request_input.page_number(raw) == expected


@pytest.mark.parametrize("limit", [*HUGE, "-1", "0", "abc", "201"])
def test_an_api_limit_out_of_range_names_the_parameter(api, limit):
    response = api("GET", f"/people?limit={limit}")
    assert response.status_code == 400 and response.get_json()["field"] == "limit"


# --- ids past the integer column ------------------------------------------------------------


def _integer_routes(app):
    for rule in app.url_map.iter_rules():
        arguments = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if arguments:
            yield rule, arguments


@pytest.mark.parametrize("missing", [0, 2**31, 2**63, 10**30])
def test_every_integer_route_answers_404_for_an_id_that_cannot_exist(app, sign_in, admin, missing):
    """Signed in as a platform admin, who may reach every route; the public badge routes too."""
    test_client = sign_in(admin, app.test_client())
    failures, checked = [], 0
    for rule, arguments in _integer_routes(app):
        values = {name: 1 for name in rule.arguments} | {
            name: "x" for name in rule.arguments - set(arguments)
        }
        for argument in arguments:
            address = rule.build({**values, argument: missing}, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                checked += 1
                status = test_client.open(address, method=method).status_code
                if status != 404:
                    failures.append(f"{method} {address}: {status}")
    assert checked > 50
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "path", ["/badges/agencies/{}", "/badges/courses/{}/image.svg", "/badges/agencies/1/courses/{}"]
)
def test_public_badge_routes_answer_404_past_the_integer_range(client, path):
    assert client.get(path.format(2**31)).status_code == 404


@pytest.mark.parametrize("bad", [*HUGE, "-1", "0", "abc", "%20"])
def test_an_api_person_id_filter_out_of_range_names_the_parameter(client, db, agency, coordinator, bad):
    _, raw = api_tokens.create_token(coordinator, agency, "Records", ["completions:read"])
    db.session.commit()
    response = client.get(f"/api/v1/completions?person_id={bad}", headers={"Authorization": f"Bearer {raw}"})
    if bad == "%20":
        assert response.status_code == 200  # a blank filter is no filter
    else:
        assert response.status_code == 400 and response.get_json()["field"] == "person_id"


# --- control characters ------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_the_sign_in_email_is_refused(db, client, officer, char):
    response = client.post("/auth/sign-in", data={"email": f"{officer.email}{char}", "password": "x"})
    assert response.status_code == 400
    assert "email" in response.get_data(as_text=True) and "control character" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_a_query_string_is_refused(staff, agency, char):
    response = staff.get(f"/agencies/{agency.id}/people", query_string={"q": f"a{char}b"})
    assert response.status_code == 400
    assert "“q”" in response.get_data(as_text=True)


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_a_form_changes_nothing(db, staff, agency, officer, char):
    response = staff.post(f"/people/{officer.id}/status", data={"active": "0", "reason": f"left{char}"})
    assert response.status_code == 400
    assert _fresh(db, User, officer.id).active


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_a_json_string_names_the_property(db, api, char):
    response = api(
        "PUT", "/people/by-badge/77", json={"name": "Nia", "email": "nia@example.test", "rank": f"Sgt{char}"}
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "rank" and "control character" in body["detail"]
    assert set(body) == {"error", "detail", "status", "field"}
    assert _count(db, User, User.badge_number == "77") == 0


def test_a_lone_surrogate_in_json_is_refused(api):
    response = api("PUT", "/people/by-badge/77", data='{"name": "\\ud800"}', content_type="application/json")
    assert response.status_code == 400 and response.get_json()["field"] == "name"


@pytest.mark.parametrize("char", [*CONTROLS, *LINE_BREAKS])
def test_a_control_character_in_a_badge_in_the_address_is_refused(db, api, char):
    response = api(
        "PUT", f"/people/by-badge/7{quote(char)}7", json={"name": "Nia", "email": "nia@example.test"}
    )
    assert response.status_code == 400
    assert _count(db, User, User.email == "nia@example.test") == 0


@pytest.mark.parametrize("text", ["line one\nline two", "tab\tseparated", "windows\r\nlines"])
def test_tabs_and_line_breaks_are_fine_in_multi_line_fields(db, staff, officer, text):
    response = staff.post(f"/people/{officer.id}/status", data={"active": "0", "reason": text})
    assert response.status_code == 302
    assert not _fresh(db, User, officer.id).active


@pytest.mark.parametrize("char", [*CONTROLS, *LINE_BREAKS])
@pytest.mark.parametrize(
    "column", ["badge_number", "name", "email", "rank", "unit", "supervisor_badge", "status"]
)
def test_a_roster_cell_must_be_one_line_without_control_characters(db, coordinator, agency, column, char):
    row = {
        "badge_number": "2001",
        "name": "Dana Brooks",
        "email": "dana@example.test",
        "rank": "Sergeant",
        "unit": "HQ",
        "supervisor_badge": "",
        "status": "active",
    }
    row[column] = f"{row[column] or 'x'}{char}z"
    quoted = ",".join(f'"{value}"' for value in row.values())
    raw = (",".join(row) + "\n" + quoted + "\n").encode()
    try:
        _, plan = roster_import.check(coordinator, agency, "roster.csv", raw)
    except roster_import.RosterFileError as problem:  # NUL and friends: the file is not CSV text
        assert char not in LINE_BREAKS and "control character" in str(problem)
        assert _count(db, RosterImport) == 0
        return
    assert [(p.line, p.column) for p in plan.problems] == [(2, column)]
    assert "control character" in plan.problems[0].message


def test_an_uploaded_roster_with_nul_bytes_is_refused(db, client, sign_in, coordinator, agency):
    raw = b"badge_number,name,email\n2001,Dana\x00,dana@example.test\n"
    response = sign_in(coordinator).post(
        f"/agencies/{agency.id}/roster/import",
        data={"roster": (io.BytesIO(raw), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "line 2" in response.get_data(as_text=True)
    assert _count(db, RosterImport) == 0


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_a_line_break_in_an_api_name_is_refused(db, api, char):
    response = api(
        "PUT", "/people/by-badge/77", json={"name": f"Nia{char}Smith", "email": "nia@example.test"}
    )
    assert response.status_code == 400 and response.get_json()["field"] == "name"


@pytest.mark.parametrize("text", ["Title\nSecond line", "Title\rX", "Title\r\nX"])
def test_a_new_course_title_must_be_on_one_line(db, client, sign_in, instructor, text):
    from lms.models import Course

    response = sign_in(instructor).post("/author/courses/new", data={"title": text, "slug": "one-line"})
    assert response.status_code == 400
    assert _count(db, Course, Course.slug == "one-line") == 0


# --- strings one past their column ------------------------------------------------------------


# Each roster column and the model column it is stored in (or matched against): the importer's
# own table, so a column it learns is checked here too.
ROSTER_COLUMNS = roster_import.STORED_IN


def _stored_length(column_name: str) -> int:
    return request_input.column_length(ROSTER_COLUMNS[column_name])


@pytest.mark.parametrize("column", sorted(ROSTER_COLUMNS))
def test_the_roster_dry_run_checks_every_column_limit_the_database_has(db, coordinator, agency, column):
    limit = _stored_length(column)
    row = {
        "badge_number": "2001",
        "name": "Dana",
        "email": "dana@example.test",
        "rank": "",
        "unit": "",
        "supervisor_badge": "",
    }
    row[column] = (
        "a" * (limit + 1 - len("@example.test")) + "@example.test" if column == "email" else "a" * (limit + 1)
    )
    raw = (",".join(row) + "\n" + ",".join(row.values()) + "\n").encode()
    _, plan = roster_import.check(coordinator, agency, "roster.csv", raw)
    assert [(p.line, p.column) for p in plan.problems] == [(2, column)]
    assert f"longer than {limit} characters" in plan.problems[0].message


def test_a_roster_at_every_column_limit_applies(db, coordinator, agency):
    """The other side of the limit: values exactly as long as their columns allow are stored."""
    db.session.add(Unit(agency_id=agency.id, code="U" * _stored_length("unit"), name="Long unit"))
    db.session.commit()
    email = "e" * (64) + "@" + ("d" * 60 + ".") * 3 + "test"
    assert len(email) <= _stored_length("email")
    row = [
        "B" * _stored_length("badge_number"),
        "N" * _stored_length("name"),
        email,
        "R" * _stored_length("rank"),
        "U" * _stored_length("unit"),
    ]
    raw = ("badge_number,name,email,rank,unit\n" + ",".join(row) + "\n").encode()
    record, plan = roster_import.check(coordinator, agency, "roster.csv", raw)
    assert plan.ok, plan.problems
    roster_import.apply(coordinator, record)
    db.session.commit()
    person = db.session.scalar(select(User).where(User.badge_number == row[0]))
    assert person.rank == row[3] and person.unit.code == row[4]


@pytest.mark.parametrize(("field", "column"), [("name", User.name), ("rank", User.rank)])
def test_the_api_upsert_checks_the_same_column_limits(db, api, field, column):
    body = {
        "name": "Nia",
        "email": "nia@example.test",
        field: "x" * (request_input.column_length(column) + 1),
    }
    response = api("PUT", "/people/by-badge/77", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field and "longer than" in response.get_json()["detail"]
    assert _count(db, User, User.badge_number == "77") == 0


def test_the_api_upsert_checks_the_badge_number_column_limit(db, api):
    badge = "7" * (request_input.column_length(User.badge_number) + 1)
    response = api("PUT", f"/people/by-badge/{badge}", json={"name": "Nia", "email": "nia@example.test"})
    assert response.status_code == 400 and response.get_json()["field"] == "badge_number"


def test_a_reissued_certificate_name_must_fit_its_column(db, client, sign_in, coordinator, officer):
    pass_course(officer, enrol(officer, publish()))
    cert = db.session.scalar(select(Certificate))
    too_long = "N" * (request_input.column_length(Certificate.recipient_name) + 1)
    response = sign_in(coordinator).post(
        f"/learn/certificates/{cert.id}/reissue", data={"recipient_name": too_long, "reason": "typo"}
    )
    assert response.status_code in (302, 400)
    assert _count(db, Certificate) == 1 and _fresh(db, Certificate, cert.id).revoked_at is None


# --- JSON bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 100_000, "[" * 33 + "]" * 33])
def test_deeply_nested_json_is_refused_before_it_is_parsed(db, api, body):
    response = api("PUT", "/people/by-badge/x", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Invalid request",
        "detail": f"The JSON body is nested more than {request_input.MAX_JSON_DEPTH} levels deep.",
        "status": 400,
        "field": "body",
    }


def test_an_oversized_json_body_is_refused(api):
    body = json.dumps({"name": "x" * request_input.MAX_JSON_BYTES})
    response = api("PUT", "/people/by-badge/x", data=body, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["field"] == "body"


def test_brackets_inside_json_strings_are_not_nesting(db, api):
    name = "[" * 100 + "{" * 100
    response = api("PUT", "/people/by-badge/77", json={"name": name, "email": "nia@example.test"})
    assert response.status_code == 201 and response.get_json()["name"] == name


# --- course structure actions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "move-module:nope:up",
        "move-module:{module}:sideways",
        "move-item:nope:up",
        "move-item:{item}:nowhere",
        "delete-item:nope",
        "add-item:nope",
        "module:nope",
        "",
        ":::",
        "move-module",
    ],
)
def test_a_structure_action_that_names_nothing_changes_nothing(
    db, client, sign_in, instructor, course, action
):
    version = authoring.working_version(course)
    before = json.dumps(version.content, sort_keys=True)
    module = version.content["modules"][0]
    action = action.format(module=module["slug"], item=module["items"][0]["slug"])
    response = sign_in(instructor).post(f"/author/courses/{course.id}/structure", data={"action": action})
    assert response.status_code == 400
    db.session.expire_all()
    assert json.dumps(authoring.working_version(course).content, sort_keys=True) == before


@pytest.mark.parametrize("objective", ["x", "-1", "1.5", "9" * 40, ""])
def test_a_module_objective_that_is_not_a_number_is_refused(
    db, client, sign_in, instructor, course, objective
):
    slug = authoring.working_version(course).content["modules"][0]["slug"]
    response = sign_in(instructor).post(
        f"/author/courses/{course.id}/structure",
        data={"action": f"module:{slug}", f"{slug}-title": "Module", f"{slug}-objectives": objective},
    )
    assert response.status_code == 400


# --- reasons ----------------------------------------------------------------------------------


INVISIBLE = ["\x00", "\x00 \x00", " \t\r\n ", "\u200b", "\u200b\u00a0\ufeff", "\x1f"]


@pytest.mark.parametrize("reason", INVISIBLE)
def test_an_override_reason_needs_visible_text(db, instructor, officers_finished_attempt, reason):
    with pytest.raises(attempts.PlayError):
        attempts.override_grade(instructor, officers_finished_attempt, score=90, reason=reason)
    assert _count(db, AttemptGrade, AttemptGrade.kind == "override") == 0


@pytest.mark.parametrize("reason", ["\u200b", " \u00a0 "])
def test_an_override_form_without_visible_reason_changes_nothing(
    db, client, sign_in, instructor, officers_finished_attempt, reason
):
    response = sign_in(instructor).post(
        f"/play/attempts/{officers_finished_attempt.id}/grade", data={"score": "90", "reason": reason}
    )
    assert response.status_code in (302, 400)
    assert _count(db, AttemptGrade, AttemptGrade.kind == "override") == 0


@pytest.mark.parametrize("reason", INVISIBLE)
def test_a_revocation_reason_needs_visible_text(db, coordinator, officer, reason):
    pass_course(officer, enrol(officer, publish()))
    cert = db.session.scalar(select(Certificate))
    with pytest.raises(certificates.CertificateError):
        certificates.revoke(coordinator, cert, reason)
    assert cert.revoked_at is None
    assert _count(db, AuditEvent, AuditEvent.action == "certificate.revoked") == 0


@pytest.mark.parametrize(
    ("text", "visible"), [("ok", "ok"), ("  ok \n", "ok"), ("\x00", ""), ("\u200b", ""), ("é", "é")]
)
def test_visible_text(text, visible):
    assert request_input.visible_text(text) == visible


def test_the_roles_are_untouched_by_a_bad_request(db, staff, officer):
    """A refused request rolls back: nothing of it is stored (here: a role change with a NUL)."""
    response = staff.post(f"/people/{officer.id}/roles", data={"officer": "y", "instructor": "y\x00"})
    assert response.status_code == 400
    assert not _fresh(db, User, officer.id).has_role(Role.INSTRUCTOR)


# --- course files --------------------------------------------------------------------------------


def _course_file(instructor, db, **replace) -> str:
    from lms import course_format as cf

    course = authoring.create_course(instructor, slug="source", title="Source course")
    db.session.commit()
    text = cf.dump_course(cf.course_from_data(authoring.working_version(course).content))
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text.replace("slug: source", "slug: imported", 1)


@pytest.mark.parametrize("escape", ["\\0", "\\x01", "\\e", "\\x7f", "\\n", "\\r"])
def test_an_imported_course_title_with_an_escaped_control_or_line_break_is_refused(db, instructor, escape):
    from lms.models import Course

    text = _course_file(instructor, db, **{"title: Source course": f'title: "Source{escape}course"'})
    with pytest.raises(authoring.AuthoringError) as refused:
        authoring.import_text(instructor, text.encode())
    issues = [(issue.path, issue.line) for issue in refused.value.issues]
    assert issues == [("title", text.splitlines().index(f'title: "Source{escape}course"') + 1)]
    assert _count(db, Course, Course.slug == "imported") == 0


@pytest.mark.parametrize("escape", ["\\0", "\\x1b"])
def test_an_imported_lesson_body_with_an_escaped_control_is_refused(db, instructor, escape):
    text = _course_file(instructor, db)
    body_line = next(line for line in text.splitlines() if line.strip().startswith("body:"))
    text = text.replace(body_line, body_line.split("body:")[0] + f'body: "Read{escape}this"', 1)
    with pytest.raises(authoring.AuthoringError) as refused:
        authoring.import_text(instructor, text.encode())
    assert [issue.path.rsplit(".", 1)[-1] for issue in refused.value.issues] == ["body"]


def test_line_breaks_and_tabs_in_an_imported_lesson_body_are_fine(db, instructor):
    text = _course_file(instructor, db)
    body_line = next(line for line in text.splitlines() if line.strip().startswith("body:"))
    text = text.replace(body_line, body_line.split("body:")[0] + 'body: "Read\\tthis\\n\\nand that"', 1)
    course, _ = authoring.import_text(instructor, text.encode())
    assert course.slug == "imported"


@pytest.mark.parametrize(
    ("title", "status"), [("Two\nlines", 400), ("Carriage\rreturn", 400), ("One line", 302)]
)
def test_a_course_title_set_in_the_settings_must_be_on_one_line(
    db, client, sign_in, instructor, course, title, status
):
    content = authoring.working_version(course).content
    before = json.dumps(content, sort_keys=True)
    settings = {"title": title, "summary": content["summary"], "category": content["category"]}
    response = sign_in(instructor).post(f"/author/courses/{course.id}/settings", data=settings)
    assert response.status_code == status
    db.session.expire_all()
    changed = json.dumps(authoring.working_version(course).content, sort_keys=True) != before
    assert changed == (status == 302)


@pytest.mark.parametrize("escape", ["\\0", "\\x01", "\\n", "\\r"])
def test_a_scenario_title_with_an_escaped_control_or_line_break_is_refused(store_dispute, escape):
    from lms.services import scenario_authoring

    title_line = next(line for line in store_dispute.source_text.splitlines() if line.startswith("title:"))
    text = store_dispute.source_text.replace(title_line, f'title: "Store{escape}dispute"', 1)
    issues = scenario_authoring.validate_text(text)
    assert [issue.path for issue in issues] == ["title"]
    assert "control character" in issues[0].message


SINGLE_LINE_FORMS = {
    "scenario title": (
        "/author/scenarios/new",
        {"title": "Two{}lines", "slug": "two-lines"},
        "ScenarioRecord",
    ),
    "rule name": (
        "/agencies/{agency}/rules",
        {
            "name": "Two{}lines",
            "course": "{course}",
            "due_days": "30",
            "due_from": "assignment",
            "recurrence": "none",
        },
        "AssignmentRule",
    ),
    "API token name": (
        "/agencies/{agency}/integrations/tokens",
        {"name": "Two{}lines", "scopes": "people:read"},
        "ApiToken",
    ),
    "LRS key": (
        "/agencies/{agency}/integrations/lrs",
        {"endpoint": "https://lrs.example.test/xapi", "key": "Two{}lines", "secret": "s"},
        "LrsSettings",
    ),
}


@pytest.mark.parametrize("line_break", LINE_BREAKS)
@pytest.mark.parametrize("form", sorted(SINGLE_LINE_FORMS))
def test_single_line_form_fields_refuse_line_breaks(db, client, sign_in, make_user, agency, form, line_break):
    import lms.models

    url, data, model_name = SINGLE_LINE_FORMS[form]
    model = getattr(lms.models, model_name)
    author = make_user(agency, (Role.COORDINATOR, Role.INSTRUCTOR, Role.OFFICER))
    course = publish()
    fields = {key: value.format(line_break, course=course.id) for key, value in data.items()}
    response = sign_in(author).post(url.format(agency=agency.id), data=fields)
    assert response.status_code == 400
    assert "one line" in response.get_data(as_text=True) or "line break" in response.get_data(as_text=True)
    assert _count(db, model) == 0


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        json.dumps({"name": "x" * request_input.MAX_JSON_BYTES}),
        json.dumps({"name": "Nia\u0000", "email": "nia@example.test"}),
    ],
)
def test_hostile_json_bodies_get_documented_api_errors(api, openapi, body):  # noqa: F811
    response = api("PUT", "/people/by-badge/77", data=body, content_type="application/json")
    assert response.status_code in (400, 413)
    openapi("/people/by-badge/{badge_number}", "PUT", response)
