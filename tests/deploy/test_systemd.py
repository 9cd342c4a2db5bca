"""Rendered systemd units: valid for systemd, and sandboxed."""

import re
import shutil
import subprocess
import sys

import pytest

from django_zipserve.deploy import systemd

from tests.helpers import REPO, require_tool

@pytest.fixture
def systemd_analyze():
    require_tool(shutil.which("systemd-analyze"), "systemd-analyze (Debian's systemd package) is not installed")


def render(tmp_path, project_env, *args, name="myapp"):
    output = tmp_path / "units"
    result = subprocess.run(
        [sys.executable, "-m", "tests.testproject", "systemd", "render", "--name", name, "--output", str(output),
         *args], env=project_env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return output


def verify(output, name="myapp"):
    return subprocess.run(["systemd-analyze", "verify", f"{name}.socket", f"{name}@blue.service"],
                          cwd=output, capture_output=True, text=True, timeout=60)


def exposure(output, name="myapp"):
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", f"{name}@blue.service"],
                            cwd=output, capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_units_name_interpreter_artifact_and_server(tmp_path, project_env, server):
    output = render(tmp_path, project_env, "--server", server, "--python", "/usr/bin/python3.11",
                    "--root", "/opt/apps", "--listen", "127.0.0.1:9001")
    service = (output / "myapp@.service").read_text()
    socket = (output / "myapp.socket").read_text()
    assert (f"ExecStart=/usr/bin/python3.11 -I /opt/apps/myapp/current/myapp.pyz "
            f"--config /etc/myapp/config.yml {server}\n") in service
    assert "ListenStream=127.0.0.1:9001\n" in socket
    assert "Sockets=myapp.socket\n" in service and "Type=notify\n" in service
    assert "CacheDirectory=myapp\n" in service and "Environment=SHIV_ROOT=%C/myapp\n" in service
    assert "StateDirectory=myapp\n" in service
    assert "LoadCredential=secret_key:/etc/myapp/credentials/secret_key\n" in service
    assert "#LoadCredential=api_token:" in service, "optional secrets are listed, commented out"


def test_credential_option_activates_a_secret(tmp_path, project_env):
    service = (render(tmp_path, project_env, "--credential", "API_TOKEN") / "myapp@.service").read_text()
    assert "\nLoadCredential=api_token:/etc/myapp/credentials/api_token\n" in service


def test_unknown_credential_is_refused(tmp_path, project_env):
    result = subprocess.run(
        [sys.executable, "-m", "tests.testproject", "systemd", "render", "--output", str(tmp_path),
         "--credential", "NOPE"], env=project_env, cwd=REPO, capture_output=True, text=True, timeout=60)
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
    assert exposure(render(tmp_path, project_env)) <= 1.5


def test_switches_relax_one_directive_each(tmp_path, project_env, systemd_analyze):
    strict = exposure(render(tmp_path / "strict", project_env))
    relaxed_dir = render(tmp_path / "relaxed", project_env, "--allow-write-execute", "--full-proc")
    service = (relaxed_dir / "myapp@.service").read_text()
    assert "MemoryDenyWriteExecute" not in service and "ProcSubset" not in service
    relaxed = exposure(relaxed_dir)
    assert strict <= relaxed <= 1.5, (strict, relaxed)
    result = verify(relaxed_dir)
    assert (result.returncode, result.stderr) == (0, "")
