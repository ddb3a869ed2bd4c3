"""Ripple: training and certification for prevention-focused community policing."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import INSTANCE_DIR, Config, settle_public_base_url, settle_secret_key
from lms.extensions import csrf, db, login_manager, migrate


def create_app(config: type | dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI, error pages."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    settle_secret_key(app.config)  # refuses to start on a missing, short or public SECRET_KEY
    settle_public_base_url(app.config)  # and, outside development, without PUBLIC_BASE_URL
    INSTANCE_DIR.mkdir(exist_ok=True)

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from lms.services.accounts import use_hash_profile

    use_hash_profile(app.config["PASSWORD_HASH_PROFILE"])
    db.init_app(app)
    migrate.init_app(app, db, directory=str(INSTANCE_DIR.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from lms import access, dates, errors, navigation, observability, rendering, security, wording

    observability.init_app(app)
    security.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    rendering.init_app(app)
    wording.init_app(app)
    dates.init_app(app)

    from lms import public_urls

    public_urls.init_app(app)  # without PUBLIC_BASE_URL: record the site's address once

    from lms import input as request_input

    request_input.init_app(app)  # before the blueprints: it replaces the `int` URL converter

    from lms.activity import bp as activity_bp
    from lms.agency import bp as agency_bp
    from lms.api import bp as api_bp
    from lms.auth import bp as auth_bp
    from lms.author import bp as author_bp
    from lms.compliance import bp as compliance_bp
    from lms.identity import bp as identity_bp
    from lms.integrations import bp as integrations_bp
    from lms.learn import bp as learn_bp
    from lms.lti import bp as lti_bp
    from lms.main import bp as main_bp
    from lms.packaging import bp as packaging_bp
    from lms.play import bp as play_bp
    from lms.training import bp as training_bp
    from lms.verify import bp as verify_bp

    for blueprint in (
        main_bp,
        auth_bp,
        agency_bp,
        compliance_bp,
        learn_bp,
        play_bp,
        verify_bp,
        author_bp,
        lti_bp,
        api_bp,
        integrations_bp,
        identity_bp,
        packaging_bp,
        activity_bp,
        training_bp,
    ):
        app.register_blueprint(blueprint)

    from lms import cli, schedule, worker

    worker.register()  # fills lms.tasks' registry of what workers run

    cli.init_app(app)
    schedule.init_app(app)

    from lms import models  # noqa: F401  (registers every model with the metadata)

    return app
