from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.services.packaging.packages import MAX_SEATS


class PackageForm(FlaskForm):
    target = SelectField("Course or scenario", validators=[DataRequired("Choose what the package opens.")])
    kind = RadioField("Kind", validators=[DataRequired("Choose the kind your LMS imports.")])
    seat_limit = IntegerField(
        "Seat limit (optional)",
        validators=[
            Optional(),
            NumberRange(1, MAX_SEATS, f"Enter a whole number from 1 to {MAX_SEATS:,}, or leave it empty."),
        ],
        description="Each learner of your LMS takes one seat the first time they open the package.",
    )
    allowed_origins = TextAreaField(
        "LMS addresses allowed to open it",
        validators=[DataRequired("Enter your LMS's address."), Length(max=6000)],
        description="One per line, as scheme://host[:port], like https://lms.example.org. "
        "Add the address the package's files are served from, if your LMS uses another one.",
    )


class LaunchForm(FlaskForm):
    """What the package page posts: the LMS's learner id and name (no CSRF token: the launch
    carries its own proof, the package key and the page's allowed origin)."""

    class Meta:
        csrf = False

    learner_id = StringField("Learner id")
    learner_name = StringField("Learner name")
