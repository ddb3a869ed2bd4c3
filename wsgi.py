"""The WSGI entry point: what gunicorn and `flask` load."""

from lms import create_app

app = create_app()
