"""Authoring routes: thin; the rules live in services.authoring, scenario_authoring, calibration."""

from __future__ import annotations

import secrets

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

import scenarios as engine
from lms import course_format as cf
from lms.access import roles_required
from lms.author import bp
from lms.author.forms import DuplicateForm, ImportForm, NewCourseForm, NewScenarioForm, PublishForm
from lms.downloads import attachment
from lms.extensions import db
from lms.models import Role, ScenarioVersion
from lms.rendering import MarkdownTooLong, render_preview
from lms.services import authoring, calibration, debrief, facilitator, facilitator_pdf, scenario_authoring
from lms.services.scenario_authoring import AuthoringError
from lms.services.scoping import NotFound
from lms.verify import limiter
from scenarios.yamlsource import parse_yaml

AUTHORS = (Role.INSTRUCTOR,)


def _author_preview_rate_limit() -> str:
    return current_app.config["AUTHOR_PREVIEW_RATE_LIMIT"]


def _author_by_user() -> str:
    return f"user:{current_user.id}"


# The editors' live checks (the lesson preview renders up to 20,000 characters of Markdown, the
# YAML check parses up to 2 MB) draw on one allowance per instructor, so one open tab typing
# cannot tie up a CPU. The editors show "checking paused" and try again after Retry-After.
author_preview_budget = limiter.shared_limit(
    _author_preview_rate_limit,
    scope="author-preview",
    key_func=_author_by_user,
    error_message="You have asked for many live checks in a short time; saving still checks everything.",
)


@bp.context_processor
def vocabulary():
    return {
        "objectives": dict(engine.OBJECTIVES),
        "question_kinds": {name: kind.label for name, kind in cf.QUESTION_KINDS.items()},
        "item_kinds": {name: kind.label for name, kind in cf.ITEM_KINDS.items()},
    }


def _record_or_404(scenario_id: int):
    try:
        return scenario_authoring.get_record(current_user, scenario_id)
    except NotFound:
        abort(404)


@bp.route("/")
@roles_required(*AUTHORS)
def index():
    return render_template(
        "author/index.html",
        scenarios=scenario_authoring.my_scenarios(current_user),
        library=scenario_authoring.duplicable(current_user),
        courses=[
            (c, authoring.draft_of(c), authoring.latest_version(c))
            for c in authoring.my_courses(current_user)
        ],
        library_courses=authoring.library_courses(current_user),
        over_hours=authoring.courses_over_their_hours(current_user),
    )


# --- scenarios ------------------------------------------------------------------------


@bp.route("/scenarios/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_scenario():
    form = NewScenarioForm()
    error = None
    if form.validate_on_submit():
        try:
            record = scenario_authoring.create_blank(current_user, slug=form.slug.data, title=form.title.data)
        except AuthoringError as problem:
            error = str(problem)
        else:
            db.session.commit()
            flash(
                "Your new scenario is a draft. Edit it, preview it, calibrate it, then publish it.", "success"
            )
            return redirect(url_for("author.edit_scenario", scenario_id=record.id))
    status = 400 if request.method == "POST" else 200
    return render_template("author/scenario_new.html", form=form, error=error), status


@bp.route("/scenarios/duplicate/<int:version_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def duplicate_scenario(version_id: int):
    visible = {v.id: v for v in scenario_authoring.duplicable(current_user)}
    source = visible.get(version_id) or db.session.get(ScenarioVersion, version_id)
    if source is None or source.id not in visible:
        abort(404)
    form = DuplicateForm(slug=source.scenario.slug)
    error = None
    if form.validate_on_submit():
        try:
            record = scenario_authoring.duplicate(current_user, version_id, slug=form.slug.data)
        except NotFound:
            abort(404)
        except AuthoringError as problem:
            error = str(problem)
        else:
            db.session.commit()
            flash(
                f"A copy of “{source.title}” is now your draft: adapt it, preview, calibrate and publish.",
                "success",
            )
            return redirect(url_for("author.edit_scenario", scenario_id=record.id))
    status = 400 if request.method == "POST" else 200
    return render_template("author/scenario_duplicate.html", form=form, source=source, error=error), status


def _editor(record, *, text=None, issues=None, status=200):
    version = scenario_authoring.current_version(record)
    return render_template(
        "author/scenario_edit.html",
        record=record,
        version=version,
        draft=scenario_authoring.draft_of(record),
        text=version.source_text if text is None else text,
        issues=issues or [],
        latest_calibration=calibration.latest_for(record),
    ), status


@bp.route("/scenarios/<int:scenario_id>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_scenario(scenario_id: int):
    record = _record_or_404(scenario_id)
    if request.method == "GET":
        return _editor(record)
    text = request.form.get("source", "")
    try:
        draft = scenario_authoring.save_text(current_user, record, text)
    except AuthoringError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return _editor(record, text=text, issues=problem.issues, status=400)
    db.session.commit()
    flash(f"Draft version {draft.number} saved.", "success")
    return redirect(url_for("author.edit_scenario", scenario_id=record.id))


@bp.route("/scenarios/<int:scenario_id>/validate", methods=["POST"])
@roles_required(*AUTHORS)
@author_preview_budget
def validate_scenario(scenario_id: int):
    """The editor's live validation: the engine's problems with their lines, as JSON."""
    record = _record_or_404(scenario_id)
    text = request.form.get("source", "")
    issues = scenario_authoring.validate_text(text)
    if not issues:
        parsed = scenario_authoring.parse_source(text if "\n" in text else text + "\n")
        if parsed.slug != record.slug:
            line = parse_yaml(text).line_of(("slug",))
            issues = [
                engine.Issue(
                    "slug", f'must stay "{record.slug}"; duplicate the scenario to use another slug', line
                )
            ]
    return jsonify({"valid": not issues, "issues": scenario_authoring.issues_data(issues)})


@bp.route("/scenarios/<int:scenario_id>/form", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def scenario_form(scenario_id: int):
    record = _record_or_404(scenario_id)
    version = scenario_authoring.current_version(record)
    values = scenario_authoring.form_values(version.source_text)
    issues = []
    if request.method == "POST":
        submitted = scenario_authoring.form_from_request(request.form)
        try:
            text = scenario_authoring.apply_form(version.source_text, submitted)
            if text != version.source_text:
                scenario_authoring.save_text(current_user, record, text)
        except AuthoringError as problem:
            db.session.rollback()
            flash(str(problem), "error")
            issues = problem.issues
            values = _merge_for_display(values, submitted)
        else:
            db.session.commit()
            flash("Saved to the draft's YAML.", "success")
            return redirect(url_for("author.scenario_form", scenario_id=record.id))
    return render_template(
        "author/scenario_form.html", record=record, version=version, values=values, issues=issues
    ), (400 if issues else 200)


def _merge_for_display(values: dict, submitted: dict) -> dict:
    """Show what the author typed after a failed save, not the stored values."""
    for key in ("title", "summary", "briefing", "pass_mark"):
        if submitted.get(key) is not None:
            values[key] = submitted[key]
    for d, decision in enumerate(values["decisions"]):
        given = submitted["decisions"][d] if d < len(submitted["decisions"]) else {}
        if given.get("prompt") is not None:
            decision["prompt"] = given["prompt"]
        for o, option in enumerate(decision["options"]):
            typed = given.get("options", [])[o] if o < len(given.get("options", [])) else {}
            for key in ("label", "points", "feedback"):
                if typed.get(key) is not None:
                    option[key] = typed[key]
    return values


@bp.route("/scenarios/<int:scenario_id>/preview")
@roles_required(*AUTHORS)
def preview_scenario(scenario_id: int):
    """Play the draft as a trainee would; decisions live in the URL, no attempt is recorded."""
    record = _record_or_404(scenario_id)
    version = scenario_authoring.current_version(record)
    scenario = scenario_authoring.parse_source(version.source_text)
    seed = request.args.get("seed", type=int)
    if seed is None or not 0 <= seed < 2**62:
        return redirect(url_for("author.preview_scenario", scenario_id=record.id, seed=secrets.randbits(40)))
    path_text = request.args.get("path", "").replace(" ", "+")  # a hand-typed "+" arrives as a space
    try:
        decisions = engine.parse_choose(scenario, path_text, partial_ok=True) if path_text else []
    except engine.DecisionError as problem:
        flash(f"That preview path does not fit this draft ({problem}); starting again.", "warning")
        return redirect(url_for("author.preview_scenario", scenario_id=record.id, seed=seed))
    chosen = [o for o in request.args.getlist("options") if o]
    error = None
    if "decide" in request.args and len(decisions) < len(scenario.decisions):
        point = scenario.decisions[len(decisions)]
        problems = engine.validate_decisions(scenario, decisions + [chosen], partial_ok=True)
        if point.kind == "single" and len(chosen) != 1:
            problems = ["Choose exactly one option."]
        elif not chosen:
            problems = ["Choose at least one option."]
        if problems:
            error = "; ".join(problems)
        else:
            new_path = engine.format_choose(scenario, decisions + [chosen])
            return redirect(
                url_for(
                    "author.preview_scenario",
                    scenario_id=record.id,
                    seed=seed,
                    path=new_path,
                    _anchor="decision",
                )
            )
    index = len(decisions)
    run, result = None, None
    try:
        if index < len(scenario.decisions):
            run = engine.simulate(scenario, decisions, seed, stop_at_decision=index)
        else:
            runs = current_app.config.get("SCENARIO_GRADING_RUNS") or min(scenario.grading.runs, 100)
            distribution = engine.monte_carlo(scenario, decisions, runs, seed)
            result = engine.grade(
                scenario, decisions, distribution, debrief.grading_references(scenario, version)
            )
    except engine.EventBudgetExceeded as problem:  # the draft's numbers make its runs explode
        flash(f"This draft cannot be previewed: {problem}", "error")
        return redirect(url_for("author.edit_scenario", scenario_id=record.id))
    return render_template(
        "author/scenario_preview.html",
        record=record,
        version=version,
        scenario=scenario,
        seed=seed,
        decisions=decisions,
        path=engine.format_choose(scenario, decisions),
        index=index,
        run=run,
        result=result,
        error=error,
    ), (400 if error else 200)


@bp.route("/scenarios/<int:scenario_id>/calibrate", methods=["POST"])
@roles_required(*AUTHORS)
def calibrate_scenario(scenario_id: int):
    record = _record_or_404(scenario_id)
    version = scenario_authoring.current_version(record)
    try:
        _, started = calibration.start_or_join(current_user, version)
    except calibration.CalibrationBusy as busy:
        db.session.rollback()
        flash(str(busy), "error")
        return redirect(url_for("author.scenario_calibration", scenario_id=record.id))
    db.session.commit()
    if not started:
        flash("This draft is already being calibrated: here is its progress.", "info")
    return redirect(url_for("author.scenario_calibration", scenario_id=record.id))


@bp.route("/scenarios/<int:scenario_id>/calibration")
@roles_required(*AUTHORS)
def scenario_calibration(scenario_id: int):
    record = _record_or_404(scenario_id)
    latest = calibration.latest_for(record)
    db.session.commit()  # a lost job is marked failed
    version = scenario_authoring.current_version(record)
    return render_template(
        "author/scenario_calibration.html",
        record=record,
        version=version,
        calibration=latest,
        current=latest is not None
        and latest.fingerprint == version.fingerprint
        and latest.scenario_version_id == version.id,
        chart=calibration.chart(latest.results) if latest is not None and latest.results else None,
    )


@bp.route("/calibrations/<int:calibration_id>/status")
@roles_required(*AUTHORS)
def calibration_status(calibration_id: int):
    try:
        found = calibration.get_calibration(current_user, calibration_id)
    except NotFound:
        abort(404)
    db.session.commit()
    return jsonify(calibration.status_data(found))


@bp.route("/scenarios/<int:scenario_id>/publish", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def publish_scenario(scenario_id: int):
    record = _record_or_404(scenario_id)
    draft = scenario_authoring.draft_of(record)
    form = PublishForm()
    error = None
    if request.method == "POST":
        try:
            version = scenario_authoring.publish(
                current_user, record, without_calibration=bool(form.without_calibration.data)
            )
        except AuthoringError as problem:
            db.session.rollback()
            error = str(problem)
        else:
            db.session.commit()
            where = "the platform library" if record.agency_id is None else "your agency"
            flash(
                f"Version {version.number} is published to {where}. It can no longer be changed.", "success"
            )
            return redirect(url_for("author.edit_scenario", scenario_id=record.id))
    return render_template(
        "author/scenario_publish.html",
        record=record,
        draft=draft,
        form=form,
        error=error,
        calibration=scenario_authoring.current_calibration(draft) if draft else None,
    ), (400 if error else 200)


@bp.route("/scenarios/<int:scenario_id>/share", methods=["POST"])
@roles_required(*AUTHORS)
def share_scenario(scenario_id: int):
    record = _record_or_404(scenario_id)
    try:
        shared = scenario_authoring.share_to_library(current_user, record)
    except AuthoringError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("author.publish_scenario", scenario_id=record.id))
    db.session.commit()
    flash("Shared: the scenario is now in the platform library, for every agency.", "success")
    return redirect(url_for("author.edit_scenario", scenario_id=shared.id))


# --- the instructor's package: a facilitator guide and a tabletop version, as PDFs --------

PACKAGE_PDFS = {
    "facilitator-guide": facilitator_pdf.guide_pdf,
    "tabletop": facilitator_pdf.tabletop_pdf,
}


def _package_pdf(version_id: int, kind: str) -> Response:
    try:
        version = facilitator.version_for(current_user, version_id)
    except NotFound:
        abort(404)
    pdf = PACKAGE_PDFS[kind](facilitator.package(version))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": attachment(f"{version.scenario.slug}-v{version.number}-{kind}.pdf")},
    )


@bp.route("/scenario-versions/<int:version_id>/facilitator-guide.pdf")
@roles_required(*facilitator.PACKAGE_ROLES)
def facilitator_guide(version_id: int):
    return _package_pdf(version_id, "facilitator-guide")


@bp.route("/scenario-versions/<int:version_id>/tabletop.pdf")
@roles_required(*facilitator.PACKAGE_ROLES)
def tabletop(version_id: int):
    return _package_pdf(version_id, "tabletop")


# --- courses --------------------------------------------------------------------------


def _course_or_404(course_id: int):
    try:
        return authoring.visible_course(current_user, course_id)
    except NotFound:
        abort(404)


@bp.route("/courses/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_course():
    form = NewCourseForm()
    error = None
    if form.validate_on_submit():
        try:
            course = authoring.create_course(current_user, slug=form.slug.data, title=form.title.data)
        except AuthoringError as problem:
            error = str(problem)
        else:
            db.session.commit()
            flash("Your new course is a draft.", "success")
            return redirect(url_for("author.edit_course", course_id=course.id))
    return render_template("author/course_new.html", form=form, error=error), (
        400 if request.method == "POST" else 200
    )


@bp.route("/courses/import", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def import_course():
    form = ImportForm()
    issues, error = [], None
    if form.validate_on_submit():
        raw = form.course_file.data.read(authoring.MAX_IMPORT_BYTES + 1)
        try:
            course, draft = authoring.import_text(current_user, raw)
        except AuthoringError as problem:
            db.session.rollback()
            error, issues = str(problem), problem.issues
        else:
            db.session.commit()
            flash(
                f"Imported “{draft.title}” as draft version {draft.number}. Check it, then publish it.",
                "success",
            )
            return redirect(url_for("author.edit_course", course_id=course.id))
    status = 400 if request.method == "POST" else 200
    return render_template("author/course_import.html", form=form, issues=issues, error=error), status


def _course_page(course, *, status=200, issues=None):
    version = authoring.working_version(course)
    return render_template(
        "author/course_edit.html",
        course=course,
        version=version,
        spec=cf.course_from_data(version.content),
        editable=authoring.can_edit(current_user, course),
        draft=authoring.draft_of(course),
        issues=issues or [],
        scenarios=sorted(authoring.known_scenarios(current_user)),
    ), status


@bp.route("/courses/<int:course_id>")
@roles_required(*AUTHORS)
def edit_course(course_id: int):
    return _course_page(_course_or_404(course_id))


def _apply(course, change, success: str, target=None):
    try:
        authoring.edit_course(current_user, course, change)
    except NotFound:
        abort(404)
    except AuthoringError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return None, problem.issues
    db.session.commit()
    flash(success, "success")
    return redirect(target or url_for("author.edit_course", course_id=course.id)), []


@bp.route("/courses/<int:course_id>/settings", methods=["POST"])
@roles_required(*AUTHORS)
def course_settings(course_id: int):
    course = _course_or_404(course_id)
    response, issues = _apply(
        course, authoring.settings_change(request.form), "Course settings saved to the draft."
    )
    return response or _course_page(course, status=400, issues=issues)


@bp.route("/courses/<int:course_id>/structure", methods=["POST"])
@roles_required(*AUTHORS)
def course_structure(course_id: int):
    course = _course_or_404(course_id)
    action = request.form.get("action", "")
    response, issues = _apply(course, authoring.structure_change(action, request.form), "Saved to the draft.")
    return response or _course_page(course, status=400, issues=issues)


@bp.route("/courses/<int:course_id>/adapt", methods=["POST"])
@roles_required(*AUTHORS)
def adapt_course(course_id: int):
    course = _course_or_404(course_id)
    try:
        copy_ = authoring.adapt(current_user, course)
    except AuthoringError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("author.edit_course", course_id=course.id))
    db.session.commit()
    flash("The course is copied into your agency as a draft.", "success")
    return redirect(url_for("author.edit_course", course_id=copy_.id))


@bp.route("/courses/<int:course_id>/items/<item_slug>", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_item(course_id: int, item_slug: str):
    course = _course_or_404(course_id)
    if not authoring.can_edit(current_user, course):
        flash("This course belongs to the platform library: adapt it for your agency to edit it.", "info")
        return redirect(url_for("author.edit_course", course_id=course.id))
    version = authoring.working_version(course)
    spec = cf.course_from_data(version.content)
    item = spec.item(item_slug)
    if item is None:
        abort(404)
    issues, preview, typed = [], None, None
    if request.method == "POST":
        action = request.form.get("action", "save")
        if action == "preview":
            try:
                preview = render_preview(request.form.get("body", ""))
            except MarkdownTooLong as problem:
                issues = [engine.Issue("body", str(problem), None)]
        else:
            target = url_for("author.edit_item", course_id=course.id, item_slug=item_slug)
            response, issues = _apply(
                course, authoring.item_change(item_slug, request.form, action), "Saved to the draft.", target
            )
            if response is not None:
                return response
            typed = authoring.typed_item(course, item_slug, request.form)
    return render_template(
        "author/item_edit.html",
        course=course,
        version=version,
        item=item,
        form=request.form if request.method == "POST" else None,
        issues=issues,
        preview=preview,
        questions=typed.get("questions") if typed and item.kind == "knowledge_check" else None,
        scenarios=sorted(authoring.known_scenarios(current_user)),
    ), (400 if request.method == "POST" and preview is None else 200)


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@roles_required(*AUTHORS)
def publish_course(course_id: int):
    course = _course_or_404(course_id)
    try:
        version = authoring.publish(current_user, course)
    except NotFound:
        abort(404)
    except AuthoringError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return _course_page(course, status=400, issues=problem.issues)
    db.session.commit()
    flash(
        f"Version {version.number} is published. Officers already assigned keep the version they started.",
        "success",
    )
    return redirect(url_for("author.edit_course", course_id=course.id))


@bp.route("/courses/<int:course_id>/export")
@roles_required(*AUTHORS)
def export_course(course_id: int):
    course = _course_or_404(course_id)
    version = authoring.working_version(course)
    return Response(
        authoring.export_text(version),
        mimetype="application/yaml",
        headers={"Content-Disposition": attachment(f"{course.slug}-v{version.number}.yaml")},
    )


@bp.route("/markdown-preview", methods=["POST"])
@roles_required(*AUTHORS)
@author_preview_budget
def markdown_preview():
    """The lesson editor's live preview: sanitised HTML of the Markdown posted."""
    try:
        return jsonify({"html": str(render_preview(request.form.get("body", "")))})
    except MarkdownTooLong as problem:
        return jsonify({"error": str(problem), "field": "body"}), 413
