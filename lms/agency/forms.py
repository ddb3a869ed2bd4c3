from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from lms.input import VisibleText
from lms.models import Role


class RosterFilterForm(FlaskForm):
    """The filters above the roster; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField("Search name, email or badge", validators=[Optional(), Length(max=100)])
    unit = SelectField("Unit", coerce=str, validators=[Optional()])
    role = SelectField(
        "Role",
        choices=[("", "Any role")] + [(r.value, r.label) for r in Role if r is not Role.ADMIN],
        validators=[Optional()],
    )
    status = SelectField(
        "Status",
        choices=[("active", "Active"), ("inactive", "Deactivated"), ("all", "All")],
        default="active",
        validators=[Optional()],
    )


class RolesForm(FlaskForm):
    officer = BooleanField(Role.OFFICER.label)
    instructor = BooleanField(Role.INSTRUCTOR.label)
    coordinator = BooleanField(Role.COORDINATOR.label)
    submit = SubmitField("Save roles")

    def chosen(self) -> set[Role]:
        return {role for role in (Role.OFFICER, Role.INSTRUCTOR, Role.COORDINATOR) if self[role.value].data}


class StatusForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[VisibleText("Give a reason; it is kept in the audit log."), Length(max=300)],
    )
    submit = SubmitField("Confirm")


class RosterUploadForm(FlaskForm):
    roster = FileField(
        "Roster file (CSV)",
        validators=[
            FileRequired("Choose a CSV file to upload."),
            FileAllowed(["csv"], "The roster must be a .csv file."),
        ],
        description="Columns: badge_number, name, email (required); rank, unit, supervisor_badge, hire_date, status.",
    )
    submit = SubmitField("Check the file")


class ConfirmForm(FlaskForm):
    submit = SubmitField("Apply")
