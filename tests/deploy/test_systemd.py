"""Rendered systemd units: valid for systemd, and sandboxed."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from django_zipserve.deploy import systemd
from django_zipserve.deploy.releases import ReleaseStore
from tests.helpers import require_tool, run_project


@pytest.fixture
def systemd_analyze():
    require_tool(
        shutil.which("systemd-analyze"), "systemd-analyze (Debian's systemd package) is not installed"
    )


@pytest.fixture
def project_env(project_env, visible):
    """The test project's environment, with this Python on PATH where the
    units' sandbox would let the service see it (the interpreters here may
    live under /root or /tmp, which render passes over)."""
    folder = interpreters(visible / "python", **{f"python{VERSION}": None})
    return dict(project_env, PATH=os.pathsep.join([str(folder), project_env.get("PATH", "")]))


def render(tmp_path, project_env, *args, name="myapp"):
    output = tmp_path / "units"
    result = run_project(project_env, "systemd", "render", "--name", name, "--output", str(output), *args)
    assert result.returncode == 0, result.stderr
    return output


def unit_instances(name="myapp"):
    """Every rendered unit, templates as an instance."""
    return [
        f"{name}.socket",
        f"{name}@blue.service",
        *(systemd.release_step_unit(name, step, "1.0.0-0123456789abcdef") for step in systemd.RELEASE_STEPS),
        # The test project's ZIPSERVE_PROCESSES: two processes and a job.
        f"{name}-worker.service",
        f"{name}-waiter.service",
        f"{name}-cleanup.service",
        f"{name}-cleanup.timer",
        f"{name}-printer.service",
    ]


def verify(output, name="myapp"):
    return subprocess.run(
        ["systemd-analyze", "verify", *unit_instances(name)],
        cwd=output,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def exposure(output, name="myapp", unit=None):
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", unit or f"{name}@blue.service"],
        cwd=output,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_units_name_interpreter_artifact_and_server(tmp_path, project_env, server):
    output = render(
        tmp_path,
        project_env,
        "--server",
        server,
        "--python",
        sys.executable,
        "--root",
        "/opt/apps/myapp",
        "--listen",
        "127.0.0.1:9001",
    )
    service = (output / "myapp@.service").read_text()
    socket = (output / "myapp.socket").read_text()
    assert (
        f"ExecStart={sys.executable} -I /opt/apps/myapp/current/myapp.pyz "
        f"--config /etc/myapp/config.yml {server}\n"
    ) in service
    assert "ListenStream=127.0.0.1:9001\n" in socket
    assert "Sockets=myapp.socket\n" in service and "Type=notify\n" in service
    assert "CacheDirectory=myapp\n" in service and "Environment=SHIV_ROOT=%C/myapp\n" in service
    assert "StateDirectory=myapp\n" in service
    assert "LoadCredential=secret_key:/etc/myapp/credentials/secret_key\n" in service
    assert "#LoadCredential=api_token:" in service, "optional secrets are listed, commented out"
    assert "Environment=ZIPSERVE_INSTANCE=%i\n" in service, "the health view names the colour"


def test_root_is_the_release_folder_as_for_deploy(tmp_path, project_env):
    """``--root`` means the same as for deploy, rollback and releases: the
    folder holding releases/ and current, /srv/NAME by default."""
    service = (render(tmp_path, project_env, "--python", sys.executable) / "myapp@.service").read_text()
    assert f"ExecStart={sys.executable} -I /srv/myapp/current/myapp.pyz " in service
    store = ReleaseStore(tmp_path / "srv" / "myapp", "myapp")
    relocated = render(tmp_path / "other", project_env, "--root", store.root, "--python", sys.executable)
    assert (
        f"ExecStart={sys.executable} -I {store.current_artifact} "
        in (relocated / "myapp@.service").read_text()
    )


VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def interpreters(folder, **programs):
    """A folder of commands for PATH: this interpreter (a script that runs
    it: its own path may lie in a home directory), or a script (text) in
    its place."""
    folder.mkdir(parents=True)
    for name, program in programs.items():
        (folder / name).write_text(
            program if program is not None else f'#!/bin/sh\nexec {sys.executable} "$@"\n'
        )
        (folder / name).chmod(0o755)
    return folder


@pytest.fixture
def visible(tmp_path):
    """A folder the units' sandbox would let the service see (tmp_path lies
    in /tmp, which PrivateTmp hides)."""
    folder = Path(tempfile.mkdtemp(prefix="zipserve-test-", dir="/var/lib"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


#: What a pyenv shim of a Python that is installed but not selected does.
SHIM = '#!/bin/sh\necho "pyenv: $(basename $0): command not found" >&2\nexit 127\n'


def test_default_interpreter_is_the_builds_version_found_on_path(tmp_path, visible, project_env):
    """Not /usr/bin/python3: the first python3.X on PATH, X the version the
    artifact was built for (here the one that runs the command), that runs
    and says so; a shim that does not run is passed over."""
    shims = interpreters(visible / "shims", **{f"python{VERSION}": SHIM})
    real = interpreters(visible / "real", **{f"python{VERSION}": None, "python3": SHIM})
    env = dict(project_env, PATH=os.pathsep.join([str(shims), str(real)]))
    service = (render(tmp_path, env) / "myapp@.service").read_text()
    assert f"ExecStart={real / f'python{VERSION}'} -I /srv/myapp/current/myapp.pyz " in service
    assert f"ExecStartPre={real / f'python{VERSION}'} -I " in service


def test_an_interpreter_the_sandbox_hides_is_passed_over_or_refused(tmp_path, visible, project_env):
    """A pyenv build under /root (or anything in a home directory or /tmp)
    cannot be executed by the service: every start failed with 203/EXEC.
    One the sandbox lets the service see is taken instead; with none, one line."""
    hidden = interpreters(tmp_path / "pyenv", **{f"python{VERSION}": None})
    usable = interpreters(visible / "bin", **{f"python{VERSION}": None})
    env = dict(project_env, PATH=os.pathsep.join([str(hidden), str(usable)]))
    service = (render(tmp_path, env) / "myapp@.service").read_text()
    assert f"ExecStart={usable / f'python{VERSION}'} -I " in service
    env = dict(project_env, PATH=str(hidden))
    result = run_project(env, "systemd", "render", "--name", "myapp", "--output", str(tmp_path / "refused"))
    assert result.returncode == 2
    assert result.stderr == (
        f"CommandError: the only python{VERSION} on PATH, {hidden / f'python{VERSION}'}, lies under /tmp, "
        "which the units' sandbox hides from the service (every start would fail with 203/EXEC): install "
        f"Python {VERSION} outside home directories (/usr/bin or /opt) and give --python PATH\n"
    )
    assert not (tmp_path / "refused").exists()
    given = run_project(
        project_env,
        "systemd",
        "render",
        "--output",
        str(tmp_path / "given"),
        "--python",
        str(hidden / f"python{VERSION}"),
    )
    assert given.returncode == 0, given.stderr
    assert given.stderr.startswith(
        f"warning: --python {hidden / f'python{VERSION}'} lies under /tmp, which the units'"
    )


def test_no_interpreter_of_the_version_is_one_line_and_no_unit(tmp_path, project_env):
    env = dict(project_env, PATH=str(interpreters(tmp_path / "bin", python3=None)))
    result = run_project(env, "systemd", "render", "--name", "myapp", "--output", str(tmp_path / "units"))
    assert result.returncode == 2
    assert result.stderr == (
        f"CommandError: no python{VERSION} on PATH, and the artifact is built for Python {VERSION}: "
        f"install Python {VERSION} or give --python PATH\n"
    )
    assert not (tmp_path / "units").exists()


@pytest.mark.parametrize(
    "program, says",
    [("#!/bin/sh\necho 3.99\n", "is Python 3.99"), (SHIM, "does not run"), ("", "does not run")],
)
def test_a_given_interpreter_of_another_version_is_refused(tmp_path, project_env, program, says):
    given = interpreters(tmp_path / "bin", python3=program) / "python3"
    result = run_project(
        project_env, "systemd", "render", "--output", str(tmp_path / "units"), "--python", str(given)
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"CommandError: --python {given} {says}, but the artifact is built for Python {VERSION}\n"
    )
    assert not (tmp_path / "units").exists()


def test_credential_option_activates_a_secret(tmp_path, project_env):
    service = (render(tmp_path, project_env, "--credential", "API_TOKEN") / "myapp@.service").read_text()
    assert "\nLoadCredential=api_token:/etc/myapp/credentials/api_token\n" in service


def test_unknown_credential_is_refused(tmp_path, project_env):
    result = run_project(project_env, "systemd", "render", "--output", str(tmp_path), "--credential", "NOPE")
    assert result.returncode != 0
    assert "--credential NOPE: not a setting of this project" in result.stderr


def test_every_hardening_directive_is_rendered(tmp_path, project_env):
    service = (render(tmp_path, project_env) / "myapp@.service").read_text()
    for directive in systemd.HARDENING:
        assert f"\n{directive.name}={directive.value}\n" in service, directive.name


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_systemd_analyze_verify_prints_nothing(tmp_path, project_env, server, systemd_analyze):
    output = render(tmp_path, project_env, "--server", server)
    result = verify(output)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_exposure_score_is_at_most_1_5(tmp_path, project_env, systemd_analyze):
    output = render(tmp_path, project_env)
    scores = {unit: exposure(output, unit=unit) for unit in unit_instances() if unit.endswith(".service")}
    assert all(score <= 1.5 for score in scores.values()), scores


def test_release_steps_run_the_release_as_the_service_would(tmp_path, project_env):
    """``deploy`` starts NAME-prepare@RELEASE and NAME-migrate@RELEASE before
    ``current`` moves: the new release's artifact, the service's user,
    directories and sandbox; migrate also its configuration and credentials."""
    output = render(tmp_path, project_env, "--python", sys.executable, "--root", "/opt/myapp")
    service = (output / "myapp@.service").read_text()
    prepare = (output / "myapp-prepare@.service").read_text()
    migrate = (output / "myapp-migrate@.service").read_text()
    release = f"{sys.executable} -I /opt/myapp/releases/%i/myapp.pyz"
    assert f"\nExecStart={release} zipapp extract\n" in prepare
    assert f"\nExecStart={release} --config /etc/myapp/config.yml migrate --noinput\n" in migrate
    for unit in (prepare, migrate):
        assert "\nType=oneshot\n" in unit
        for line in ("DynamicUser=yes", "User=myapp", "CacheDirectory=myapp", "StateDirectory=myapp"):
            assert f"\n{line}\n" in unit and f"\n{line}\n" in service, line
        for directive in systemd.HARDENING:
            assert f"\n{directive.name}={directive.value}\n" in unit, directive.name
    assert "LoadCredential=secret_key:" in migrate and "LoadCredential" not in prepare


def test_listen_address_and_timeout_come_from_the_config_file_without_secrets(tmp_path, project_env):
    """As the deployment guide has it: the file holds no secret, the
    administrator's shell has none either, and the units still listen on
    the file's BIND."""
    config = tmp_path / "config.yml"
    config.write_text("BIND: 127.0.0.1:18123\nTIMEOUT: 50\nHTTPS: false\n")
    env = {key: value for key, value in project_env.items() if key != "SECRET_KEY"}
    output = render(tmp_path, env, "--config", str(config))
    assert "\nListenStream=127.0.0.1:18123\n" in (output / "myapp.socket").read_text()
    service = (output / "myapp@.service").read_text()
    assert "\nTimeoutStopSec=65\n" in service
    assert f" --config {config} pyuwsgi\n" in service


def test_a_bad_value_in_the_config_file_is_reported_before_rendering(tmp_path, project_env):
    config = tmp_path / "config.yml"
    config.write_text("BIND: 127.0.0.1:18123\nTIMEOUT: soon\n")
    result = run_project(
        project_env, "systemd", "render", "--output", str(tmp_path / "units"), "--config", str(config)
    )
    assert result.returncode == 2, result.stderr
    assert f"TIMEOUT (file {config}): expected a whole number, got 'soon'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "units").exists()


def test_a_config_file_given_that_does_not_exist_is_refused(tmp_path, project_env):
    missing = tmp_path / "nope.yml"
    result = run_project(
        project_env, "systemd", "render", "--output", str(tmp_path / "units"), "--config", str(missing)
    )
    assert result.returncode != 0
    assert f"--config {missing}: file not found (the service would read it)" in result.stderr
    assert not (tmp_path / "units").exists()


def test_each_relaxation_flag_leaves_out_its_directive_only(tmp_path, project_env):
    assert {directive.name for directive in systemd.RELAXABLE} >= {"MemoryDenyWriteExecute", "ProcSubset"}
    for directive in systemd.RELAXABLE:
        output = render(tmp_path / directive.relaxation.name, project_env, directive.relaxation.flag)
        service = (output / "myapp@.service").read_text()
        for other in systemd.HARDENING:
            rendered = f"\n{other.name}={other.value}\n" in service
            assert rendered == (other is not directive), (directive.relaxation.flag, other.name)


def test_relaxations_are_declared_for_the_reference():
    names = [directive.relaxation.name for directive in systemd.RELAXABLE]
    assert len(names) == len(set(names))
    for directive in systemd.HARDENING:
        assert directive.name and directive.why, directive
    for directive in systemd.RELAXABLE:
        relaxation = directive.relaxation
        assert relaxation.flag.startswith("--") and relaxation.cost, relaxation
    with pytest.raises(ValueError, match="no hardening directive can be relaxed as nope"):
        systemd.UnitOptions(name="x", listen=":80", timeout=30, relaxed=frozenset({"nope"}))


def test_switches_relax_one_directive_each(tmp_path, project_env, systemd_analyze):
    strict = exposure(render(tmp_path / "strict", project_env))
    flags = [directive.relaxation.flag for directive in systemd.RELAXABLE]
    relaxed_dir = render(tmp_path / "relaxed", project_env, *flags)
    service = (relaxed_dir / "myapp@.service").read_text()
    assert "MemoryDenyWriteExecute" not in service and "ProcSubset" not in service
    relaxed = exposure(relaxed_dir)
    assert strict <= relaxed <= 1.5, (strict, relaxed)
    result = verify(relaxed_dir)
    assert (result.returncode, result.stderr) == (0, "")


def test_each_directive_declares_the_exposure_measured_without_it(tmp_path, project_env, systemd_analyze):
    output = render(tmp_path, project_env)
    service = (output / "myapp@.service").read_text()
    measured = {}
    for directive in systemd.HARDENING:
        line = f"\n{directive.name}={directive.value}\n"
        assert line in service, directive
        (output / "myapp@.service").write_text(service.replace(line, "\n", 1))
        measured[f"{directive.name}={directive.value}"] = exposure(output)
    declared = {
        f"{directive.name}={directive.value}": directive.exposure_without for directive in systemd.HARDENING
    }
    assert measured == declared


def test_each_declared_process_gets_a_service_and_each_job_a_timer(tmp_path, project_env):
    """From the test project's ZIPSERVE_PROCESSES: the worker runs all the
    time as the web units' user, in their sandbox, with their credentials;
    the job is a one-shot service its timer starts."""
    output = render(tmp_path, project_env, "--python", sys.executable)
    web = (output / "myapp@.service").read_text()
    worker = (output / "myapp-worker.service").read_text()
    job = (output / "myapp-cleanup.service").read_text()
    timer = (output / "myapp-cleanup.timer").read_text()
    run = f"ExecStart={sys.executable} -I /srv/myapp/current/myapp.pyz --config /etc/myapp/config.yml run"
    assert f"\n{run} worker\n" in worker and f"\n{run} cleanup\n" in job
    for line in (
        "Type=notify",
        "KillMode=mixed",
        "TimeoutStopSec=20",
        "Restart=always",
        "WantedBy=multi-user.target",
    ):
        assert f"\n{line}\n" in worker, line
    assert "\nType=oneshot\n" in job and "[Install]" not in job
    for unit in (worker, job):
        for line in ("DynamicUser=yes", "User=myapp", "StateDirectory=myapp", "LoadCredential=secret_key:"):
            assert f"\n{line}" in unit, line
        for directive in systemd.HARDENING:
            assert f"\n{directive.name}={directive.value}\n" in unit, directive.name
    assert "\nOnCalendar=daily\n" in timer and "\nUnit=myapp-cleanup.service\n" in timer
    assert "\nPersistent=true\n" in timer and "\nWantedBy=timers.target\n" in timer
    assert " run worker" not in web


def test_a_schedule_systemd_cannot_read_is_refused(tmp_path, project_env, systemd_analyze):
    result = run_project(
        project_env,
        "systemd",
        "--settings",
        "tests.deploy.settings_bad_schedule",
        "render",
        "--output",
        str(tmp_path / "units"),
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "CommandError: ZIPSERVE_PROCESSES['report']['schedule']: 'every tuesday-ish' is not a systemd "
        "calendar expression (e.g. daily, hourly, *-*-* 03:15:00)\n"
    )
    assert not (tmp_path / "units").exists()


def test_asgi_units_run_gunicorn_asgi(tmp_path, project_env):
    service = (render(tmp_path, project_env, "--server", "gunicorn", "--asgi") / "myapp@.service").read_text()
    assert " --config /etc/myapp/config.yml gunicorn --asgi\n" in service
    refused = run_project(project_env, "systemd", "render", "--output", str(tmp_path / "u"), "--asgi")
    assert refused.returncode == 1
    assert "uWSGI serves WSGI only: serve ASGI_APPLICATION with `gunicorn --asgi`" in refused.stderr


def test_the_fallback_name_is_warned_about(django_project):
    """A configuration class that names no project renders django.socket,
    /srv/django and /etc/django/config.yml: said, not silent."""
    from django.test import override_settings

    from django_zipserve.management.commands._release_options import fallback_name_warning

    with override_settings(ZIPSERVE_NAME="django"):
        warning = fallback_name_warning({"name": None})
        assert warning.startswith("the project's configuration class sets no name, so the fallback 'django'")
        assert fallback_name_warning({"name": "shop"}) is None
    with override_settings(ZIPSERVE_NAME="shop"):
        assert fallback_name_warning({"name": None}) is None
