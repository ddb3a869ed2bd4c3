"""The instructor's package: a facilitator guide and a tabletop version of a scenario, as PDFs."""

from __future__ import annotations

import pytest

from lms.models import Role
from lms.services import facilitator, facilitator_pdf, scenario_authoring
from lms.services.scenario_library import scenario_of
from scenarios import Facilitator
from tests.lms.pdf_text import check_structure, flat

GUIDE = "/author/scenario-versions/{}/facilitator-guide.pdf"
TABLETOP = "/author/scenario-versions/{}/tabletop.pdf"

BLOCK = """
facilitator:
  goals:
    - "Officers say **who** they call first at the market, and why."
    - "Officers keep the camera footage with the case detective."
  minutes: {briefing: 7, play: 25, debrief: 18}
  prompts:
    at-the-store: ["Who hears about this first, Mr. Haddad or the families? <script>alert(1)</script>"]
  debrief_prompts: ["What did the market owner need from you & when?", "Who carried the message?"]
  assumptions: ["The block captain reaches Cedar Court families only."]
"""


def without_block(text: str) -> str:
    """The scenario's YAML without its top-level ``facilitator:`` block."""
    lines, out, inside = text.splitlines(keepends=True), [], False
    for line in lines:
        if line.startswith("facilitator:"):
            inside = True
            continue
        if inside and line.strip() and not line[0].isspace() and not line.startswith("#"):
            inside = False
        if not inside:
            out.append(line)
    return "".join(out)


def download(client, address: str):
    response = client.get(address)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    check_structure(response.data)
    return flat(response.data)


def test_guide_of_a_scenario_without_a_block_uses_defaults(db, client, sign_in, instructor, library):
    record = scenario_authoring.duplicate(instructor, library["crew-shooting-rumour"].id, slug="crew-class")
    version = scenario_authoring.draft_of(record)
    scenario_authoring.save_text(instructor, record, without_block(version.source_text))
    db.session.commit()
    scenario = scenario_of(version)
    assert scenario.facilitator == Facilitator()
    text = download(sign_in(instructor), GUIDE.format(version.id))
    assert "Facilitator guide" in text and " ".join(scenario.title.split()) in text
    for heading in ("Teaching objectives", "Session goals", "Timings", "The briefing", "Partners",
                    "Decision points", "Debrief prompts", "What the model assumes"):  # fmt: skip
        assert heading in text, heading
    assert "Communicate early" in text  # objective 1, by name
    assert "Briefing 5 default" in text and "Total 40" in text  # the default timings
    assert "General prompts (the scenario gives none)" in text
    assert "Ripple is a teaching simulation, not a forecast" in text
    assert "No reference results yet" in text
    legend = "EXPERT CHOICE marks the expert path"
    assert text.count("EXPERT CHOICE") - text.count(legend) == sum(len(c) for c in scenario.expert_path)
    criticals = sum(1 for dp in scenario.decisions for o in dp.options if o.critical)
    assert criticals and text.count("CRITICAL") - text.count("CRITICAL marks") == criticals
    for partner in scenario.partners:
        assert " ".join(partner.name.split()) in text


def test_options_are_listed_in_stable_id_order(instructor, library):
    scenario = scenario_of(library["store-dispute"])
    package = facilitator.build(scenario)
    for dp, note in zip(scenario.decisions, package.decisions, strict=True):
        assert [o.letter for o in note.options] == sorted(o.id for o in dp.options)
        assert {o.letter for o in note.options if o.expert} == set(scenario.expert_path[dp.index])


def test_the_facilitator_block_fills_the_guide_and_markup_is_sanitised(
    db, client, sign_in, instructor, library
):
    record = scenario_authoring.duplicate(instructor, library["store-dispute"].id, slug="market-class")
    draft = scenario_authoring.draft_of(record)
    scenario_authoring.save_text(instructor, record, without_block(draft.source_text) + BLOCK)
    db.session.commit()
    text = download(sign_in(instructor), GUIDE.format(draft.id))
    assert "Officers say who they call first at the market, and why." in text  # **who** rendered
    assert "**" not in text
    assert "Briefing 7" in text and "Total 50" in text and "default" not in text.split("Timings")[1][:80]
    assert "Who hears about this first, Mr. Haddad or the families?" in text
    assert "<script>" not in text and "alert(1)" not in text  # raw HTML dropped, as on the web
    assert "What did the market owner need from you & when?" in text  # escaped, then shown as typed
    assert "The block captain reaches Cedar Court families only." in text
    assert "General prompts" not in text.split("Debrief prompts")[1][:60]
    tabletop = download(client, TABLETOP.format(draft.id))
    assert "What did the market owner need from you & when? " in tabletop
    assert "Who carried the message?" in tabletop
    # the third closing question comes from the defaults when the block gives two
    assert facilitator.DEFAULT_DEBRIEF_PROMPTS[0] in tabletop


def test_tabletop_is_a_roll_call_with_the_expert_and_the_baseline(client, sign_in, instructor, library):
    version = library["store-dispute"]
    scenario = scenario_of(version)
    text = download(sign_in(instructor), TABLETOP.format(version.id))
    assert "15-minute roll call" in text and "Read aloud" in text and "Questions for the group" in text
    assert "The expert chose" in text and "With no partnership, the officer chose" in text
    assert "Three questions to close" in text
    assert "EXPERT CHOICE" not in text and "points]" not in text  # no answers on the group's sheet
    first = scenario.decisions[0]
    expert_option = first.option(scenario.expert_path[0][0])
    assert f"Decision 1: {expert_option.id}) {' '.join(expert_option.label.split())}" in text
    assert len(facilitator.build(scenario).tabletop_prompts) == 3


def test_stored_reference_results_are_shown_in_plain_words(db, client, sign_in, instructor, library):
    version = library["store-dispute"]
    scenario = scenario_of(version)
    means = {"retaliations": 0.4, "peak_reach": 0.31, "police_trust_end": 0.52}
    worse = {"retaliations": 1.25, "peak_reach": 0.62, "police_trust_end": 0.3}
    version.reference_summaries = {
        "grading:12@7": {
            "runs": 12,
            "seed": 7,
            "expert": means,
            "baseline": worse,
            "fingerprint": scenario.fingerprint,
        },
        "grading:500@7": {
            "runs": 500,
            "seed": 7,
            "expert": worse,
            "baseline": means,
            "fingerprint": "another yaml",
        },
    }
    db.session.commit()
    client = sign_in(instructor)
    for address in (GUIDE, TABLETOP):
        text = download(client, address.format(version.id))
        assert "Averages over 12 runs" in text
        assert (
            "Retaliatory incidents: 0.4 on average following the expert path, 1.2 on average with no partnership."
            in text
        )
        assert "at its height: 31% following the expert path, 62% with no partnership." in text
        assert (
            "Trust in police at the end, out of 100: 52 following the expert path, 30 with no partnership."
            in text
        )
        assert "No reference results yet" not in text


def test_a_real_grading_stores_what_the_guide_shows(client, sign_in, instructor, officers_finished_attempt):
    version = officers_finished_attempt.scenario_version
    outcomes = facilitator.stored_outcomes(version, scenario_of(version))
    assert outcomes is not None and outcomes.runs == 12 and len(outcomes.figures) >= 5
    text = download(sign_in(instructor), GUIDE.format(version.id))
    assert outcomes.figures[0] in text


def test_every_library_scenario_makes_both_pdfs(library):
    for version in library.values():
        package = facilitator.package(version)
        assert check_structure(facilitator_pdf.guide_pdf(package)) >= 2
        assert check_structure(facilitator_pdf.tabletop_pdf(package)) >= 1


# --- who may have it --------------------------------------------------------------------


@pytest.fixture
def agency_draft(db, instructor, library):
    record = scenario_authoring.duplicate(instructor, library["store-dispute"].id, slug="private-market")
    db.session.commit()
    return scenario_authoring.draft_of(record)


def status(client, sign_in, person, version_id: int, address: str = GUIDE) -> int:
    return sign_in(person, client).get(address.format(version_id)).status_code


def test_owning_agency_staff_and_admins_may_download_an_agency_draft(
    app, sign_in, agency_draft, instructor, coordinator, admin, officer
):
    for person, expected in ((instructor, 200), (coordinator, 200), (admin, 200), (officer, 403)):
        for address in (GUIDE, TABLETOP):
            assert status(app.test_client(), sign_in, person, agency_draft.id, address) == expected, (
                person.name
            )


def test_other_agencies_get_a_404_for_drafts_and_published_versions(
    db, app, sign_in, make_agency, make_user, instructor, agency_draft
):
    other = make_agency("Other PD")
    outsiders = [make_user(other, (role,)) for role in (Role.INSTRUCTOR, Role.COORDINATOR)]
    record = agency_draft.scenario
    scenario_authoring.publish(instructor, record, without_calibration=True)
    db.session.commit()
    published = scenario_authoring.latest_published_of(record)
    for person in outsiders:
        for version_id in (agency_draft.id, published.id, 10**6):
            for address in (GUIDE, TABLETOP):
                assert status(app.test_client(), sign_in, person, version_id, address) == 404
    with pytest.raises(facilitator.NotFound):
        facilitator.version_for(outsiders[0], published.id)


def test_library_versions_are_for_every_agency_but_library_drafts_only_for_admins(
    db, app, sign_in, make_agency, make_user, admin, library
):
    outsider = make_user(make_agency("Third PD"), (Role.COORDINATOR,))
    assert status(app.test_client(), sign_in, outsider, library["store-dispute"].id) == 200
    record = library["store-dispute"].scenario
    scenario_authoring.save_text(admin, record, without_block(library["store-dispute"].source_text) + BLOCK)
    db.session.commit()
    draft = scenario_authoring.draft_of(record)
    assert status(app.test_client(), sign_in, outsider, draft.id) == 404
    assert status(app.test_client(), sign_in, admin, draft.id) == 200


def test_the_scenario_pages_link_to_the_package(client, sign_in, instructor, agency_draft, library):
    client = sign_in(instructor)
    index = client.get("/author/").get_data(as_text=True)
    assert (
        GUIDE.format(library["store-dispute"].id) in index
        and TABLETOP.format(library["store-dispute"].id) in index
    )
    page = client.get(f"/author/scenarios/{agency_draft.scenario_id}").get_data(as_text=True)
    assert GUIDE.format(agency_draft.id) in page and TABLETOP.format(agency_draft.id) in page


def test_markup_reaches_reportlab_only_as_rebuilt_escaped_tags():
    from lms.pdf_markup import blocks, inline_markup, printable

    found = blocks(
        '**Bold** & <b onclick="x">raw</b> <script>alert(1)</script>\n\n- one\n- [link](javascript:alert(2))'
    )
    assert [b.kind for b in found] == ["p", "li", "li"]
    assert found[0].markup == "<b>Bold</b> &amp; <b>raw</b>"  # <b> is allowed on the web too; onclick is not
    assert "javascript" not in found[2].markup or "<link" not in found[2].markup
    assert inline_markup("a < b > c") == "a &lt; b &gt; c"
    assert inline_markup("[site](https://example.org/?a=1&b=2)") == (
        '<link href="https://example.org/?a=1&amp;b=2" color="#143a6b"><u>site</u></link> '
        "(https://example.org/?a=1&amp;b=2)"
    )
    assert printable("Tiếng Việt → café ≥ 中") == "Tieng Viet -> café >= ?"


def test_a_pdf_with_text_beyond_the_standard_fonts_is_readable(library):
    scenario = scenario_of(library["store-dispute"])
    package = facilitator.build(scenario)
    package = facilitator.Package(**{**package.__dict__, "briefing": "Hỏi **bà Nguyễn** → gọi 911."})
    text = flat(facilitator_pdf.guide_pdf(package))
    assert "Hoi bà Nguyen" in text and "goi 911." in text and "?" not in text.split("The briefing")[1][:40]


def test_the_page_footer_prints_a_title_beyond_the_standard_fonts_readably(library):
    package = facilitator.build(scenario_of(library["store-dispute"]))
    package = facilitator.Package(**{**package.__dict__, "title": "Chợ Việt → chiều"})
    for pdf, kind in (
        (facilitator_pdf.guide_pdf(package), "Facilitator guide"),
        (facilitator_pdf.tabletop_pdf(package), "Tabletop"),
    ):
        assert f"{kind} · Cho Viet -> chieu · version" in flat(pdf)
