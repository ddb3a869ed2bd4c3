from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from lms.dates import COMMON_ZONES, DATE_STYLES
from lms.input import VisibleText
from lms.models import Role
from lms.services.roster_import import ADD_UPDATE, MODES


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
    mode = RadioField(
        "What to do with people who are not in the file",
        choices=list(MODES.items()),
        default=ADD_UPDATE,
        # A form posted without it (or with a blank) imports in the default mode.
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional()],
    )
    submit = SubmitField("Check the file")


class ConfirmForm(FlaskForm):
    submit = SubmitField("Apply")


class ApplyImportForm(FlaskForm):
    """Apply a checked import; `confirmation` is needed only when it deactivates many people
    (the service decides, so a form posted without the box is refused the same way)."""

    confirmation = StringField(
        "Type the number of people to deactivate, or the agency's name, to confirm",
        validators=[Optional(), Length(max=200, message="Type at most 200 characters.")],
    )
    submit = SubmitField("Apply")


class InviteForm(FlaskForm):
    """A button that sends invitations: nothing to fill in but the CSRF token."""

    submit = SubmitField("Invite")


ZONE_NAMES = {
    "America/New_York": "Eastern time (New York)",
    "America/Chicago": "Central time (Chicago)",
    "America/Denver": "Mountain time (Denver)",
    "America/Phoenix": "Mountain time without daylight saving (Phoenix)",
    "America/Los_Angeles": "Pacific time (Los Angeles)",
    "America/Anchorage": "Alaska time (Anchorage)",
    "Pacific/Honolulu": "Hawaii time (Honolulu)",
    "America/Puerto_Rico": "Atlantic time (Puerto Rico)",
    "Europe/London": "UK time (London)",
    "UTC": "UTC",
}


class DateSettingsForm(FlaskForm):
    date_style = SelectField(
        "How dates are written",
        choices=[(style, example) for style, example in DATE_STYLES.items()],
        validators=[InputRequired("Choose how dates are written.")],
    )
    time_zone = SelectField(
        "Time zone",
        description="Times across Ripple are shown in this zone, with its name (for example EST).",
        choices=[(zone, ZONE_NAMES.get(zone, zone)) for zone in COMMON_ZONES],
        validators=[InputRequired("Choose a time zone.")],
    )
    submit = SubmitField("Save settings")
