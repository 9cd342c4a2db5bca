"""Secrets written into a project's files, found before they are packaged
(``zipapp.secret_scan``), and the build that refuses them."""

import subprocess
import sys

import pytest

from django_zipserve.zipapp import secret_scan
from tests.zipapp.flat_project import write_flat_project

#: NetBox's documented configuration.py, filled in as its install guide says.
CONFIGURATION = """\
ALLOWED_HOSTS = ["netbox.example.com"]
DATABASE = {
    "NAME": "netbox",
    "USER": "netbox",
    "PASSWORD": "J5brHrAXFLQSif0K",
    "HOST": "localhost",
}
SECRET_KEY = "n8$Lp2#vQz7!rT4wXk9@bN3mC6yH1jF5sD0gA"
API_TOKEN_PEPPERS = {1: "kP4vT9xR2mW7nQ3zB8cL5yH0jF6sD1gA"}
"""

#: What settings hold that is no secret, and must not stop a build.
NOT_SECRETS = """\
import os
import environ

env = environ.Env()
SECRET_KEY = env("DJANGO_SECRET_KEY", default="!!!SET DJANGO_SECRET_KEY!!!")
DEV_KEY = os.environ.get("SECRET_KEY", "a-development-only-fallback-value")
INSECURE = "django-insecure-7x#m2k9q1w8e3r4t5y6u7i8o9p0"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
PASSWORD_RESET_TIMEOUT = 3600
PASSWORD_RESET_TEMPLATE = "registration/password_reset_email.html"
TOKEN_COOKIE_NAME = "auth_token"
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]}
EMAIL_HOST_PASSWORD = ""
DATABASE_URL = "postgres://netbox:password@localhost/netbox"
SECRET_FILE = "/run/credentials/site/secret_key"
HELP = "Enter the password you chose"
TEST_PASSWORD = "a-fixed-test-value"  # zipserve: not-a-secret
"""


def findings_in(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return [str(finding) for finding in secret_scan.scan([(name, path)])]


def test_netbox_configuration_secrets_are_found_with_their_lines(tmp_path):
    assert findings_in(tmp_path, "netbox/configuration.py", CONFIGURATION) == [
        "netbox/configuration.py:5: a literal secret assigned to DATABASE['PASSWORD']",
        "netbox/configuration.py:8: a literal secret assigned to SECRET_KEY",
        "netbox/configuration.py:9: a literal secret assigned to API_TOKEN_PEPPERS[1]",
    ]


def test_development_defaults_names_and_placeholders_are_not_secrets(tmp_path):
    assert findings_in(tmp_path, "mysite/settings.py", NOT_SECRETS) == []


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "mysite/settings.py",
            'DB = dj("postgres://app:Xq7-p2Lm9zR4@db/app")\n',
            "1: a URL with a password in it",
        ),
        (".env", "export DB_PASSWORD=Xq7p2Lm9zR4w\nDEBUG=1\n", "1: a secret assigned to DB_PASSWORD"),
        ("mysite/deploy.pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n", "1: a private key"),
        (
            "mysite/celery.yml",
            "broker: redis://:Xq7p2Lm9zR4w@cache:6379/0\n",
            "1: a URL with a password in it",
        ),
        ("mysite/keys.py", 'KEY = """\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"""\n', "1: a private key"),
    ],
)
def test_urls_env_files_and_private_keys(tmp_path, name, text, expected):
    assert findings_in(tmp_path, name, text) == [f"{name}:{expected}"]


def test_test_files_templates_and_what_describes_a_secret_are_not_reported(tmp_path):
    """NetBox's first build stopped on 31 findings, none a secret: fixture
    passwords in tests, ``MODULE_TOKEN = "{module}"``, ``SECRET_KEY_CHARSET``."""
    password = 'PARAMETERS = {"password": "fixture-pass-123"}\n'
    for name in ("dcim/tests/test_api.py", "core/test_models.py", "tests.py", "app/conftest.py"):
        assert findings_in(tmp_path, name, password) == [], name
    # configurations for the tests and CI: NetBox's, Baby Buddy's
    key = 'SECRET_KEY = "k3y9f8a7s6d5f4g3h2j1k0l9z8x7c6v5b4n3m2q1w0e9r8t7y6u5"\n'
    for name in ("netbox/configuration_testing.py", "babybuddy/settings/test.py", "babybuddy/settings/ci.py"):
        assert findings_in(tmp_path, name, key) == [], name
    assert findings_in(tmp_path, "babybuddy/settings/production.py", key) != []
    assert findings_in(tmp_path, "dcim/constants.py", 'MODULE_TOKEN = "{module}"\n') == []
    charset = 'SECRET_KEY_CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"\n'
    assert findings_in(tmp_path, "utilities/secret_key.py", charset) == []
    assert findings_in(tmp_path, "app/settings.py", password) == [
        "app/settings.py:1: a literal secret assigned to PARAMETERS['password']"
    ]


def test_files_declared_free_of_secrets_are_skipped(tmp_path):
    path = tmp_path / "configuration.py"
    path.write_text(CONFIGURATION)
    files = [("mysite/local/configuration.py", path)]
    assert secret_scan.scan(files, not_secrets=["mysite/local/*"]) == []
    assert len(secret_scan.scan(files, not_secrets=["other/*"])) == 3


def test_a_build_with_a_secret_in_the_package_stops_naming_file_and_line(tmp_path):
    """Through the real command line: one line, exit 1, no artifact, and the
    secret's value is never echoed."""
    project = write_flat_project(tmp_path / "p", requirements=(), with_tests=False)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('dependencies = ["django-zipserve"]', "dependencies = []")
    )
    (project / "flatsite" / "configuration.py").write_text(CONFIGURATION)
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "build", "--quiet", "--output-dir", tmp_path / "dist"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "build failed at step look for secrets in the project's files: flatsite/configuration.py:5: "
        "a literal secret assigned to DATABASE['PASSWORD'] (and 2 more: flatsite/configuration.py:8, "
        "flatsite/configuration.py:9): the artifact would carry it to every server and artifact store. "
        "Read it from the configuration instead (an environment variable or the config file); "
        "if it is no secret, add '# zipserve: not-a-secret' to the line or list the file in "
        "not-secrets in [tool.django-zipserve]"
    ]
    assert "J5brHrAXFLQSif0K" not in result.stderr + result.stdout
    assert not (tmp_path / "dist").exists()
