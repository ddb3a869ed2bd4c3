from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from lms.input import FitsColumn
from lms.models import Course, ScenarioRecord

SLUG_HINT = "Lowercase letters, digits and hyphens, e.g. store-dispute-riverside."


class NewScenarioForm(FlaskForm):
    title = StringField(
        "Title", validators=[DataRequired("Give the scenario a title."), FitsColumn(ScenarioRecord.title)]
    )
    slug = StringField(
        "Slug",
        description=SLUG_HINT,
        validators=[
            DataRequired("Give the scenario a slug."),
            Length(max=80),
            Regexp(r"^[a-z0-9][a-z0-9_-]*$", message=SLUG_HINT),
        ],
    )


class DuplicateForm(FlaskForm):
    slug = StringField(
        "Slug of your copy",
        description="Keep the library scenario's slug to use your version in your agency's courses "
        "in place of the library's once you publish it; choose a new slug for a separate scenario.",
        validators=[
            DataRequired("Give your copy a slug."),
            Length(max=80),
            Regexp(r"^[a-z0-9][a-z0-9_-]*$", message=SLUG_HINT),
        ],
    )


class PublishForm(FlaskForm):
    without_calibration = BooleanField("Publish without a calibration of this draft")


class NewCourseForm(FlaskForm):
    title = StringField(
        "Title", validators=[DataRequired("Give the course a title."), FitsColumn(Course.title)]
    )
    slug = StringField(
        "Slug",
        description="Lowercase letters and digits joined by hyphens, e.g. partnership-basics.",
        validators=[
            DataRequired("Give the course a slug."),
            Length(max=80),
            Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Lowercase letters and digits joined by hyphens."),
        ],
    )


class ImportForm(FlaskForm):
    course_file = FileField(
        "Course file (YAML)", validators=[FileRequired("Choose a course file to import.")]
    )
