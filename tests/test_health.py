"""The health view and the checks behind it."""

import json

from django.test import Client


def test_health_answers_200_with_json(django_project):
    response = Client().get("/-/health/", HTTP_HOST="localhost")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"default": "ok"}
    assert body["version"] == "0.0.1"
    assert "no-cache" in response["Cache-Control"]


# The 503 answer is exercised end to end: a release whose database cannot be
# opened refuses to start (tests/test_artifact.py).


def test_health_refuses_unsafe_methods(django_project):
    assert Client().post("/-/health/", HTTP_HOST="localhost").status_code == 405
