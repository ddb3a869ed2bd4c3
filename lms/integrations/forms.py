from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.input import FitsColumn
from lms.models import ApiToken, LrsSettings, LtiRegistration
from lms.services import lti_deployments
from lms.services.api_tokens import SCOPES

_URL = [
    DataRequired("Enter the URL."),
    URL(require_tld=False, message="Enter a full http(s) URL."),
    Length(max=500),
]


class RegistrationForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[Optional(), FitsColumn(LtiRegistration.name, required=False)],
        description="e.g. “County academy Moodle”.",
    )
    issuer = StringField(
        "Issuer (platform id)",
        validators=[DataRequired("Enter the issuer."), FitsColumn(LtiRegistration.issuer)],
    )
    client_id = StringField(
        "Client id", validators=[DataRequired("Enter the client id."), FitsColumn(LtiRegistration.client_id)]
    )
    deployment_ids = TextAreaField(
        "Deployment ids",
        validators=[DataRequired("Enter at least one deployment id."), Length(max=4000)],
        description="One per line, as the platform shows them.",
    )
    auth_login_url = URLField("Platform login (OIDC auth) URL", validators=_URL)
    auth_token_url = URLField("Platform access-token URL", validators=_URL)
    key_set_url = URLField("Platform key-set (JWKS) URL", validators=_URL)
    auth_audience = StringField(
        "Token audience (if the platform asks for one)", validators=[Optional(), Length(max=500)]
    )
    active = BooleanField("Accept launches from this platform", default=True)


class LrsForm(FlaskForm):
    endpoint = URLField(
        "LRS endpoint",
        validators=_URL,
        description="The xAPI base URL; statements go to <endpoint>/statements.",
    )
    key = StringField(
        "Key (username)", validators=[DataRequired("Enter the key."), FitsColumn(LrsSettings.key)]
    )
    secret = PasswordField(
        "Secret",
        validators=[Optional(), Length(max=255)],
        description="Leave empty to keep the stored secret.",
    )
    include_email = BooleanField(
        "Put officers' email addresses in statements (otherwise: our person id only)"
    )
    active = BooleanField("Send statements", default=True)


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Name the token."), FitsColumn(ApiToken.name)],
        description="The system that will use it.",
    )
    scopes = SelectMultipleField(
        "Scopes",
        choices=list(SCOPES.items()),
        validators=[DataRequired("Choose at least one scope.")],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )


class EmptyForm(FlaskForm):
    pass


class RegistrationLinkForm(FlaskForm):
    days = IntegerField(
        "Link works for (days)",
        default=7,
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(min=1, max=30, message="Enter 1 to 30 days."),
        ],
    )


class DeploymentRuleForm(FlaskForm):
    rule = RadioField(
        "When a launch comes from a new deployment (a course or account not listed here)",
        choices=list(lti_deployments.RULES.items()),
        validators=[InputRequired("Choose what new deployments do.")],
    )
