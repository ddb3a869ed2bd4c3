from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class LessonDoneForm(FlaskForm):
    submit = SubmitField("Mark as read and continue")


class CheckForm(FlaskForm):
    """CSRF only: the questions' fields depend on the check and are read by the service."""

    submit = SubmitField("Submit answers")


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reason for revoking",
        description="Shown on the public verification page and the badge, and kept in the audit log.",
        validators=[DataRequired("Give a reason for revoking."), Length(max=500)],
    )
    submit = SubmitField("Revoke certificate")


class ReissueForm(FlaskForm):
    recipient_name = StringField(
        "Name on the certificate",
        validators=[DataRequired("Enter the name to print on the certificate."), Length(max=200)],
    )
    reason = TextAreaField(
        "What was corrected",
        description="Kept in the audit log; the old certificate shows as replaced.",
        validators=[DataRequired("Say what was corrected."), Length(max=400)],
    )
    submit = SubmitField("Reissue certificate")
