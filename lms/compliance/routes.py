"""The coordinator's compliance pages: dashboard, officers, rules, assignment, mandate,
exports and the outbox; plus each officer's messages and each supervisor's team."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from lms.access import agency_or_404, roles_required, scoped_or_404
from lms.charts import bar_chart
from lms.compliance import bp
from lms.compliance.forms import (
    AssignFilterForm,
    AssignForm,
    BoardActionForm,
    FilterForm,
    MandateForm,
    RuleForm,
    SubscriptionForm,
)
from lms.downloads import attachment
from lms.extensions import db
from lms.input import BadInput, page_arg, parse_id
from lms.models import (
    Agency,
    AssignmentRule,
    Course,
    Mandate,
    OutboxMessage,
    ReportSubscription,
    Role,
    User,
)
from lms.services import compliance, exports, reminders, roster, rules, scheduled_reports, today, trends
from lms.services.scoping import scoped

STAFF = (Role.COORDINATOR,)


def _course_choices(agency: Agency) -> list[tuple[str, str]]:
    courses = db.session.scalars(
        select(Course)
        .where((Course.agency_id == agency.id) | Course.agency_id.is_(None))
        .order_by(Course.title)
    )
    return [(str(c.id), c.title) for c in courses]


def _unit_choices(agency: Agency, blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [
        (str(u.id), "\u2003" * depth + u.name) for u, depth, _ in roster.unit_tree(agency)
    ]


def _filters(agency: Agency) -> tuple[FilterForm, compliance.Filters | None]:
    form = FilterForm(request.args)
    form.course.choices = [("", "All courses")] + _course_choices(agency)
    ranks = db.session.scalars(
        select(User.rank)
        .where(User.agency_id == agency.id, User.rank.is_not(None))
        .distinct()
        .order_by(User.rank)
    ).all()
    form.rank.choices = [("", "All ranks")] + [(r, r) for r in ranks]
    form.unit.choices = _unit_choices(agency, "Whole agency")
    if not form.validate():
        return form, None
    return form, compliance.Filters(
        course_id=_choice_id(form.course),
        rank=(form.rank.data or "").strip() or None,
        unit_id=_choice_id(form.unit),
        status=form.status.data or "",
    )


def _choice_id(field) -> int | None:
    """The id chosen in a select field; blank (even a space, which `Optional()` lets through)
    is none. The field's choices already refused an unknown id."""
    return parse_id(field.data, field.name)


@bp.route("/agencies/<int:agency_id>/compliance")
@roles_required(*STAFF)
def overview(agency_id: int):
    agency = agency_or_404(agency_id)
    form, filters = _filters(agency)
    if filters is None:
        return render_template("compliance/overview.html", agency=agency, form=form, view=None), 400
    view = compliance.overview(agency, filters)
    completion = bar_chart(
        "Completion by unit",
        "Share of assigned training completed in each unit.",
        [
            (
                row.unit.name if row.unit else "No unit",
                row.counts.completion_rate,
                f"{row.counts.completion_rate:.0%}",
            )
            for row in view.units
        ],
        horizontal=True,
        top=1.0,
    )
    expirations = bar_chart(
        "Certifications expiring, by month",
        "Certificates that expire in each of the next twelve months.",
        [(month, count, str(count)) for month, count in view.expirations_by_month],
        horizontal=False,
    )
    officers, total = (
        compliance.officers_in(agency, filters, direct_unit_only=True, limit=100)
        if filters.unit_id
        else ([], 0)
    )
    return render_template(
        "compliance/overview.html",
        agency=agency,
        form=form,
        view=view,
        completion=completion,
        expirations=expirations,
        officers=officers,
        officers_total=total,
    )


@bp.route("/agencies/<int:agency_id>/compliance/officers")
@roles_required(*STAFF)
def officers(agency_id: int):
    agency = agency_or_404(agency_id)
    form, filters = _filters(agency)
    if filters is None:
        return render_template(
            "compliance/officers.html", agency=agency, form=form, rows=[], total=0, page=1
        ), 400
    page = page_arg()
    rows, total = compliance.officers_in(
        agency, filters, direct_unit_only=False, limit=100, offset=(page - 1) * 100
    )
    return render_template(
        "compliance/officers.html", agency=agency, form=form, rows=rows, total=total, page=page
    )


@bp.route("/agencies/<int:agency_id>/rules", methods=["GET", "POST"])
@roles_required(*STAFF)
def rules_page(agency_id: int):
    agency = agency_or_404(agency_id)
    form = RuleForm()
    form.course.choices = [("", "Choose a course")] + _course_choices(agency)
    form.unit.choices = _unit_choices(agency, "Whole agency")
    ranks = db.session.scalars(
        select(User.rank).where(User.agency_id == agency.id, User.rank.is_not(None)).distinct()
    )
    form.ranks.choices = [(r, r) for r in sorted(ranks)]
    status = 200
    preview = None
    if form.validate_on_submit():
        spec = rules.RuleSpec(
            name=form.name.data or "",
            course_id=_choice_id(form.course),
            unit_id=_choice_id(form.unit),
            ranks=form.ranks.data or [],
            due_on=form.due_on.data,
            due_days=form.due_days.data,
            due_from=form.due_from.data,
            recurrence=form.recurrence.data,
        )
        try:
            if "preview" in request.form:
                preview = rules.preview(agency, spec)
                rule = None
            else:
                rule = rules.create_rule(current_user, agency, spec)
        except rules.RuleError as error:
            form[error.field or "course"].errors.append(str(error))
            status = 400
        else:
            if rule is None:
                return render_template(
                    "compliance/rules.html", agency=agency, form=form, rules=_rules_of(agency),
                    recurrences=rules.RECURRENCES, preview=preview,
                )  # fmt: skip
            db.session.commit()
            flash(f"Rule “{rule.name}” saved and applied.", "success")
            return redirect(url_for("compliance.rules_page", agency_id=agency.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "compliance/rules.html",
        agency=agency,
        form=form,
        rules=_rules_of(agency),
        recurrences=rules.RECURRENCES,
    ), status


def _rules_of(agency: Agency) -> list[AssignmentRule]:
    return list(
        db.session.scalars(
            scoped(AssignmentRule, current_user)
            .where(AssignmentRule.agency_id == agency.id)
            .order_by(AssignmentRule.id.desc())
        )
    )


@bp.route("/agencies/<int:agency_id>/rules/<int:rule_id>/deactivate", methods=["POST"])
@roles_required(*STAFF)
def deactivate_rule(agency_id: int, rule_id: int):
    agency = agency_or_404(agency_id)
    rule = scoped_or_404(AssignmentRule, rule_id, agency=agency)
    rules.deactivate_rule(current_user, rule)
    db.session.commit()
    flash(f"Rule “{rule.name}” stopped. Existing assignments stay.", "success")
    return redirect(url_for("compliance.rules_page", agency_id=agency.id))


@bp.route("/agencies/<int:agency_id>/assign", methods=["GET", "POST"])
@roles_required(*STAFF)
def assign(agency_id: int):
    agency = agency_or_404(agency_id)
    filters = AssignFilterForm(request.args)
    filters.unit.choices = _unit_choices(agency, "Whole agency")
    filters.rank.choices = [("", "Every rank")] + [(r, r) for r in _ranks(agency)]
    form = AssignForm()
    form.course.choices = [("", "Choose a course")] + _course_choices(agency)
    if not filters.validate():
        return render_template(
            "compliance/assign.html", agency=agency, form=form, filters=filters, people=[], total=0, page=1
        ), 400
    chosen_filters = {
        "unit_id": _choice_id(filters.unit),
        "rank": (filters.rank.data or "").strip() or None,
        "q": (filters.q.data or "").strip(),
    }
    status = 200
    if form.validate_on_submit():
        try:
            course, created, chosen = rules.assign_chosen(
                current_user,
                agency,
                _choice_id(form.course),
                form.due_on.data,
                officer_ids=[i for i in (parse_id(v, "officers") for v in form.officers.data or []) if i],
                all_matching=form.all_matching.data,
                **chosen_filters,
            )
        except rules.RuleError as error:
            form[error.field or "course"].errors.append(str(error))
        else:
            db.session.commit()
            skipped = chosen - len(created)
            flash(
                f"{course.title} assigned to {len(created)} officer(s)"
                + (f"; {skipped} already had it open" if skipped else "")
                + ".",
                "success",
            )
            return redirect(url_for("compliance.overview", agency_id=agency.id))
        status = 400
    elif request.method == "POST":
        status = 400
    page = page_arg()
    people, total = rules.candidates_page(agency, page=page, **chosen_filters)
    return render_template(
        "compliance/assign.html",
        agency=agency,
        form=form,
        filters=filters,
        people=people,
        total=total,
        page=page,
    ), status


def _ranks(agency: Agency) -> list[str]:
    return list(
        db.session.scalars(
            select(User.rank)
            .where(User.agency_id == agency.id, User.rank.is_not(None))
            .distinct()
            .order_by(User.rank)
        )
    )


@bp.route("/agencies/<int:agency_id>/mandate", methods=["GET", "POST"])
@roles_required(*STAFF)
def mandate(agency_id: int):
    agency = agency_or_404(agency_id)
    current = db.session.scalar(select(Mandate).where(Mandate.agency_id == agency.id))
    form = MandateForm(obj=current) if request.method == "GET" and current else MandateForm()
    if request.method == "GET" and current:
        form.cycle_months.data = str(current.cycle_months)
        for row, minimum in zip(form.minimums, current.minimums, strict=False):
            row.category.data, row.hours.data = minimum.category, minimum.hours
    if form.validate_on_submit():
        compliance.save_mandate(
            current_user,
            agency,
            hours=float(form.hours.data),
            cycle_months=int(form.cycle_months.data),
            cycle_start=form.cycle_start.data,
            minimums=form.chosen_minimums(),
        )
        db.session.commit()
        flash("The mandate is saved; hours are now counted against it.", "success")
        return redirect(url_for("compliance.overview", agency_id=agency.id))
    status = 400 if request.method == "POST" else 200
    return render_template("compliance/mandate.html", agency=agency, form=form), status


@bp.route("/agencies/<int:agency_id>/exports")
@roles_required(*STAFF)
def exports_page(agency_id: int):
    agency = agency_or_404(agency_id)
    return render_template("compliance/exports.html", agency=agency, reports=exports.REPORTS.values())


@bp.route("/agencies/<int:agency_id>/exports/<report>.<fmt>")
@roles_required(*STAFF)
def export(agency_id: int, report: str, fmt: str):
    agency = agency_or_404(agency_id)
    if report not in exports.REPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    filename = f"{agency.slug}-{report}.{fmt}"
    if fmt == "csv":
        return Response(
            stream_with_context(exports.stream_csv(report, agency)),
            mimetype="text/csv",
            headers={"Content-Disposition": attachment(filename)},
        )
    response = send_file(
        exports.xlsx_file(report, agency),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = attachment(filename)
    return response


@bp.route("/agencies/<int:agency_id>/outbox")
@roles_required(*STAFF)
def outbox(agency_id: int):
    agency = agency_or_404(agency_id)
    messages = db.session.scalars(
        scoped(OutboxMessage, current_user)
        .where(OutboxMessage.agency_id == agency.id)
        .order_by(OutboxMessage.id.desc())
        .limit(200)
    ).all()
    return render_template("compliance/outbox.html", agency=agency, messages=messages)


@bp.route("/messages")
def messages():
    return render_template("compliance/messages.html", messages=reminders.messages_for(current_user))


@bp.route("/team")
def team():
    reports = db.session.scalars(
        select(User).where(User.supervisor_id == current_user.id, User.active.is_(True)).order_by(User.name)
    ).all()
    rows = compliance.team_status(current_user, reports) if reports else []
    return render_template("compliance/team.html", rows=rows)


def _board_list() -> str:
    """The list asked for (`?list=`): blank for none; an unknown one is a 400 naming it."""
    key = (request.args.get("list") or "").strip()
    if key and key not in today.LISTS:
        raise BadInput("“list” must be one of: " + ", ".join(today.LISTS) + ".", "list")
    return key


def _render_board(scope: today.Scope, form: BoardActionForm | None, status: int = 200):
    key = _board_list()
    actions = today.actions_of(key)
    page = page_arg()
    rows, total = today.rows_of(scope, key, page=page) if key else ([], 0)
    return render_template(
        "compliance/today.html",
        scope=scope,
        agency=scope.agency,
        figures=today.figures(scope),
        lists=today.LISTS,
        key=key,
        rows=rows,
        total=total,
        page=page,
        page_size=today.PAGE_SIZE,
        form=form,
        select_all=request.args.get("select") == "all",
        assignment_list=key in today.ASSIGNMENT_LISTS,
        dates_fields="extend" in actions,
        course_fields="assign" in actions,
        action_url=(
            url_for("compliance.team_action", list=key)
            if scope.supervisor is not None
            else url_for("compliance.today_action", agency_id=scope.agency.id, list=key)
        ),
    ), status


def _board_form(agency: Agency, key: str) -> BoardActionForm:
    form = BoardActionForm()
    form.action.choices = [c for c in form.action.choices if c[0] in today.actions_of(key)]
    form.course.choices = [("", "Choose a course")] + _course_choices(agency)
    return form


@bp.route("/agencies/<int:agency_id>/today")
@roles_required(*STAFF)
def today_board(agency_id: int):
    agency = agency_or_404(agency_id)
    return _render_board(today.Scope(agency), _board_form(agency, _board_list()))


@bp.route("/agencies/<int:agency_id>/today/actions", methods=["POST"])
@roles_required(*STAFF)
def today_action(agency_id: int):
    agency = agency_or_404(agency_id)
    return _board_action(today.Scope(agency), url_for("compliance.today_board", agency_id=agency.id))


def _board_action(scope: today.Scope, back: str):
    """Validate the board's form, do the action for the people of `scope`, and go back to
    the list (or show the board again with what was wrong, changing nothing)."""
    agency, key = scope.agency, _board_list()
    form = _board_form(agency, key)
    if form.validate_on_submit():
        picks = [i for i in (parse_id(v, "pick") for v in request.form.getlist("pick")) if i]
        people = [i for i in (parse_id(v, "person") for v in request.form.getlist("person")) if i]
        try:
            done = today.act(
                current_user,
                agency,
                form.action.data,
                picks=picks,
                people=people,
                new_due=form.new_due.data,
                reason=form.reason.data,
                course_id=_choice_id(form.course),
                due_on=form.due_on.data,
                supervisor=scope.supervisor,
            )
        except today.BoardError as error:
            # Errors about the chosen rows show on the action, the field beside the button.
            form[error.field if error.field in form else "action"].errors.append(str(error))
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(back + (f"?list={key}" if key else ""))
    return _render_board(scope, form, 400)


def _team_scope() -> today.Scope:
    if current_user.agency_id is None:
        abort(404)
    return today.Scope(db.session.get(Agency, current_user.agency_id), supervisor=current_user)


@bp.route("/team/today")
def team_board():
    scope = _team_scope()
    return _render_board(scope, _board_form(scope.agency, _board_list()))


@bp.route("/team/today/actions", methods=["POST"])
def team_action():
    scope = _team_scope()
    # Only a supervisor acts from a team board; the service checks each row is their report's.
    if not today.has_reports(current_user):
        abort(403)
    return _board_action(scope, url_for("compliance.team_board"))


@bp.app_context_processor
def mail_configured():
    return {"mail_configured": bool(current_app.config.get("MAIL_SERVER"))}


@bp.app_template_filter("dict_with")
def dict_with(args: dict, **changes) -> dict:
    """Query arguments with some changed (for links that keep the current filters)."""
    return {**{k: v for k, v in args.items() if k != "page"}, **changes}


@bp.app_template_filter("dict_without")
def dict_without(args: dict, *names: str) -> dict:
    return {k: v for k, v in args.items() if k not in names and k != "page"}


# --- trends and scheduled reports (helper "trends") ------------------------------------------


@bp.route("/agencies/<int:agency_id>/compliance/trends")
@roles_required(*STAFF)
def trends_page(agency_id: int):
    agency = agency_or_404(agency_id)
    form, filters = _filters(agency)
    if filters is None:
        return render_template("compliance/trends.html", agency=agency, form=form, view=None), 400
    view = trends.trends(agency, filters)
    return render_template(
        "compliance/trends.html", agency=agency, form=form, view=view, charts=trend_charts(view)
    )


def trend_charts(view: trends.Trends) -> list:
    """The four monthly charts of the trends page (each drawn with its table of numbers)."""
    months = view.months
    return [
        bar_chart(
            "Assignments completed",
            "Assignments completed in each month.",
            [(m.name, m.completed, str(m.completed)) for m in months],
            horizontal=False,
        ),
        bar_chart(
            "Completion of what was due",
            "Share of the assignments due in each month that were completed by its end.",
            [
                (
                    m.name,
                    m.completion_rate or 0,
                    "none due" if m.completion_rate is None else f"{m.completion_rate:.0%}",
                )
                for m in months
            ],
            horizontal=False,
            top=1.0,
        ),
        bar_chart(
            "Overdue at month end",
            "Assignments overdue at the end of each month (this month: today).",
            [(m.name, m.overdue, str(m.overdue)) for m in months],
            horizontal=False,
        ),
        bar_chart(
            "Certificates expired",
            "Certificates that expired in each month.",
            [(m.name, m.expired, str(m.expired)) for m in months],
            horizontal=False,
        ),
    ]


@bp.route("/agencies/<int:agency_id>/reports/subscriptions", methods=["GET", "POST"])
@roles_required(*STAFF)
def subscriptions(agency_id: int):
    agency = agency_or_404(agency_id)
    staff = scheduled_reports.staff_of(agency)
    form = SubscriptionForm()
    form.report.choices = list(scheduled_reports.report_titles().items())
    form.recipients.choices = [(str(p.id), f"{p.name} ({p.email})") for p in staff]
    if request.method == "GET" and any(p.id == current_user.id for p in staff):
        form.recipients.data = [str(current_user.id)]
    status = 200
    if form.validate_on_submit():
        weekly = form.frequency.data == "weekly"
        spec = scheduled_reports.SubscriptionSpec(
            report=form.report.data,
            frequency=form.frequency.data,
            day=int(form.weekday.data if weekly else form.month_day.data),
            recipient_ids=[int(value) for value in form.recipients.data],
        )
        try:
            subscription = scheduled_reports.subscribe(current_user, agency, spec)
        except scheduled_reports.SubscriptionError as error:
            form[error.field if error.field in form else "report"].errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            flash(
                f"Subscribed: {scheduled_reports.report_titles()[subscription.report]}, "
                f"{scheduled_reports.schedule_text(subscription, in_sentence=True)}.",
                "success",
            )
            return redirect(url_for("compliance.subscriptions", agency_id=agency.id))
    elif request.method == "POST":
        status = 400
    names = {p.id: p.name for p in staff}
    return render_template(
        "compliance/subscriptions.html",
        agency=agency,
        form=form,
        subscriptions=scheduled_reports.subscriptions_of(agency),
        titles=scheduled_reports.report_titles(),
        schedule_text=scheduled_reports.schedule_text,
        names=names,
    ), status


@bp.route("/agencies/<int:agency_id>/reports/subscriptions/<int:subscription_id>/pause", methods=["POST"])
@roles_required(*STAFF)
def pause_subscription(agency_id: int, subscription_id: int):
    return _pause_or_resume(agency_id, subscription_id, paused=True)


@bp.route("/agencies/<int:agency_id>/reports/subscriptions/<int:subscription_id>/resume", methods=["POST"])
@roles_required(*STAFF)
def resume_subscription(agency_id: int, subscription_id: int):
    return _pause_or_resume(agency_id, subscription_id, paused=False)


def _pause_or_resume(agency_id: int, subscription_id: int, *, paused: bool):
    agency = agency_or_404(agency_id)
    subscription = scoped_or_404(ReportSubscription, subscription_id, agency=agency)
    scheduled_reports.set_paused(current_user, subscription, paused=paused)
    db.session.commit()
    title = scheduled_reports.report_titles().get(subscription.report, subscription.report)
    flash(f"{title}: {'paused' if paused else 'sending again'}.", "success")
    return redirect(url_for("compliance.subscriptions", agency_id=agency.id))


@bp.route("/agencies/<int:agency_id>/reports/subscriptions/<int:subscription_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def unsubscribe(agency_id: int, subscription_id: int):
    agency = agency_or_404(agency_id)
    subscription = scoped_or_404(ReportSubscription, subscription_id, agency=agency)
    title = scheduled_reports.report_titles().get(subscription.report, subscription.report)
    scheduled_reports.unsubscribe(current_user, subscription)
    db.session.commit()
    flash(f"Unsubscribed: {title} is no longer sent.", "success")
    return redirect(url_for("compliance.subscriptions", agency_id=agency.id))
