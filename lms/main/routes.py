from flask import render_template
from flask_login import current_user
from sqlalchemy import text

from lms.access import public
from lms.extensions import db
from lms.main import bp
from lms.services import dashboards


@bp.route("/")
def index():
    return render_template("main/home.html", home=dashboards.home_for(current_user))


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means the database is unreachable
        db.session.rollback()
        return {"status": "error", "database": "unreachable", "detail": type(error).__name__}, 503
    return {"status": "ok", "database": "ok"}
