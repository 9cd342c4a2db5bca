"""``--config FILE`` before the command name, and nothing else, belongs to
the entry point; the rest of the command line goes to Django untouched."""

import subprocess
import sys

import pytest

from django_zipserve import entrypoint
from django_zipserve.entrypoint import UsageError, make_main, split_global_options
from tests.helpers import REPO, run_project


@pytest.mark.parametrize(
    "argv, config_file, django_argv",
    [
        (["site"], None, ["site"]),
        (["site", "check"], None, ["site", "check"]),
        (["site", "--config", "a.yml", "check"], "a.yml", ["site", "check"]),
        (["site", "--config=a.yml", "check"], "a.yml", ["site", "check"]),
        (["site", "--config=a=b.yml", "check"], "a=b.yml", ["site", "check"]),
        (["site", "--config", "a.yml"], "a.yml", ["site"]),
        (["site", "--config", "a.yml", "--config=b.toml", "check"], "b.toml", ["site", "check"]),
        (
            ["site", "--config", "a.yml", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "3"],
            "a.yml",
            ["site", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "3"],
        ),
        (["site", "pyuwsgi", "--config=x.ini"], None, ["site", "pyuwsgi", "--config=x.ini"]),
        (["site", "--settings=x", "--config", "a.yml"], None, ["site", "--settings=x", "--config", "a.yml"]),
        (["site", "runserver", "--config"], None, ["site", "runserver", "--config"]),
    ],
)
def test_split_global_options(argv, config_file, django_argv):
    original = list(argv)
    assert split_global_options(argv) == (config_file, django_argv)
    assert argv == original


@pytest.mark.parametrize(
    "argv, message",
    [
        (["site", "--config"], "--config needs a file name: --config FILE"),
        (["site", "--config", "--verbosity", "2"], "--config needs a file name: --config FILE"),
        (["site", "--config="], "--config needs a file name: --config=FILE"),
        (["site", "--configuration", "x"], "unknown option --configuration"),
    ],
)
def test_usage_errors(argv, message):
    with pytest.raises(UsageError) as info:
        split_global_options(argv)
    assert str(info.value) == message


def test_make_main_documents_the_project():
    main = make_main("shop.settings")
    assert main.__doc__ == "Run a management command of shop."
    assert "[--config FILE]" in entrypoint.USAGE


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config"], "--config needs a file name: --config FILE"),
        (["--config=", "check"], "--config needs a file name: --config=FILE"),
        (["--configure", "x", "check"], "unknown option --configure"),
    ],
)
def test_usage_error_exits_2_without_traceback(project_env, args, message):
    result = run_project(project_env, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "usage: " in result.stderr
    assert "[--config FILE] COMMAND [ARGS ...]" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_config_option_chooses_the_file(project_env, tmp_path):
    first, second = tmp_path / "first.yaml", tmp_path / "second.toml"
    first.write_text("MARKER: first\n")
    second.write_text('MARKER = "second"\n')
    project_env["TESTPROJECT_CONFIG"] = str(first)
    result = run_project(project_env, "--config", str(second), "config", "show")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"config file: {second}"
    marker = next(line for line in result.stdout.splitlines() if line.startswith("MARKER "))
    assert '"second"' in marker


def test_relative_config_file_is_resolved_from_working_directory(project_env, tmp_path):
    (tmp_path / "here.yaml").write_text("MARKER: relative\n")
    result = run_project(project_env, "--config", "here.yaml", "config", "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"config file: {tmp_path / 'here.yaml'}"


def test_options_after_the_command_reach_django(project_env):
    # Django's own parser sees "--config" after "config check" and rejects it;
    # the entry point did not swallow it.
    result = run_project(project_env, "config", "check", "--config", "x.yaml")
    assert result.returncode != 0
    assert "unrecognized arguments: --config x.yaml" in result.stderr


@pytest.mark.parametrize(
    "args, needed",
    [
        ([], False),
        (["help"], False),
        (["--help"], False),
        (["migrate", "--help"], False),
        (["config", "template", "toml"], False),
        (["config", "docs"], False),
        (["config", "show"], True),
        (["config", "check"], True),
        (["migrate"], True),
        (["gunicorn", "--bind", ":8000"], True),
        (["not-a-command"], True),
    ],
)
def test_needs_configuration_is_decided_by_the_command(args, needed):
    assert entrypoint.needs_configuration(args) is needed


@pytest.mark.parametrize("args", [["--help"], ["help"], ["config", "template"], ["gunicorn", "--help"]])
def test_help_and_describing_commands_run_without_any_configuration(project_env, args):
    del project_env["SECRET_KEY"]
    project_env["WORKERS"] = "not a number"  # would stop any command that reads the configuration
    result = run_project(project_env, *args)
    assert result.returncode == 0, result.stderr
    assert "invalid configuration" not in result.stderr


def test_a_command_that_uses_the_configuration_still_reads_it(project_env):
    project_env["WORKERS"] = "not a number"
    result = run_project(project_env, "config", "check")
    assert result.returncode == 2
    assert "WORKERS (environment variable WORKERS): expected a whole number" in result.stderr


@pytest.mark.parametrize(
    "args, status, stream", [(["--help"], 0, "stdout"), ([], 2, "stderr"), (["x"], 2, "stderr")]
)
def test_python_m_django_zipserve_lists_its_commands(args, status, stream):
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", *args], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == status
    assert "build " in getattr(result, stream) and "usage: python -m django_zipserve" in getattr(
        result, stream
    )


def test_test_runs_our_command_whatever_the_settings_install(project_env, tmp_path):
    """A project's test settings without django_zipserve (Baby Buddy's
    ``--settings babybuddy.settings.test``) used to reach Django's own
    command, which found no test and said OK."""
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    result = run_project(
        project_env, "test", "--settings", "tests.management.settings_without_zipserve", str(empty)
    )
    assert result.returncode != 0
    assert f"no tests found in {empty}: nothing was tested" in result.stderr
    assert "OK" not in result.stderr.splitlines()
