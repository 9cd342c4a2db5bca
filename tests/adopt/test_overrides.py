"""What the generated settings set after the project's: a cloud STATIC_URL,
cloud collectors, the processes of a Celery app."""

import ast

from django_zipserve.adopt.detect import detect
from django_zipserve.adopt.plan import make_plan
from tests.adopt.util import make_project, manage_py

# cookiecutter-django's production settings with its default cloud provider (AWS).
PRODUCTION = """
from .base import *  # noqa: F403
from .base import INSTALLED_APPS

AWS_STORAGE_BUCKET_NAME = "shelf"
aws_s3_domain = f"{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"
STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    "staticfiles": {"BACKEND": "storages.backends.s3.S3Storage"},
}
STATIC_URL = f"https://{aws_s3_domain}/static/"
INSTALLED_APPS = ["collectfasta", *INSTALLED_APPS]
"""
BASE = 'INSTALLED_APPS = ["django.contrib.staticfiles", "shelf.users"]\nROOT_URLCONF = "config.urls"\n'
CELERY_APP = """
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
app = Celery("shelf")
app.config_from_object("django.conf:settings", namespace="CELERY")
"""


def project(tmp_path, production=PRODUCTION, celery=CELERY_APP):
    files = {
        "manage.py": manage_py("config.settings.production"),
        "config/__init__.py": "",
        "config/urls.py": "urlpatterns = []\n",
        "config/settings/__init__.py": "",
        "config/settings/base.py": BASE,
        "config/settings/production.py": production,
        "shelf/__init__.py": "",
        "shelf/users/__init__.py": "",
    }
    if celery:
        files["config/celery_app.py"] = celery
    return make_project(tmp_path, files)


def generated(plan):
    change = next(change for change in plan.changes if str(change.path).endswith("zipserve_settings.py"))
    return change.new


def test_cloud_storage_settings_are_overridden_with_a_reason(tmp_path):
    plan = make_plan(detect(project(tmp_path, celery=None)))
    text = generated(plan)
    namespace = {"INSTALLED_APPS": ["collectfasta", "django.contrib.staticfiles", "shelf.users"]}
    statements = text.split("from config.settings.production import *  # noqa: E402,F403\n")[1]
    statements = statements.split("zipserve_config.apply(globals())")[0]
    exec(
        compile(
            ast.parse(statements.replace('INSTALLED_APPS = [*INSTALLED_APPS, "django_zipserve"]', "")),
            "s",
            "exec",
        ),
        namespace,
    )
    assert namespace["STATIC_URL"] == "/static/"
    assert namespace["INSTALLED_APPS"] == ["django.contrib.staticfiles", "shelf.users"]
    review = "\n".join(plan.review)
    assert (
        "STATIC_URL names cloud storage (https://{...}/static/ at config/settings/production.py:11)" in review
    )
    assert "collectfasta (cloud storage's collectstatic) is taken out of INSTALLED_APPS" in review
    assert "# The artifact serves its static files itself" in text


def test_a_local_static_url_is_kept(tmp_path):
    plan = make_plan(
        detect(
            project(
                tmp_path,
                production='from .base import *  # noqa: F403\nSTATIC_URL = "/assets/"\n',
                celery=None,
            )
        )
    )
    assert "STATIC_URL" not in generated(plan).split("import *")[1]
    assert not [line for line in plan.review if "cloud" in line]


def test_a_celery_app_gets_its_worker_and_beat(tmp_path):
    plan = make_plan(detect(project(tmp_path)))
    text = generated(plan)
    block = text[text.index("ZIPSERVE_PROCESSES = {") :].split("\n}\n")[0] + "\n}"
    processes = ast.literal_eval(block.partition("=")[2].strip())
    assert processes == {
        "worker": {
            "module": "celery",
            "args": ["-A", "config.celery_app", "worker", "--loglevel=INFO"],
            "stop_timeout": 60,
        },
        "beat": {"module": "celery", "args": ["-A", "config.celery_app", "beat", "--loglevel=INFO"]},
    }
    assert any(
        line.startswith("a Celery app in config/celery_app.py: its worker and beat") for line in plan.review
    )


def test_declared_processes_are_left_alone(tmp_path):
    production = PRODUCTION + 'ZIPSERVE_PROCESSES = {"worker": {"command": ["rqworker"]}}\n'
    plan = make_plan(detect(project(tmp_path, production=production)))
    assert "ZIPSERVE_PROCESSES" not in generated(plan)
