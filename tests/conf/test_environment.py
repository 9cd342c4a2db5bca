"""A project's own settings that read ``os.getenv``, configured from our
file: ``environment`` and ``export_environment()``."""

import json
import subprocess
import sys

import pytest
from pydantic import SecretStr

from django_zipserve.conf import ConfigError, Field, ZipserveConfig
from django_zipserve.conf import config as config_module
from django_zipserve.conf import django_settings as ds
from tests.helpers import REPO, TEST_SECRET_KEY, clean_environ

PASSWORD = "s3cret-mail-password-41f0"


class Mailer(ZipserveConfig):
    """Configuration of a project that reads its settings from the environment."""

    name = "mailer"
    environment = ("SITE_NAME", "EMAIL_HOST_PASSWORD", "ADMIN_EMAILS", "SIGNUP_OPEN", "SECRET_KEY", "NOT_SET")
    SITE_NAME: str | None = Field(default=None, description="$SITE_NAME")
    EMAIL_HOST_PASSWORD: SecretStr | None = Field(default=None, description="$EMAIL_HOST_PASSWORD")
    ADMIN_EMAILS: list[str] | None = Field(default=None, description="$ADMIN_EMAILS")
    SIGNUP_OPEN: bool | None = Field(default=None, description="$SIGNUP_OPEN")
    NOT_SET: str | None = Field(default=None, description="never given")
    GREETING: str = Field(default="Hi", description="An ordinary project value.")


def write(path, **values):
    path.write_text("".join(f"{key}: {json.dumps(value)}\n" for key, value in values.items()))
    return path


def loaded(tmp_path, environ=None, **values):
    config_file = write(tmp_path / "mailer.yml", SECRET_KEY=TEST_SECRET_KEY, **values)
    return Mailer.from_sources(environ={} if environ is None else environ, config_file=str(config_file))


class TestExport:
    def test_each_value_goes_into_its_variable_as_text(self, tmp_path):
        config = loaded(
            tmp_path,
            SITE_NAME="Shop",
            EMAIL_HOST_PASSWORD=PASSWORD,
            ADMIN_EMAILS=["a@example.com", "b@example.com"],
            SIGNUP_OPEN=True,
        )
        environ = {}
        exported = config.export_environment(environ)
        assert exported == ["SITE_NAME", "EMAIL_HOST_PASSWORD", "ADMIN_EMAILS", "SIGNUP_OPEN", "SECRET_KEY"]
        assert environ["SITE_NAME"] == "Shop"
        assert environ["EMAIL_HOST_PASSWORD"] == PASSWORD  # the secret's real value
        assert environ["ADMIN_EMAILS"] == "a@example.com,b@example.com"
        assert environ["SIGNUP_OPEN"] == "True"
        assert environ["SECRET_KEY"] == TEST_SECRET_KEY  # one of our own fields
        assert "NOT_SET" not in environ

    def test_false_is_exported_as_false(self, tmp_path):
        environ = {}
        loaded(tmp_path, SIGNUP_OPEN=False).export_environment(environ)
        assert environ["SIGNUP_OPEN"] == "False"

    def test_the_operators_own_variable_wins(self, tmp_path):
        environ = {"SITE_NAME": "From the unit"}
        config = loaded(tmp_path, environ=dict(environ), SITE_NAME="From the file")
        # The field reads the variable too, like any other field.
        assert config.SITE_NAME == "From the unit"
        config.export_environment(environ)
        assert environ["SITE_NAME"] == "From the unit"

    def test_a_re_executed_process_reads_the_file_again(self, tmp_path):
        """uWSGI's SIGHUP re-executes the process with its environment: what
        the previous process exported must not hide a changed file."""
        environ = {}
        loaded(tmp_path, SITE_NAME="First", EMAIL_HOST_PASSWORD=PASSWORD).export_environment(environ)
        reloaded = loaded(tmp_path, environ=dict(environ), SITE_NAME="Second")
        assert reloaded.SITE_NAME == "Second"
        assert reloaded.source_of("SITE_NAME").startswith("file ")
        assert reloaded.EMAIL_HOST_PASSWORD is None
        reloaded.export_environment(environ)
        assert environ["SITE_NAME"] == "Second"
        assert "EMAIL_HOST_PASSWORD" not in environ, "a value taken out of the file is no longer exported"

    def test_exported_fields_are_not_also_set_as_settings(self, tmp_path):
        """The project's settings read them (with their own defaults); a
        None from an unset field must not overwrite what they decided."""
        config = loaded(tmp_path, SITE_NAME="Shop")
        namespace = {"SITE_NAME": "Shop", "EMAIL_HOST_PASSWORD": "project default"}
        ds.apply_config(config, namespace)
        assert namespace["EMAIL_HOST_PASSWORD"] == "project default"
        assert namespace["GREETING"] == "Hi"
        assert config.settings_fields() == ["GREETING"]

    def test_an_environment_name_that_is_not_a_field_is_an_error(self):
        with pytest.raises(TypeError, match="environment names DJANGO_DEBUG, which is not a field"):

            class Broken(ZipserveConfig):
                environment = ("SITE_NAME", "DJANGO_DEBUG")
                SITE_NAME: str | None = Field(default=None, description="x")

    def test_values_in_the_file_are_validated_like_any_other(self, tmp_path):
        with pytest.raises(ConfigError) as info:
            loaded(tmp_path, SIGNUP_OPEN="sometimes")
        assert "SIGNUP_OPEN" in info.value.report()

    def test_environment_text(self):
        text = config_module.environment_text
        assert text(SecretStr("x")) == "x"
        assert text([SecretStr("a"), "b"]) == "a,b"
        assert text(3) == "3"
        assert text(False) == "False"


SHOW_SETTINGS = """
import json, os, django
django.setup()
from django.conf import settings
names = ["SITE_NAME", "EMAIL_HOST_PASSWORD", "ADMIN_EMAILS", "SIGNUP_OPEN", "CACHE_SECONDS", "SECRET_KEY"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def run_settings(env, *args):
    return subprocess.run(
        [sys.executable, "-c", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def getenv_env(tmp_path):
    config = write(
        tmp_path / "getenv.yml",
        SECRET_KEY=TEST_SECRET_KEY,
        STATE_DIR=str(tmp_path / "state"),
        SITE_NAME="Shop from the file",
        EMAIL_HOST_PASSWORD=PASSWORD,
        ADMIN_EMAILS=["a@example.com", "b@example.com"],
        SIGNUP_OPEN=True,
    )
    fields = ("SITE_NAME", "EMAIL_HOST_PASSWORD", "ADMIN_EMAILS", "SIGNUP_OPEN", "CACHE_SECONDS")
    env = clean_environ(
        PYTHONPATH=REPO,
        DJANGO_SETTINGS_MODULE="tests.conf.getenv_project.production",
        GETENV_CONFIG=config,
        HOME=tmp_path,
    )
    return {key: value for key, value in env.items() if key not in fields}


def test_a_getenv_project_is_configured_from_our_file(getenv_env):
    result = run_settings(getenv_env, SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SITE_NAME": "Shop from the file",
        "EMAIL_HOST_PASSWORD": PASSWORD,
        "ADMIN_EMAILS": ["a@example.com", "b@example.com"],
        "SIGNUP_OPEN": True,
        "CACHE_SECONDS": 60,  # not in the file: the project's own default
        "SECRET_KEY": TEST_SECRET_KEY,
    }


def test_config_show_lists_them_and_prints_no_secret(getenv_env):
    main = (
        "from django_zipserve.entrypoint import make_main; "
        "make_main('tests.conf.getenv_project.production')()"
    )
    result = run_settings(getenv_env, main, "config", "show")
    assert result.returncode == 0, result.stderr
    for field in ("SITE_NAME", "EMAIL_HOST_PASSWORD", "ADMIN_EMAILS", "SIGNUP_OPEN", "CACHE_SECONDS"):
        assert field in result.stdout
    assert '"Shop from the file"' in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    assert TEST_SECRET_KEY not in result.stdout + result.stderr


def test_config_docs_says_which_fields_are_exported():
    from django_zipserve.conf import documents

    text = documents.markdown(Mailer)
    site_name = text.split("## `SITE_NAME`", 1)[1].split("## ", 1)[0]
    greeting = text.split("## `GREETING`", 1)[1].split("## ", 1)[0]
    assert "exported as `$SITE_NAME`" in site_name
    assert "exported" not in greeting
