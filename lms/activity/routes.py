"""The heartbeat route: parse, credit through the service, answer in a few bytes of JSON."""

from flask import jsonify, request
from flask_login import current_user

from lms.activity import bp
from lms.extensions import db
from lms.services import time_on_task
from lms.services.scoping import NotFound


@bp.route("/beat", methods=["POST"])
def beat():
    """One heartbeat of the signed-in person's own item page (CSRF-protected like any form)."""
    try:
        credited = time_on_task.record_beat(current_user, time_on_task.parse_beat(request.form))
    except time_on_task.BeatRefused as error:
        db.session.rollback()
        return jsonify({"error": str(error)}), 400
    except NotFound:
        db.session.rollback()
        return jsonify({"error": "That item is not one of yours."}), 404
    db.session.commit()
    return jsonify({"credited": credited})
