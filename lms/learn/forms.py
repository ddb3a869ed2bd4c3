from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.input import FitsColumn, VisibleText
from lms.models import Certificate


class LessonDoneForm(FlaskForm):
    submit = SubmitField("Mark as read and continue")


class CheckForm(FlaskForm):
    """CSRF only: the questions' fields depend on the check and are read by the service."""

    submit = SubmitField("Submit answers")


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reason for revoking",
        description="Shown on the public verification page and the badge, and kept in the audit log.",
        validators=[VisibleText("Give a reason for revoking."), Length(max=500)],
    )
    submit = SubmitField("Revoke certificate")


class ReissueForm(FlaskForm):
    recipient_name = StringField(
        "Name on the certificate",
        validators=[
            DataRequired("Enter the name to print on the certificate."),
            FitsColumn(Certificate.recipient_name),
        ],
    )
    reason = TextAreaField(
        "What was corrected",
        description="Kept in the audit log; the old certificate shows as replaced.",
        validators=[VisibleText("Say what was corrected."), Length(max=400)],
    )
    submit = SubmitField("Reissue certificate")
