"""Playing scenarios, the debrief, and instructors' review of attempts."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

import scenarios as engine
from lms.access import roles_required
from lms.extensions import db
from lms.models import Role, ScenarioVersion
from lms.play import bp
from lms.play.forms import OverrideForm, decision_form
from lms.services import attempts, debrief, measures, next_steps, scenario_library, situation
from lms.services.scoping import NotFound
from lms.verify import limiter

REVIEWERS = (Role.INSTRUCTOR, Role.COORDINATOR)


@bp.context_processor
def scenario_vocabulary():
    return {
        "objectives": dict(engine.OBJECTIVES),
        "partner_types": {name: kind.label for name, kind in engine.PARTNER_TYPES.items()},
        "measure": measures.measure,
        "format_value": measures.format_value,
        "points_words": debrief.points_words,
    }


def _attempt_or_404(attempt_id: int):
    try:
        return attempts.get_attempt(current_user, attempt_id)
    except NotFound:
        abort(404)


@bp.route("/assignments/<int:assignment_id>/items/<item_slug>/start", methods=["POST"])
def start(assignment_id: int, item_slug: str):
    try:
        attempt = attempts.start_for_item(current_user, assignment_id, item_slug)
    except NotFound:
        abort(404)
    except attempts.PlayError as error:
        flash(str(error), "error")
        return redirect(url_for("learn.item", assignment_id=assignment_id, item_slug=item_slug))
    db.session.commit()
    return redirect(url_for("play.attempt", attempt_id=attempt.id))


@bp.route("/scenarios/")
@roles_required(Role.INSTRUCTOR)
def library():
    versions = scenario_library.published_catalogue(current_user)
    return render_template(
        "play/library.html", entries=[(v, scenario_library.scenario_of(v)) for v in versions]
    )


@bp.route("/scenarios/<int:version_id>/start", methods=["POST"])
@roles_required(Role.INSTRUCTOR)
def start_direct(version_id: int):
    visible = scenario_library.visible_records(current_user).subquery()
    version = db.session.scalar(
        db.select(ScenarioVersion)
        .join(visible, visible.c.id == ScenarioVersion.scenario_id)
        .where(ScenarioVersion.id == version_id, ScenarioVersion.status == "published")
    )
    if version is None:
        abort(404)
    attempt = attempts.start_direct(current_user, version)
    db.session.commit()
    return redirect(url_for("play.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
def attempt(attempt_id: int):
    found = _attempt_or_404(attempt_id)
    if found.status == "completed":
        return redirect(url_for("play.debrief", attempt_id=found.id))
    if found.status == "grading":
        return render_template(
            "play/grading.html",
            attempt=found,
            ahead=(ahead := attempts.grading_queue_position(found)),
            poll_ms=attempts.poll_after_ms(ahead),
            steps=next_steps.for_attempt(current_user, found),
        )
    play = attempts.state(found)
    form = None
    if found.user_id == current_user.id and play.point is not None:
        form = decision_form(play.point, options=attempts.shown_options(found, play.point))
    return render_template("play/play.html", play=play, form=form, **situation.room(play))


@bp.route("/attempts/<int:attempt_id>/status")
def status(attempt_id: int):
    """What the grading page polls: a few bytes instead of the whole page."""
    try:
        found = attempts.status_of(current_user, attempt_id)
    except NotFound:
        abort(404)
    return jsonify(
        {
            "status": found.status,
            "ahead": found.ahead,
            "poll_ms": found.poll_after_ms,
            "url": url_for("play.attempt", attempt_id=found.id),
        }
    )


@bp.route("/attempts/<int:attempt_id>/decisions/<int(min=0):index>", methods=["POST"])
def decide(attempt_id: int, index: int):
    found = _attempt_or_404(attempt_id)
    scenario, at = attempts.position(found)
    if found.status != "in_progress" or index != at:
        flash(
            "That decision was already made (perhaps in another tab or with Back). Here is where your attempt stands.",
            "warning",
        )
        return redirect(url_for("play.attempt", attempt_id=found.id))
    point = scenario.decisions[index]
    form = decision_form(point, request.form, options=attempts.shown_options(found, point))
    problem = None
    if form.validate_on_submit():
        chosen = form.options.data if isinstance(form.options.data, list) else [form.options.data]
        try:
            finished = attempts.decide(current_user, found, index, chosen)
        except attempts.StaleDecision as error:
            flash(str(error), "warning")
            return redirect(url_for("play.attempt", attempt_id=attempt_id))
        except attempts.PlayError as error:
            problem = str(error)
        else:
            db.session.commit()
            if finished:
                flash("Attempt complete. Here is your grade and debrief.", "success")
                return redirect(url_for("play.debrief", attempt_id=attempt_id))
            return redirect(url_for("play.attempt", attempt_id=attempt_id, _anchor="recap"))
    if problem:
        form.options.errors = [problem]
    play = attempts.state(found)
    return render_template("play/play.html", play=play, form=form, **situation.room(play)), 400


def _debrief(found, override_form=None, preview=None, status: int = 200):
    can_override = current_user.has_role(Role.INSTRUCTOR, Role.ADMIN) and found.user_id != current_user.id
    return render_template(
        "play/debrief.html",
        d=debrief.build(found, reveal=attempts.reveals_answers(current_user, found)),
        override_form=(override_form or OverrideForm(formdata=None)) if can_override else None,
        preview=preview,
        steps=next_steps.for_attempt(current_user, found),
    ), status


@bp.route("/attempts/<int:attempt_id>/debrief", endpoint="debrief")
def debrief_page(attempt_id: int):
    found = _attempt_or_404(attempt_id)
    if found.status != "completed":
        return redirect(url_for("play.attempt", attempt_id=found.id))
    return _debrief(found)


def _what_if_rate_limit() -> str:
    return current_app.config["WHAT_IF_RATE_LIMIT"]


def _what_if_by_user() -> str:
    return f"user:{current_user.id}"


def _what_if_costs_nothing() -> bool:
    """The form alone, another's attempt (404), an unfinished one, or a projection already
    made: none of them simulates anything, so none spends the user's what-if allowance."""
    index = request.args.get("decision", type=int)
    if index is None:
        return True
    try:
        found = attempts.get_attempt(current_user, request.view_args["attempt_id"])
    except NotFound:
        return True
    if found.status != "completed" or not attempts.reveals_answers(current_user, found):
        return True
    return debrief.what_if_is_cached(found, index - 1, request.args.getlist("options"))


@bp.route("/attempts/<int:attempt_id>/what-if")
@limiter.limit(
    _what_if_rate_limit,
    key_func=_what_if_by_user,
    exempt_when=_what_if_costs_nothing,
    error_message="You have asked for many new projections in a short time; "
    "the ones you have already seen still open at once.",
)
def what_if(attempt_id: int):
    found = _attempt_or_404(attempt_id)
    if found.status != "completed":
        return redirect(url_for("play.attempt", attempt_id=found.id))
    index = request.args.get("decision", type=int)
    options = request.args.getlist("options")
    scenario = scenario_library.scenario_of(found.scenario_version)
    if not attempts.reveals_answers(current_user, found):
        # Projecting alternatives would find the expert path: it opens with the answer key.
        return render_template(
            "play/what_if.html", attempt=found, scenario=scenario, withheld=True, result=None, error=None
        ), 403
    result, error = None, None
    if index is not None:
        try:
            result = debrief.what_if(found, index - 1, options)
        except ValueError as problem:
            error = str(problem)
    return render_template(
        "play/what_if.html",
        attempt=found,
        scenario=scenario,
        result=result,
        error=error,
        index=index,
        options=options,
        runs=debrief.what_if_runs(found),
    ), (400 if error else 200)


def _preview_if_valid(found, form):
    """The review to show again beside a problem in the confirm step (none if the grade
    itself is what is wrong)."""
    try:
        return attempts.preview_override(
            current_user, found, score=float(form.score.data), reason=form.reason.data
        )
    except attempts.PlayError:
        return None


@bp.route("/attempts/<int:attempt_id>/grade", methods=["POST"])
@roles_required(Role.INSTRUCTOR)
def override(attempt_id: int):
    """Two steps: "Review change" shows what the new grade changes; "Confirm" records it."""
    found = _attempt_or_404(attempt_id)
    if found.status != "completed":
        return redirect(url_for("play.attempt", attempt_id=found.id))
    form = OverrideForm()
    if not form.validate_on_submit():
        return _debrief(found, form, status=400)
    try:
        if not form.confirm.data:
            preview = attempts.preview_override(
                current_user, found, score=float(form.score.data), reason=form.reason.data
            )
            return _debrief(found, form, preview)
        attempts.override_grade(
            current_user, found, score=float(form.score.data), reason=form.reason.data,
            certificate=form.certificate.data, certificate_reason=form.certificate_reason.data,
            reviewed_grade_id=form.reviewed_grade.data,
        )  # fmt: skip
    except attempts.PlayError as error:
        form.form_errors.append(str(error))
        return _debrief(found, form, _preview_if_valid(found, form), status=400)
    db.session.commit()
    flash(
        "The new grade is recorded; the original stays in the history. The officer has a message about it.",
        "success",
    )
    return redirect(url_for("play.debrief", attempt_id=found.id))


@bp.route("/review")
@roles_required(*REVIEWERS)
def review():
    status = request.args.get("status", "completed")
    if status not in ("completed", "in_progress", ""):
        status = "completed"
    return render_template(
        "play/review.html", attempts=attempts.attempts_for_review(current_user, status=status), status=status
    )
