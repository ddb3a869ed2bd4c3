import calendar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from lms.input import FitsColumn, NumberField
from lms.models import AssignmentRule, MandateMinimum
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
    # Ticked on the page as checkboxes (ids); checked against the agency by the service.
    officers = SelectMultipleField("Officers", coerce=str, validate_choice=False, validators=[Optional()])
    all_matching = BooleanField("Everyone who matches the filters, on every page")
    due_on = DateField("Due on", validators=[Optional()])


MINIMUM_ROWS = 6


class MinimumForm(Form):
    """One category minimum of the mandate (a row of the mandate form)."""

    category = StringField(
        "Category", validators=[Optional(), FitsColumn(MandateMinimum.category, required=False)]
    )
    hours = NumberField(
        "Minimum hours",
        places=1,
        validators=[Optional(), NumberRange(0.5, 1000, "Use 0.5 to 1000 hours.")],
    )


class MandateForm(FlaskForm):
    hours = NumberField(
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
    minimums = FieldList(FormField(MinimumForm), min_entries=MINIMUM_ROWS, max_entries=MINIMUM_ROWS)

    def validate_minimums(self, field) -> None:
        """Each row is a category with its hours, or blank; a category appears once."""
        seen: set[str] = set()
        for row in field:
            name = (row.category.data or "").strip()
            if bool(name) != (row.hours.data is not None):
                row.hours.errors.append("Give both a category and its minimum hours, or neither.")
            elif name and name.casefold() in seen:
                row.category.errors.append(f"“{name}” is listed twice; give each category once.")
            seen.add(name.casefold())
            if (
                self.hours.data is not None
                and row.hours.data is not None
                and row.hours.data > self.hours.data
            ):
                row.hours.errors.append(
                    "A category minimum cannot be more than the hours required per cycle."
                )
        if any(row.errors for row in field):
            raise ValidationError("Check the category minimums.")

    def chosen_minimums(self) -> list[tuple[str, float]]:
        return [
            (row.category.data.strip(), float(row.hours.data))
            for row in self.minimums
            if (row.category.data or "").strip()
        ]


class BoardActionForm(FlaskForm):
    """An action on rows of the Today board; the chosen rows arrive as `pick` (ids)."""

    action = SelectField(
        "Action",
        choices=[
            ("remind", "Remind now"),
            ("extend", "Extend the due date"),
            ("excuse", "Excuse (waive)"),
            ("assign", "Assign a course"),
        ],
        validators=[DataRequired("Choose an action.")],
    )
    new_due = DateField("New due date", validators=[Optional()])
    reason = TextAreaField(
        "Reason (for an extension or an excuse)",
        validators=[Optional(), Length(max=500, message="Keep the reason under 500 characters.")],
    )
    course = SelectField("Course to assign", coerce=str, validators=[Optional()])
    due_on = DateField("Due on (for a new assignment)", validators=[Optional()])


class AssignFilterForm(FlaskForm):
    """Who to list on the assignment page: unit (with sub-units), rank, name or badge."""

    class Meta:
        csrf = False

    unit = SelectField("Unit (with its sub-units)", coerce=str, validators=[Optional()])
    rank = SelectField("Rank", coerce=str, validators=[Optional()])
    q = StringField(
        "Name or badge number", validators=[Optional(), Length(max=100, message="Use up to 100 characters.")]
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
