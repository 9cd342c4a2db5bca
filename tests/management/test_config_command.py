"""The ``config`` management command and start-up with a bad configuration,
through the test project's real entry point in a child process."""

import json

import pytest
from ruamel.yaml import YAML

from django_zipserve.conf import ZipserveConfig
from tests.helpers import WITHOUT_FILE_PERMISSION_OVERRIDE, run_project

SECRET = "s3cret-must-not-leak-key-e2e-91f0c3d7"
TOKEN = "s3cret-must-not-leak-token-e2e-55ab21"
FILE_SECRET = "s3cret-inside-a-file-e2e-0d0d0d"
FIELDS = [*ZipserveConfig.model_fields, "MARKER", "API_TOKEN"]


@pytest.fixture
def env(project_env):
    project_env.update(SECRET_KEY=SECRET, API_TOKEN=TOKEN)
    return project_env


def assert_clean_failure(result, expected, secrets=(SECRET, TOKEN, FILE_SECRET)):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("testproject: invalid configuration")
    for fragment in expected:
        assert fragment in result.stderr, result.stderr
    for secret in secrets:
        assert secret not in result.stderr
        assert secret not in result.stdout


# Each case changes the environment and files, and returns the arguments to
# put before the command and the fragments the report must contain.


def case_invalid_int(env, tmp_path):
    env["WORKERS"] = "many"
    return [], ["WORKERS", "environment variable WORKERS", "expected a whole number", "'many'"]


def case_invalid_bool(env, tmp_path):
    env["HTTPS"] = "perhaps"
    return [], ["HTTPS", "environment variable HTTPS", "expected true or false"]


def case_below_minimum(env, tmp_path):
    env["TIMEOUT"] = "0"
    return [], ["TIMEOUT", "environment variable TIMEOUT", "expected a value at least 1"]


def case_invalid_literal(env, tmp_path):
    env["LOG_LEVEL"] = "LOUD"
    levels = "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"
    return [], ["LOG_LEVEL", "environment variable LOG_LEVEL", levels]


def case_missing_secret_key(env, tmp_path):
    del env["SECRET_KEY"]
    return [], ["SECRET_KEY", "SECRET_KEY_FILE", "required when DEBUG is false"]


def case_malformed_yaml(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(f"SECRET_KEY: {FILE_SECRET}\nWORKERS: [2\n")
    return ["--config", str(path)], [str(path), "given with --config", "malformed YAML at line"]


def case_malformed_json(env, tmp_path):
    path = tmp_path / "site.json"
    path.write_text(f'{{"SECRET_KEY": "{FILE_SECRET}",}}')
    env["TESTPROJECT_CONFIG"] = str(path)
    return [], [str(path), "named by environment variable TESTPROJECT_CONFIG", "malformed JSON at line 1"]


def case_malformed_toml(env, tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(f'SECRET_KEY = "{FILE_SECRET}"\nWORKERS = \n')
    return [f"--config={path}"], [str(path), "malformed TOML"]


def case_file_is_directory(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.mkdir()
    return ["--config", str(path)], [str(path), "is a directory"]


def case_unknown_key(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(f"SECRET_KEY: {FILE_SECRET}\nCOLOUR: blue\n")
    return ["--config", str(path)], ["COLOUR", f"file {path}", "unknown setting"]


def case_unknown_extension(env, tmp_path):
    path = tmp_path / "site.ini"
    path.write_text(f"[site]\nSECRET_KEY = {FILE_SECRET}\n")
    return ["--config", str(path)], [str(path), "unsupported file extension '.ini'"]


def case_top_level_list(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(f"- {FILE_SECRET}\n- WORKERS\n")
    return ["--config", str(path)], [str(path), "expected a mapping"]


def case_config_env_names_missing_file(env, tmp_path):
    path = tmp_path / "absent.yaml"
    env["TESTPROJECT_CONFIG"] = str(path)
    return [], [str(path), "TESTPROJECT_CONFIG", "file not found"]


def case_config_option_names_missing_file(env, tmp_path):
    path = tmp_path / "absent.toml"
    return ["--config", str(path)], [str(path), "file not found"]


def case_malformed_env_list(env, tmp_path):
    env["ALLOWED_HOSTS"] = '["example.com",'
    return [], ["ALLOWED_HOSTS", "environment variable ALLOWED_HOSTS", "JSON list is malformed"]


def case_secret_file_missing(env, tmp_path):
    del env["SECRET_KEY"]
    env["SECRET_KEY_FILE"] = str(tmp_path / "no-key")
    return [], ["SECRET_KEY", str(tmp_path / "no-key"), "SECRET_KEY_FILE", "cannot be read"]


def case_secret_and_secret_file(env, tmp_path):
    path = tmp_path / "key"
    path.write_text(FILE_SECRET + "\n")
    env["SECRET_KEY_FILE"] = str(path)
    return [], ["SECRET_KEY", "SECRET_KEY_FILE", "set only one"]


def case_unsupported_database_url(env, tmp_path):
    env["DATABASE_URL"] = f"nosuchdb://app:{FILE_SECRET}@db.internal/app"
    return [], ["DATABASE_URL", "environment variable DATABASE_URL", "unsupported URL scheme"]


def case_several_problems(env, tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(f'API_TOKEN = "{FILE_SECRET}"\nTHREADS = 0\nSHADE = "blue"\n')
    env.update(WORKERS="many", HTTPS="perhaps")
    return ["--config", str(path)], [
        "(4 problems)",
        "WORKERS",
        "HTTPS",
        f"THREADS (file {path})",
        f"SHADE (file {path})",
    ]


BAD_CASES = [value for name, value in sorted(globals().items()) if name.startswith("case_")]


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda case: case.__name__[5:])
def test_bad_configuration_stops_with_status_2(env, tmp_path, case):
    args, expected = case(env, tmp_path)
    result = run_project(env, *args, "config", "check")
    assert_clean_failure(result, expected)
    assert result.stdout == ""


def test_unreadable_config_file_stops_with_status_2(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(f"SECRET_KEY: {FILE_SECRET}\n")
    path.chmod(0)
    result = run_project(
        env, "--config", str(path), "config", "check", prefix=WITHOUT_FILE_PERMISSION_OVERRIDE
    )
    assert_clean_failure(result, [str(path), "permission denied"])


def test_bad_configuration_stops_any_command(env):
    env["WORKERS"] = "0"
    result = run_project(env, "check")
    assert_clean_failure(result, ["WORKERS", "expected a value at least 1"])


def test_duplicate_secret_key_in_yaml_is_not_printed(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text(f"SECRET_KEY: {FILE_SECRET}\nSECRET_KEY: {FILE_SECRET}-new\n")
    assert_clean_failure(
        run_project(env, "--config", str(path), "config", "check"), [str(path), "malformed YAML"]
    )


def test_good_configuration_checks_ok(env, tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text("MARKER: checked\nTHREADS: 2\n")
    result = run_project(env, "--config", str(path), "config", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"configuration OK ({path}; set: ")
    assert "THREADS" in result.stdout and "MARKER" in result.stdout and "WORKERS" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_check_without_file(env):
    result = run_project(env, "config", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("configuration OK (no config file; set: ")


class TestTemplate:
    @pytest.fixture
    def bare_env(self, env):
        # No key anywhere: the template must not need a valid configuration.
        for key in ("SECRET_KEY", "API_TOKEN", "WORKERS"):
            env.pop(key)
        return env

    @pytest.mark.parametrize("fmt", ["yaml", "json", "toml"])
    def test_round_trip(self, bare_env, tmp_path, fmt):
        made = run_project(bare_env, "config", "template", fmt)
        assert made.returncode == 0, made.stderr
        path = tmp_path / f"site.{fmt}"
        path.write_text(made.stdout)
        checked = run_project(bare_env, "--config", str(path), "config", "check")
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.startswith(f"configuration OK ({path}; set: ")
        assert "SECRET_KEY" in checked.stdout
        shown = run_project(bare_env, "--config", str(path), "config", "show")
        assert shown.returncode == 0, shown.stderr
        key_row = next(line for line in shown.stdout.splitlines() if line.startswith("SECRET_KEY "))
        assert "********" in key_row
        assert key_row.endswith(f"file {path}")

    def test_works_with_a_broken_environment(self, bare_env, tmp_path):
        bare_env.update(WORKERS="many", TESTPROJECT_CONFIG=str(tmp_path / "absent.yaml"))
        result = run_project(
            bare_env, "--config", str(tmp_path / "also-absent.toml"), "config", "template", "json"
        )
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert set(data) == set(FIELDS)
        assert isinstance(data["WORKERS"], int)

    def test_default_format_is_yaml_and_keys_differ(self, bare_env):
        first, second = (
            run_project(bare_env, "config", "template"),
            run_project(bare_env, "config", "template", "yaml"),
        )
        assert first.returncode == second.returncode == 0
        yaml = YAML(typ="safe", pure=True)
        first_key, second_key = yaml.load(first.stdout)["SECRET_KEY"], yaml.load(second.stdout)["SECRET_KEY"]
        assert first_key != second_key
        assert len(first_key) >= 50

    def test_unknown_format_is_refused(self, bare_env):
        result = run_project(bare_env, "config", "template", "ini")
        assert result.returncode != 0
        assert "invalid choice" in result.stderr


def test_docs_lists_every_field(env):
    del env["SECRET_KEY"]
    result = run_project(env, "config", "docs")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Configuration of the test project.")
    for name in FIELDS:
        assert f"## `{name}`" in result.stdout
    assert "## `API_TOKEN` (secret)" in result.stdout
    assert "`TESTPROJECT_CONFIG`" in result.stdout


def test_show_redacts_secrets_and_names_sources(env, tmp_path):
    path = tmp_path / "site.json"
    path.write_text(json.dumps({"MARKER": "shown", "TIMEOUT": 45}))
    env.update(WORKERS="3", DATABASE_URL=f"sqlite:///{tmp_path}/db-{FILE_SECRET}.sqlite3")
    result = run_project(env, "--config", str(path), "config", "show")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for secret in (SECRET, TOKEN, FILE_SECRET):
        assert secret not in out
    *lines, database = out.splitlines()
    assert database == "default database: DATABASE_URL"
    rows = {line.split()[0]: line for line in lines[2:] if line.strip()}
    assert set(rows) == set(FIELDS)
    assert out.splitlines()[0] == f"config file: {path}"
    for key in ("SECRET_KEY", "API_TOKEN", "DATABASE_URL"):
        assert "********" in rows[key]
    assert rows["WORKERS"].endswith("environment variable WORKERS")
    assert rows["MARKER"].endswith(f"file {path}")
    assert '"shown"' in rows["MARKER"]
    assert rows["TIMEOUT"].endswith(f"file {path}")
    assert rows["THREADS"].endswith("default")
    assert rows["SECRET_KEY"].endswith("environment variable SECRET_KEY")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"DB_ENGINE": "django.db.backends.postgresql", "DB_NAME": "site", "DB_HOST": "db.example"},
            "default database: the project's own settings (postgresql, site on db.example): "
            "DATABASE_URL is not set",
        ),
        ({}, "default database: DATABASE_URL not set: SQLite in STATE_DIR ({state}/db.sqlite3)"),
    ],
)
def test_check_says_which_database_the_site_runs_on(env, tmp_path, variables, expected):
    """A database the project's own variables configure is never replaced
    by an empty SQLite file without a word: it is kept, and said."""
    env.update(variables, DJANGO_SETTINGS_MODULE="tests.management.settings_db_variables")
    for action in ("check", "show"):
        result = run_project(env, "config", action)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == expected.format(state=env["STATE_DIR"])


def test_a_project_database_without_its_driver_is_one_line(env):
    env.update(
        DB_ENGINE="django.db.backends.oracle", DJANGO_SETTINGS_MODULE="tests.management.settings_db_variables"
    )
    result = run_project(env, "config", "check")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "testproject: invalid configuration (1 problem):",
        "  - DATABASES (the project's settings (DATABASE_URL is not set)): the oracle backend needs "
        "oracledb or cx_Oracle, which is not installed: add it to the project's dependencies",
    ]


class TestTemplateOutput:
    @pytest.fixture
    def bare_env(self, env):
        for key in ("SECRET_KEY", "API_TOKEN", "WORKERS"):
            env.pop(key)
        return env

    def test_settings_printing_to_stdout_do_not_spoil_the_file(self, bare_env, tmp_path):
        bare_env["DJANGO_SETTINGS_MODULE"] = "tests.management.settings_printing"
        path = tmp_path / "c.yml"
        made = run_project(bare_env, "config", "template", "yaml", "--output", str(path))
        assert made.returncode == 0, made.stderr
        assert "WARNING: no local settings found" in made.stderr
        assert "WARNING" not in path.read_text()
        assert path.stat().st_mode & 0o777 == 0o600
        checked = run_project(bare_env, "--config", str(path), "config", "check")
        assert checked.returncode == 0, checked.stderr
        assert "SECRET_KEY" in checked.stdout

    def test_what_the_settings_print_goes_to_stderr(self, bare_env):
        """``config template json > file``: the file holds the template only."""
        bare_env["DJANGO_SETTINGS_MODULE"] = "tests.management.settings_printing"
        made = run_project(bare_env, "config", "template", "json")
        assert made.returncode == 0, made.stderr
        assert set(json.loads(made.stdout)) == set(FIELDS)
        assert "WARNING: no local settings found, using the defaults" in made.stderr

    def test_an_existing_file_is_kept_without_force(self, bare_env, tmp_path):
        (tmp_path / "out").mkdir()
        path = tmp_path / "out" / "c.yml"
        path.write_text("MARKER: mine\n")
        path.chmod(0o644)
        refused = run_project(bare_env, "config", "template", "yaml", "--output", str(path))
        assert refused.returncode != 0
        assert "exists; add --force to replace it" in refused.stderr
        assert path.read_text() == "MARKER: mine\n"
        forced = run_project(bare_env, "config", "template", "yaml", "--output", str(path), "--force")
        assert forced.returncode == 0, forced.stderr
        assert "SECRET_KEY:" in path.read_text()
        assert path.stat().st_mode & 0o777 == 0o600
        assert [p.name for p in path.parent.iterdir()] == ["c.yml"]

    def test_the_help_names_output(self, bare_env):
        helped = run_project(bare_env, "config", "--help")
        assert "--output FILE" in helped.stdout
        assert "standard output" in helped.stdout
