"""Loading a ZipserveConfig in-process: defaults, validation, cross-field
checks, the state directory and the database URL.

Every load passes an explicit ``environ`` so that the machine running the
tests cannot change the outcome.
"""

import pytest
from pydantic import SecretStr

from django_zipserve.conf import ZipserveConfig, default_workers, generate_secret_key
from tests.helpers import ProjectConfig as Demo
from tests.helpers import assert_no_secret, failure, load, only_problem

SECRET = "s3cret-must-not-leak-key-7f3a9c41d0"
TOKEN = "s3cret-must-not-leak-token-b21e88"


def valid_env(**extra):
    environ = {"SECRET_KEY": SECRET, "API_TOKEN": TOKEN}
    environ.update(extra)
    return environ


class TestDefaults:
    def test_every_base_default(self):
        config = load({"SECRET_KEY": SECRET})
        assert config.DEBUG is False
        assert config.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]"]
        assert config.CSRF_TRUSTED_ORIGINS == []
        assert config.DATABASE_URL is None
        assert config.STATE_DIR is None
        assert config.HTTPS is True
        assert config.HSTS_SECONDS == 3600
        assert config.TRUST_X_FORWARDED_PROTO is False
        assert config.BIND == "127.0.0.1:8000"
        assert default_workers() == config.WORKERS
        assert config.THREADS == 1
        assert config.TIMEOUT == 30
        assert config.WARMUP is True
        assert config.LOG_LEVEL == "INFO"

    def test_project_defaults(self):
        config = load({"SECRET_KEY": SECRET})
        assert config.MARKER == "unset"
        assert config.API_TOKEN is None
        assert config.project_fields() == ["MARKER", "API_TOKEN"]

    @pytest.mark.parametrize("cores, workers", [(None, 2), (1, 2), (3, 6), (8, 16), (64, 16)])
    def test_default_workers_is_two_per_core_within_bounds(self, monkeypatch, cores, workers):
        monkeypatch.setattr("os.cpu_count", lambda: cores)
        assert default_workers() == workers

    def test_generated_secret_keys_are_long_and_fresh(self):
        first, second = generate_secret_key(), generate_secret_key()
        assert first != second
        assert len(first) >= 50

    def test_every_default_reports_default_as_source(self):
        config = load({"SECRET_KEY": SECRET})
        for key in Demo.model_fields:
            if key != "SECRET_KEY":
                assert config.source_of(key) == "default", key
        assert config.config_file is None


class TestEnvironmentValues:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("true", True),
            ("1", True),
            ("yes", True),
            ("on", True),
            ("false", False),
            ("0", False),
            ("no", False),
            ("off", False),
        ],
    )
    def test_booleans(self, text, expected):
        assert load(valid_env(HTTPS=text)).HTTPS is expected

    def test_integers_and_strings(self):
        config = load(valid_env(WORKERS="3", THREADS="4", TIMEOUT="90", BIND="0.0.0.0:9000", MARKER="m"))
        assert (config.WORKERS, config.THREADS, config.TIMEOUT) == (3, 4, 90)
        assert config.BIND == "0.0.0.0:9000"
        assert config.MARKER == "m"

    def test_literal_accepts_a_listed_level(self):
        assert load(valid_env(LOG_LEVEL="WARNING")).LOG_LEVEL == "WARNING"

    def test_secrets_are_secret_types(self, tmp_path):
        config = load(valid_env(DATABASE_URL=f"sqlite:///{tmp_path}/hidden-db-x1.sqlite3"))
        assert isinstance(config.SECRET_KEY, SecretStr)
        assert isinstance(config.API_TOKEN, SecretStr)
        assert isinstance(config.DATABASE_URL, SecretStr)
        assert config.API_TOKEN.get_secret_value() == TOKEN
        assert TOKEN not in repr(config)
        assert SECRET not in repr(config)
        assert "hidden-db-x1" not in repr(config)

    def test_empty_optional_value_means_unset(self):
        config = load(valid_env(STATE_DIR="", DATABASE_URL=""))
        assert config.STATE_DIR is None
        assert config.DATABASE_URL is None


class TestSecretKeyRequirement:
    def test_required_when_debug_is_false(self):
        error = failure({"API_TOKEN": TOKEN})
        problem = only_problem(error, "SECRET_KEY")
        assert problem.message == "required when DEBUG is false"
        assert "environment variable SECRET_KEY" in problem.where
        assert "SECRET_KEY_FILE" in problem.where
        assert "$CREDENTIALS_DIRECTORY/secret_key" in problem.where
        assert_no_secret(error, TOKEN)

    def test_required_names_the_file_that_was_read(self, tmp_path):
        path = tmp_path / "demo.yaml"
        path.write_text("WORKERS: 2\n")
        error = failure({"API_TOKEN": TOKEN}, config_file=str(path))
        problem = only_problem(error, "SECRET_KEY")
        assert f"file {path}" in problem.where

    def test_empty_value_counts_as_unset(self):
        error = failure({"SECRET_KEY": ""})
        assert only_problem(error, "SECRET_KEY").message == "required when DEBUG is false"

    def test_blank_value_is_rejected(self):
        error = failure({"SECRET_KEY": "   "})
        problem = only_problem(error, "SECRET_KEY")
        assert problem.where == "environment variable SECRET_KEY"
        assert "must not be empty" in problem.message

    def test_not_required_with_debug(self):
        config = load({"DEBUG": "true"})
        assert config.SECRET_KEY is None
        assert config.secret_key() == "django-insecure-testproject-debug-only"

    def test_secret_key_value_is_returned(self):
        assert load({"SECRET_KEY": SECRET}).secret_key() == SECRET


class TestSourceOf:
    def test_environment_file_and_default(self, tmp_path):
        path = tmp_path / "demo.yaml"
        path.write_text("MARKER: from-file\nTHREADS: 2\n")
        config = load(valid_env(WORKERS="3"), config_file=str(path))
        assert config.source_of("WORKERS") == "environment variable WORKERS"
        assert config.source_of("MARKER") == f"file {path}"
        assert config.source_of("THREADS") == f"file {path}"
        assert config.source_of("TIMEOUT") == "default"
        assert config.config_file == str(path)


class TestStateDir:
    def test_state_dir_setting_wins(self, tmp_path):
        config = load(
            valid_env(
                STATE_DIR=str(tmp_path / "explicit"),
                STATE_DIRECTORY=str(tmp_path / "systemd"),
                XDG_STATE_HOME=str(tmp_path / "xdg"),
            )
        )
        assert config.state_dir() == tmp_path / "explicit"
        assert config.source_of("STATE_DIR") == "environment variable STATE_DIR"

    def test_systemd_state_directory_first_entry(self, tmp_path):
        first, second = tmp_path / "one", tmp_path / "two"
        config = load(valid_env(STATE_DIRECTORY=f"{first}:{second}", XDG_STATE_HOME=str(tmp_path / "xdg")))
        assert config.state_dir() == first

    def test_xdg_state_home(self, tmp_path):
        config = load(valid_env(XDG_STATE_HOME=str(tmp_path / "xdg")))
        assert config.state_dir() == tmp_path / "xdg" / "testproject"

    def test_home_fallback(self, tmp_path, monkeypatch):
        # Path.home() reads the process's HOME: point it at a temporary one.
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        config = load(valid_env())
        assert config.state_dir() == tmp_path / "home" / ".local" / "state" / "testproject"

    def test_state_dir_is_not_created(self, tmp_path):
        config = load(valid_env(STATE_DIR=str(tmp_path / "later")))
        config.state_dir()
        assert not (tmp_path / "later").exists()

    def test_explicit_empty_environ_does_not_read_process_environment(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "process-state"))
        path = tmp_path / "demo.yaml"
        path.write_text(f"SECRET_KEY: {SECRET}\n")
        config = load({}, config_file=str(path))
        assert config.state_dir() == tmp_path / "home" / ".local" / "state" / "testproject"


class TestDatabaseUrl:
    def test_default_is_sqlite_in_state_dir(self, tmp_path):
        config = load(valid_env(STATE_DIR=str(tmp_path / "state")))
        assert config.database_url() == f"sqlite:///{tmp_path / 'state' / 'db.sqlite3'}"

    def test_given_url_is_returned(self, tmp_path):
        url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
        config = load(valid_env(DATABASE_URL=url))
        assert config.database_url() == url
        assert config.source_of("DATABASE_URL") == "environment variable DATABASE_URL"

    @pytest.mark.parametrize(
        "url, expected",
        [
            ("nosuchdb://app:pw-leak-31@db.internal/app", "unsupported URL scheme 'nosuchdb'"),
            ("pw-leak-31", "unsupported URL scheme '(none)'"),
            ("postgres://app:pw-leak-31@db.internal:notaport/app", "malformed database URL"),
        ],
    )
    def test_unusable_url_is_reported_without_its_text(self, url, expected):
        error = failure(valid_env(DATABASE_URL=url))
        problem = only_problem(error, "DATABASE_URL")
        assert problem.where == "environment variable DATABASE_URL"
        assert expected in problem.message
        assert_no_secret(error, "pw-leak-31", "db.internal", SECRET, TOKEN)

    def test_missing_driver_is_reported(self):
        import importlib.util

        if importlib.util.find_spec("MySQLdb") is not None:
            pytest.skip("a MySQL driver is installed here")
        error = failure(valid_env(DATABASE_URL="mysql://app:pw-leak-32@db.internal/app"))
        problem = only_problem(error, "DATABASE_URL")
        assert "needs MySQLdb" in problem.message
        assert_no_secret(error, "pw-leak-32", SECRET, TOKEN)

    def test_database_url_is_a_secret_field(self):
        from django_zipserve.conf import sources

        assert sources.is_secret(Demo.model_fields["DATABASE_URL"])
        assert sources.is_secret(Demo.model_fields["SECRET_KEY"])
        assert sources.is_secret(Demo.model_fields["API_TOKEN"])
        assert not sources.is_secret(Demo.model_fields["MARKER"])

    def test_bad_database_url_type_is_not_echoed(self, tmp_path):
        path = tmp_path / "demo.yaml"
        path.write_text("DATABASE_URL: 918273645\n")
        error = failure(valid_env(), config_file=str(path))
        problem = only_problem(error, "DATABASE_URL")
        assert problem.where == f"file {path}"
        assert problem.message == "expected text, not a number (put it in quotes in the file)"
        assert_no_secret(error, "918273645", SECRET, TOKEN)


class TestNumbersForText:
    """A file types ``5432`` and ``true`` itself; the project's text setting
    is told how to write them, the value quoted back (not a secret)."""

    @pytest.mark.parametrize(
        "line, expected",
        [
            ("MARKER: 5432", "expected text, not a number (put it in quotes in the file), got 5432"),
            ("MARKER: 1.5", "expected text, not a number (put it in quotes in the file), got 1.5"),
            ("MARKER: true", "expected text, not true/false (put it in quotes in the file), got True"),
            ("MARKER: [5432]", "expected text, got [5432]"),
        ],
    )
    def test_a_typed_value_for_text_says_to_quote_it(self, tmp_path, line, expected):
        path = tmp_path / "demo.yaml"
        path.write_text(line + "\n")
        problem = only_problem(failure(valid_env(), config_file=str(path)), "MARKER")
        assert problem.where == f"file {path}"
        assert problem.message == expected


INVALID_VALUES = [
    # variable, value, expected wording
    pytest.param("WORKERS", "many", "expected a whole number", id="invalid-int"),
    pytest.param("THREADS", "1.5", "expected a whole number", id="fractional-int"),
    pytest.param("TIMEOUT", "", "expected a whole number", id="empty-int"),
    pytest.param("HTTPS", "perhaps", "expected true or false", id="invalid-bool"),
    pytest.param("WARMUP", "2", "expected true or false", id="invalid-bool-number"),
    pytest.param("WORKERS", "0", "expected a value at least 1", id="below-minimum"),
    pytest.param("HSTS_SECONDS", "-5", "expected a value at least 0", id="negative"),
    pytest.param(
        "LOG_LEVEL",
        "LOUD",
        "expected 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'",
        id="invalid-literal",
    ),
    pytest.param("LOG_LEVEL", "info", "expected 'DEBUG'", id="literal-is-case-sensitive"),
]


class TestInvalidValues:
    @pytest.mark.parametrize("variable, value, expected", INVALID_VALUES)
    def test_report_names_key_source_and_expectation(self, variable, value, expected):
        error = failure(valid_env(**{variable: value}))
        assert len(error.problems) == 1, error.report()
        problem = only_problem(error, variable)
        assert problem.where == f"environment variable {variable}"
        assert expected in problem.message
        # A non-secret value is quoted back to help the operator.
        assert f"got {value!r}" in problem.message
        assert_no_secret(error, SECRET, TOKEN)
        assert error.report().startswith("testproject: invalid configuration (1 problem):")

    def test_invalid_value_in_file(self, tmp_path):
        path = tmp_path / "demo.toml"
        path.write_text(f'SECRET_KEY = "{SECRET}"\nWORKERS = "lots"\n')
        error = failure({"API_TOKEN": TOKEN}, config_file=str(path))
        problem = only_problem(error, "WORKERS")
        assert problem.where == f"file {path}"
        assert "expected a whole number" in problem.message
        assert_no_secret(error, SECRET, TOKEN)

    def test_secret_with_wrong_type_is_not_echoed(self, tmp_path):
        path = tmp_path / "demo.json"
        path.write_text('{"API_TOKEN": ["s3cret-in-a-list-5521"]}')
        error = failure({"SECRET_KEY": SECRET}, config_file=str(path))
        problem = only_problem(error, "API_TOKEN")
        assert problem.message == "expected text"
        assert_no_secret(error, "s3cret-in-a-list-5521", SECRET)

    def test_long_values_are_shortened(self):
        error = failure(valid_env(WORKERS="9" * 10 + "x" * 200))
        problem = only_problem(error, "WORKERS")
        assert "..." in problem.message
        assert len(problem.message) < 120

    def test_many_problems_reported_together(self, tmp_path):
        path = tmp_path / "demo.yaml"
        path.write_text("THREADS: 0\nCOLOUR: blue\nMARKER: fine\n")
        error = failure(
            valid_env(WORKERS="many", HTTPS="perhaps", LOG_LEVEL="LOUD", ALLOWED_HOSTS="[broken"),
            config_file=str(path),
        )
        keys = sorted(problem.key for problem in error.problems)
        assert keys == ["ALLOWED_HOSTS", "COLOUR", "HTTPS", "LOG_LEVEL", "THREADS", "WORKERS"]
        assert only_problem(error, "THREADS").where == f"file {path}"
        assert only_problem(error, "COLOUR").where == f"file {path}"
        assert only_problem(error, "HTTPS").where == "environment variable HTTPS"
        report = str(error)
        assert report.startswith("testproject: invalid configuration (6 problems):")
        assert report.count("\n  - ") == 6
        assert_no_secret(error, SECRET, TOKEN)

    def test_missing_secret_key_reported_with_other_problems(self):
        error = failure({"API_TOKEN": TOKEN, "WORKERS": "many"})
        assert sorted(problem.key for problem in error.problems) == ["SECRET_KEY", "WORKERS"]


class TestSubclassChecks:
    def test_subclass_can_add_cross_field_problems(self):
        from django_zipserve.conf.errors import Problem

        class Strict(Demo):
            def check_values(self):
                yield from super().check_values()
                if self.THREADS > self.WORKERS:
                    yield Problem("THREADS", self.source_of("THREADS"), "must not exceed WORKERS")

        error = failure(valid_env(WORKERS="2", THREADS="3"), cls=Strict)
        problem = only_problem(error, "THREADS")
        assert problem.where == "environment variable THREADS"
        assert problem.message == "must not exceed WORKERS"
        assert load(valid_env(WORKERS="4", THREADS="3"), cls=Strict).THREADS == 3


def test_model_config_is_inherited_by_projects(tmp_path):
    class Project(ZipserveConfig):
        name = "project"
        model_config = {"file_env_var": "PROJECT_CONFIG"}

    assert Project.model_config["hide_input_in_errors"] is True
    assert Project.model_config["extra"] == "forbid"
    path = tmp_path / "project.yaml"
    path.write_text("WORKERS: 4\n")
    config = load({"SECRET_KEY": SECRET, "PROJECT_CONFIG": str(path)}, cls=Project)
    assert config.WORKERS == 4
    assert config.config_file == str(path)
