"""What both server commands share: Django's own options and error
reporting, our help, every other argument passed to the server."""

import pytest

from django_zipserve.errors import ZipserveError
from django_zipserve.management.commands.gunicorn import Command as GunicornCommand
from tests.helpers import free_port, project_command, run_project, wait_for_http

BIND_OPTION = {"gunicorn": "--bind", "pyuwsgi": "--http"}


def parse(*args):
    return GunicornCommand().create_parser("manage.py", "gunicorn").parse_args(list(args))


def test_django_options_are_taken_out_in_both_forms_and_the_rest_goes_to_the_server(django_project):
    options = parse(
        "--settings=a.settings",
        "--bind",
        "127.0.0.1:1",
        "--traceback",
        "--pythonpath",
        "/p",
        "-w",
        "2",
        "--verbosity=3",
    )
    assert options.server_args == ["--bind", "127.0.0.1:1", "-w", "2", "--verbosity=3"]
    assert (options.settings, options.pythonpath, options.traceback) == ("a.settings", "/p", True)


def test_django_options_not_given_have_djangos_defaults(django_project):
    options = parse("--bind", "127.0.0.1:1")
    assert options.server_args == ["--bind", "127.0.0.1:1"]
    assert (options.settings, options.pythonpath, options.traceback) == (None, None, False)
    assert options.verbosity == 1 and options.no_color is False and options.server_help is False


@pytest.mark.parametrize("server", ["gunicorn", "pyuwsgi"])
def test_failing_system_check_is_reported_once_in_djangos_format(project_env, server):
    result = run_project(
        project_env,
        server,
        "--settings",
        "tests.servers.settings_failing_check",
        BIND_OPTION[server],
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode != 0
    assert result.stderr.count("SystemCheckError") == 1, result.stderr
    assert "zipserve.E001" in result.stderr
    assert "Traceback" not in result.stderr


def test_traceback_option_shows_the_traceback(project_env):
    result = run_project(
        project_env,
        "gunicorn",
        "--settings=tests.servers.settings_failing_check",
        "--traceback",
        "--bind",
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr, result.stderr
    assert "zipserve.E001" in result.stderr


def test_failed_warm_up_refuses_to_start_with_one_message(project_env):
    result = run_project(
        project_env,
        "gunicorn",
        "--settings",
        "tests.servers.settings_failing_warmup",
        "--bind",
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 1
    assert result.stderr.count("refusing to start: warm-up request GET /-/health/ answered 503") == 1, (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "Listening at" not in result.stdout + result.stderr


def test_warm_up_failure_is_a_zipserve_error(django_project):
    from django_zipserve.servers import warmup

    assert issubclass(warmup.WarmupFailed, ZipserveError)


@pytest.mark.parametrize("server", ["gunicorn", "pyuwsgi"])
def test_a_release_that_serves_errors_refuses_to_start(project_env, server):
    """The health view answers 200 but a page does not: the start is
    refused with one line, and the traceback reaches standard error although
    the project's own LOGGING sends every record elsewhere."""
    result = run_project(
        project_env,
        server,
        "--settings",
        "tests.servers.settings_broken_page",
        BIND_OPTION[server],
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 1
    summary = "refusing to start: warm-up request GET /broken/ answered 500 (TemplateDoesNotExist: home.html)"
    assert result.stderr.count(summary) == 1, result.stderr
    assert "django.template.exceptions.TemplateDoesNotExist: home.html" in result.stderr
    assert "<html" not in result.stderr.lower()
    assert "Listening at" not in result.stdout + result.stderr
    assert "spawned uWSGI" not in result.stdout + result.stderr


def test_a_health_url_behind_a_catch_all_refuses_to_start_saying_where_it_belongs(project_env):
    result = run_project(
        project_env,
        "gunicorn",
        "--settings",
        "tests.servers.settings_catch_all",
        "--bind",
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode != 0
    assert "zipserve.E006" in result.stderr, result.stderr
    assert "GET /-/health/ reaches tests.testproject.views.page, not the health view" in result.stderr
    assert (
        'before the catch-all pattern: put path("", include("django_zipserve.urls")) first' in result.stderr
    )
    assert "<html" not in result.stderr.lower()
    assert "Listening at" not in result.stdout + result.stderr


def test_a_home_page_redirecting_to_a_broken_login_page_refuses_to_start(project_env):
    result = run_project(
        project_env,
        "gunicorn",
        "--settings",
        "tests.servers.settings_login_redirect",
        "--bind",
        f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 1, result.stderr
    summary = (
        "refusing to start: warm-up request GET /accounts/login/?next=/ (redirected from /) "
        "answered 500 (TemplateDoesNotExist: home.html)"
    )
    assert result.stderr.count(summary) == 1, result.stderr
    assert "Listening at" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "settings_module",
    [
        "tests.servers.settings_login_redirect",  # our LOGGING: standard error
        "tests.servers.settings_console_logging",  # the project's console handler, and ours
        "tests.servers.settings_broken_page",  # the project's handler sends records elsewhere
    ],
)
def test_a_warm_up_failure_prints_its_traceback_exactly_once(project_env, settings_module):
    result = run_project(
        project_env, "gunicorn", "--settings", settings_module, "--bind", f"127.0.0.1:{free_port()}"
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("Traceback (most recent call last)") == 1, result.stderr
    assert result.stderr.count("django.template.exceptions.TemplateDoesNotExist: home.html") == 1


@pytest.mark.parametrize("server", ["gunicorn", "pyuwsgi"])
def test_a_start_leaves_the_code_only_checks_to_the_build_and_deploy(project_env, servers, tmp_path, server):
    """A slow check an app registers without a tag (drf-spectacular's builds
    the whole API schema) no longer delays every start: the build and
    ``check --deploy`` (deploy's release step) run it; the checks a host can
    change (zipserve.E001 above) still run at every start."""
    mark = tmp_path / "check-ran"
    project_env.update(ZIPSERVE_TEST_CHECK_MARK=str(mark))
    port = free_port()
    settings = ("--settings", "tests.servers.settings_slow_check")
    process = servers.start(
        project_command(server, *settings, BIND_OPTION[server], f"127.0.0.1:{port}"), project_env
    )
    wait_for_http(f"http://127.0.0.1:{port}/-/health/", process=process.process)
    assert not mark.exists(), process.output()
    checked = run_project(project_env, "check", "--deploy", *settings)
    assert checked.returncode == 0, checked.stderr
    assert mark.read_text() == "ran\n"
