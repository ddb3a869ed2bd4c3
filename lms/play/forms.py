from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

import scenarios as engine
from lms.input import NumberField, VisibleText


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def decision_form(point: engine.DecisionPoint, formdata=None, options=None) -> FlaskForm:
    """A form for one decision point: radio buttons, or checkboxes for a multiple choice.

    `options` are the point's options in the order the attempt shows them (default: the
    scenario's order); the values posted are the options' ids.
    """
    choices = [(option.id, option.label) for option in (options if options is not None else point.options)]
    if point.kind == "single":
        field = RadioField("Your decision", choices=choices, validators=[InputRequired("Choose one option.")])
    else:
        # No `required` validator: browsers would then demand every box. The service
        # checks that at least one and at most `max_choices` are chosen.
        field = CheckboxesField("Your decisions", choices=choices)

    class DecisionForm(FlaskForm):
        options = field

    return DecisionForm(formdata=formdata)


class OverrideForm(FlaskForm):
    score = NumberField(
        "New score (0–100)",
        places=1,
        validators=[
            InputRequired("Enter the new score."),
            NumberRange(0, 100, "The score must be between 0 and 100."),
        ],
    )
    reason = TextAreaField(
        "Reason for the change",
        validators=[
            VisibleText("Give a reason; it is kept with the grade and in the audit log."),
            Length(max=1000),
        ],
    )
    # Second step (after "Review change"): the grade that was reviewed, and what happens to a
    # certificate the change would leave without its completion.
    reviewed_grade = IntegerField("Grade reviewed", validators=[Optional()])
    certificate = RadioField(
        "The certificate",
        choices=[("revoke", "Revoke it"), ("keep", "Keep it")],
        validators=[Optional()],
    )
    certificate_reason = TextAreaField(
        "Reason for the certificate decision",
        description="If you revoke it, this is shown on the public verification page.",
        validators=[Optional(), Length(max=500)],
    )
    review = SubmitField("Review change")
    confirm = SubmitField("Confirm")
