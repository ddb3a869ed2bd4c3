from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from lms.services.accounts import MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter a valid email address, like name@agency.gov."),
            Length(max=254),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=1024)])
    submit = SubmitField("Sign in")


def new_password_field() -> PasswordField:
    """The new password, with the length rule every password form applies."""
    return PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a new password."),
            Length(
                min=MIN_PASSWORD_LENGTH, max=1024, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A short sentence is easy to remember.",
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=1024)]
    )
    new_password = new_password_field()
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[
            DataRequired("Repeat the new password."),
            EqualTo("new_password", "The two new passwords do not match."),
        ],
    )
    submit = SubmitField("Change password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter a valid email address, like name@agency.gov."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
        description="The address you sign in with, usually your work email.",
    )
    submit = SubmitField("Send me a link")


class SetPasswordForm(FlaskForm):
    """Choosing a password from an invitation or a reset link."""

    new_password = new_password_field()
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[
            DataRequired("Repeat the new password."),
            EqualTo("new_password", "The two passwords do not match."),
        ],
    )
    submit = SubmitField("Set my password and sign in")


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField("Sign out everywhere")
