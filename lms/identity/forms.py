from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from lms.services.identity.policy import IDLE_MINUTES, MAX_GRACE_DAYS


def _minutes(n: int) -> str:
    return f"{n} minutes" if n < 60 else f"{n // 60} hour{'s' if n >= 120 else ''}"


class SignInPolicyForm(FlaskForm):
    sso_only = BooleanField(
        "People of the agency sign in only through the agency's directory (no Ripple passwords)"
    )
    mfa_for_staff = BooleanField(
        "Instructors and coordinators must use a second factor (an authenticator app or a security key)"
    )
    mfa_grace_days = IntegerField(
        "Days staff have to set up a second factor",
        description="From the day you turn the rule on. After it, staff without one are asked to set it up before anything else.",
        validators=[
            InputRequired("Give a number of days."),
            NumberRange(0, MAX_GRACE_DAYS, f"0 to {MAX_GRACE_DAYS} days."),
        ],
    )
    idle_minutes = SelectField(
        "Sign people out after they have been idle for",
        coerce=int,
        choices=[(n, _minutes(n)) for n in IDLE_MINUTES],
        validators=[InputRequired("Choose a time.")],
    )
    submit = SubmitField("Save sign-in policy")
