from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.input import FitsColumn, NumberField, VisibleText
from lms.models import DELIVERY_METHODS, TrainingSession
from lms.services.training_records import MAX_HOURS


class SessionForm(FlaskForm):
    course = SelectField(
        "Course (optional)",
        coerce=str,
        validators=[Optional()],
        description="A session of one of your courses; leave it blank for training with its own title.",
    )
    title = StringField(
        "Title",
        validators=[Optional(), FitsColumn(TrainingSession.title, required=False)],
        description="For example “De-escalation in crisis calls”. Defaults to the course's title.",
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    starts_on = DateField("First day", validators=[InputRequired("Enter the session's first day.")])
    ends_on = DateField("Last day", validators=[InputRequired("Enter the session's last day.")])
    hours = NumberField(
        "Credit hours",
        places=2,
        validators=[
            InputRequired("Enter the hours each attendee is credited."),
            NumberRange(0.25, MAX_HOURS, f"Use 0.25 to {MAX_HOURS:g} hours."),
        ],
    )
    category = StringField(
        "Category",
        validators=[Optional(), FitsColumn(TrainingSession.category, required=False)],
        description="The state's category, as in the mandate, e.g. “Use of force”. Defaults to the course's.",
    )
    delivery = SelectField("Delivery", choices=list(DELIVERY_METHODS.items()))
    provider = StringField(
        "Provider",
        validators=[Optional(), FitsColumn(TrainingSession.provider, required=False)],
        description="Who delivered it, e.g. the state academy. Blank: your agency.",
    )
    instructor = StringField(
        "Instructor", validators=[Optional(), FitsColumn(TrainingSession.instructor, required=False)]
    )
    location = StringField(
        "Location", validators=[Optional(), FitsColumn(TrainingSession.location, required=False)]
    )
    unit = SelectField(
        "Attendees by unit (with its sub-units)",
        coerce=str,
        validators=[Optional()],
        description="Every active officer of the unit and the units below it.",
    )
    badges = TextAreaField(
        "Attendees by badge number",
        validators=[
            Optional(),
            Length(max=20000, message="List at most 20,000 characters of badge numbers."),
        ],
        description="Separated by commas, spaces or new lines. Added to the unit's officers, if you chose one.",
    )
    sheet = FileField(
        "Sign-in sheet (optional)", description="A PDF, a PNG or JPEG photo, or a CSV file; at most 5 MB."
    )
    submit = SubmitField("Record the session")


class EditSessionForm(SessionForm):
    reason = TextAreaField(
        "Reason for the change",
        validators=[
            VisibleText("Give a reason for the change; it is kept in the audit log."),
            Length(max=300),
        ],
    )
    submit = SubmitField("Save the changes")


class VoidForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[VisibleText("Give a reason; it is kept in the audit log."), Length(max=300)],
    )
    submit = SubmitField("Void the session")
