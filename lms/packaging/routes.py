"""The package pages, under Agency → Integrations → Packages: coordinators create and revoke
packages; coordinators and instructors download the active ones for their LMS."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.access import agency_or_404, roles_required, scoped_or_404
from lms.downloads import attachment
from lms.extensions import db
from lms.integrations.forms import EmptyForm
from lms.models import Agency, DispatchPackage, Role
from lms.packaging import bp
from lms.packaging.forms import PackageForm
from lms.services import launch_targets
from lms.services.packaging import packages

COORDINATOR = (Role.COORDINATOR,)
READERS = (Role.COORDINATOR, Role.INSTRUCTOR)


def _form(agency: Agency, formdata=None) -> PackageForm:
    form = PackageForm() if formdata is None else PackageForm(formdata=formdata)
    form.target.choices = [("", "Choose…")] + [
        (entry.target, f"{entry.title} ({entry.kind.lower()})")
        for entry in launch_targets.catalogue(agency.id)
    ]
    form.kind.choices = [(kind, packages.KIND_LABELS[kind]) for kind in packages.available_kinds()]
    return form


def _page(agency: Agency, form: PackageForm, status: int = 200):
    return render_template(
        "packaging/packages.html",
        agency=agency,
        rows=packages.packages_of(current_user, agency),
        form=form,
        may_manage=current_user.has_role(*COORDINATOR) or current_user.is_platform_admin,
        labels=packages.KIND_LABELS,
        empty=EmptyForm(),
    ), status


@bp.route("/agencies/<int:agency_id>/integrations/packages")
@roles_required(*READERS)
def package_list(agency_id: int):
    agency = agency_or_404(agency_id)
    return _page(agency, _form(agency, formdata=None))


@bp.route("/agencies/<int:agency_id>/integrations/packages/new", methods=["POST"])
@roles_required(*COORDINATOR)
def create_package(agency_id: int):
    agency = agency_or_404(agency_id)
    form = _form(agency)
    if form.validate_on_submit():
        try:
            package = packages.create_package(
                current_user,
                agency,
                packages.PackageInput(
                    kind=form.kind.data,
                    target=form.target.data,
                    seat_limit=form.seat_limit.data,
                    allowed_origins=form.allowed_origins.data,
                ),
            )
        except packages.PackageError as error:
            db.session.rollback()
            form[error.field or "target"].errors = [str(error)]
        else:
            db.session.commit()
            flash(
                f"Package of “{package.title}” created. Download it and import it into your LMS.", "success"
            )
            return redirect(
                url_for("packaging.package_list", agency_id=agency.id, _anchor=f"package-{package.id}")
            )
    return _page(agency, form, status=400)


def _package(agency_id: int, package_id: int) -> tuple[Agency, DispatchPackage]:
    agency = agency_or_404(agency_id)
    return agency, scoped_or_404(DispatchPackage, package_id, agency=agency)


@bp.route("/agencies/<int:agency_id>/integrations/packages/<int:package_id>/download")
@roles_required(*READERS)
def download_package(agency_id: int, package_id: int):
    agency, package = _package(agency_id, package_id)
    if not package.active:
        flash("This package is revoked, so there is nothing to download. Create a new one.", "error")
        return redirect(url_for("packaging.package_list", agency_id=agency.id))
    name, data = packages.build_zip(package)
    return Response(data, mimetype="application/zip", headers={"Content-Disposition": attachment(name)})


@bp.route("/agencies/<int:agency_id>/integrations/packages/<int:package_id>/revoke", methods=["GET", "POST"])
@roles_required(*COORDINATOR)
def revoke_package(agency_id: int, package_id: int):
    agency, package = _package(agency_id, package_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            packages.revoke_package(current_user, package)
        except packages.PackageError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Package of “{package.title}” revoked: your LMS can no longer open it.", "success")
        return redirect(url_for("packaging.package_list", agency_id=agency.id))
    return render_template(
        "packaging/revoke.html",
        agency=agency,
        package=package,
        seats=packages.seats_used(package),
        labels=packages.KIND_LABELS,
        form=form,
    )
