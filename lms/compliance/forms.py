import calendar

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.input import FitsColumn
from lms.models import AssignmentRule, Mandate
from lms.services.compliance import STATUSES
from lms.services.rules import RECURRENCES


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    course = SelectField("Course", coerce=str, validators=[Optional()])
    rank = SelectField("Rank", coerce=str, validators=[Optional()])
    unit = SelectField("Unit", coerce=str, validators=[Optional()])
    status = SelectField("Status", choices=list(STATUSES.items()), validators=[Optional()])


class RuleForm(FlaskForm):
    name = StringField(
        "Name of the rule",
        validators=[Optional(), FitsColumn(AssignmentRule.name, required=False)],
        description="For example: “Annual partnership refresher, patrol”. Defaults to the course title.",
    )
    course = SelectField("Course", coerce=str, validators=[DataRequired("Choose a course.")])
    unit = SelectField("Unit (with its sub-units)", coerce=str, validators=[Optional()])
    ranks = SelectMultipleField("Ranks (none chosen: every rank)", coerce=str, validators=[Optional()])
    due_on = DateField("Due on a date", validators=[Optional()])
    due_days = IntegerField(
        "…or due this many days after", validators=[Optional(), NumberRange(0, 3650, "Use 0 to 3650 days.")]
    )
    due_from = SelectField(
        "Days counted from", choices=[("assignment", "the assignment"), ("hire", "the officer's hire date")]
    )
    recurrence = SelectField("Recurrence", choices=list(RECURRENCES.items()))


class AssignForm(FlaskForm):
    course = SelectField("Course", coerce=str, validators=[DataRequired("Choose a course.")])
    officers = SelectMultipleField(
        "Officers",
        coerce=str,
        validators=[DataRequired("Choose at least one officer.")],
        description="Hold Ctrl (or Cmd) to choose several.",
    )
    due_on = DateField("Due on", validators=[Optional()])


class MandateForm(FlaskForm):
    hours = DecimalField(
        "Hours required per cycle",
        places=1,
        validators=[
            InputRequired("Enter the hours required."),
            NumberRange(0.5, 1000, "Use 0.5 to 1000 hours."),
        ],
    )
    cycle_months = SelectField("Cycle", choices=[("12", "1 year"), ("24", "2 years"), ("36", "3 years")])
    cycle_start = DateField(
        "A cycle starts on", validators=[InputRequired("Enter the date a cycle starts, e.g. 1 January.")]
    )
    category = StringField(
        "Category with a minimum (optional)",
        validators=[Optional(), FitsColumn(Mandate.category, required=False)],
    )
    category_hours = DecimalField(
        "Minimum hours in that category",
        places=1,
        validators=[Optional(), NumberRange(0.5, 1000, "Use 0.5 to 1000 hours.")],
    )


class SubscriptionForm(FlaskForm):
    """A scheduled report: which, how often, on which day, to whom (choices set by the route)."""

    report = SelectField("Report", coerce=str, validators=[DataRequired("Choose a report.")])
    frequency = SelectField(
        "How often", choices=[("weekly", "Weekly"), ("monthly", "Monthly")], validators=[DataRequired()]
    )
    weekday = SelectField(
        "Day of the week (weekly reports)",
        choices=[(str(i), name) for i, name in enumerate(calendar.day_name)],
        default="0",
    )
    month_day = SelectField(
        "Day of the month (monthly reports)",
        choices=[(str(i), str(i)) for i in range(1, 32)],
        default="1",
        description="Days 29 to 31 are sent on the last day of shorter months.",
    )
    recipients = SelectMultipleField(
        "Send it to",
        coerce=str,
        validators=[DataRequired("Choose at least one person to send it to.")],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
