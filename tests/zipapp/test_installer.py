"""The build's installer (django_zipserve/zipapp/installer.py): uv given
pip's configuration, read by the real pip and installed by the real uv."""

import base64
import hashlib
import os
import subprocess
import zipfile

import pytest

from django_zipserve.zipapp import installer

PASSWORD = "s3cret-index-password-7731"


def pip_environment(tmp_path, **variables):
    """No pip configuration but ``variables`` (no file of this machine's)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, **variables)
    return env


def wheel(folder, name, version):
    """A real, minimal wheel of one module, as an index would serve it."""
    folder.mkdir(exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


class TestTranslate:
    def test_each_index_option_becomes_uv_arguments(self):
        arguments, environment, left = installer.translate(
            {
                "index-url": "https://mirror.example/simple",
                "extra-index-url": "https://a.example/simple https://b.example/simple",
                "find-links": "/srv/wheels",
                "constraint": "/etc/constraints.txt",
                "trusted-host": "mirror.example",
                "cert": "/etc/ssl/ca.pem",
                "default-timeout": "60.0",
                "disable-pip-version-check": "1",
            }
        )
        assert left == []
        pairs = list(zip(arguments[::2], arguments[1::2], strict=True))
        assert ("--index-url", "https://mirror.example/simple") in pairs
        assert ("--extra-index-url", "https://a.example/simple") in pairs
        assert ("--extra-index-url", "https://b.example/simple") in pairs
        assert ("--find-links", "/srv/wheels") in pairs
        assert ("--constraint", "/etc/constraints.txt") in pairs
        assert ("--allow-insecure-host", "mirror.example") in pairs
        # pip's resolution across several indexes, so that the same pins resolve.
        assert ("--index-strategy", "unsafe-best-match") in pairs
        assert environment == {"SSL_CERT_FILE": "/etc/ssl/ca.pem", "UV_HTTP_TIMEOUT": "60"}

    def test_an_option_without_equivalent_is_named(self):
        assert installer.translate({"use-feature": "truststore", "no-index": "true"}) == (
            ["--no-index"],
            {},
            ["use-feature"],
        )

    def test_a_value_uv_could_not_read_as_pip_does_is_not_carried_over(self):
        assert installer.translate({"default-timeout": "soon", "find-links": "'/srv/wheels"})[2] == [
            "default-timeout",
            "find-links",
        ]


class TestChoose:
    def test_pip_asked_for(self, tmp_path):
        choice = installer.choose("pip", pip_environment(tmp_path))
        assert (choice.name, choice.reason) == ("pip", "asked for")
        assert choice.command(tmp_path, quiet=True)[1:4] == ["-m", "pip", "install"]

    def test_uv_by_default_with_pips_index_carried_over_and_its_password_never_said(self, tmp_path):
        env = pip_environment(tmp_path, PIP_INDEX_URL=f"https://build:{PASSWORD}@pypi.example/simple")
        choice = installer.choose(None, env)
        assert choice.name == "uv"
        assert choice.reason == "the default; pip's index-url carried over"
        assert f"https://build:{PASSWORD}@pypi.example/simple" in choice.arguments
        assert PASSWORD not in installer.describe(choice)

    def test_pip_when_its_configuration_has_no_uv_equivalent(self, tmp_path):
        env = pip_environment(
            tmp_path, PIP_USE_FEATURE="truststore", PIP_INDEX_URL="https://pypi.example/simple"
        )
        choice = installer.choose(None, env)
        assert choice.name == "pip"
        assert choice.reason == "pip's configuration sets use-feature, which uv has no equivalent for"
        asked = installer.choose("uv", env)
        assert asked.name == "uv"
        assert asked.reason == "asked for; pip's use-feature not carried over"

    def test_a_configuration_file_is_read_as_pip_reads_it(self, tmp_path):
        conf = tmp_path / "pip.conf"
        conf.write_text(
            "[global]\nfind-links = /srv/wheels\n[install]\nconstraint = /etc/c.txt\n[download]\ndest = /x\n"
        )
        choice = installer.choose(None, pip_environment(tmp_path) | {"PIP_CONFIG_FILE": str(conf)})
        assert choice.name == "uv"
        assert choice.arguments[:2] == ["--constraint", "/etc/c.txt"]
        assert "--find-links" in choice.arguments and "/srv/wheels" in choice.arguments
        assert "/x" not in choice.arguments, "a download option is not an install option"


def test_uv_installs_from_where_pip_was_told(tmp_path):
    """pip told to use only a local folder of wheels (no index): uv, given
    the same, installs the pinned version from there, never from PyPI."""
    wheels = tmp_path / "wheels"
    wheel(wheels, "zipserve_probe", "1.0")
    wheel(wheels, "zipserve_probe", "2.0")
    env = pip_environment(tmp_path, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    choice = installer.choose(None, env)
    assert choice.name == "uv", choice.reason
    target = tmp_path / "site"
    command = [*choice.command(target, quiet=True), "zipserve_probe==1.0"]
    subprocess.run([str(part) for part in command], env=choice.env(env), check=True, capture_output=True)
    assert (target / "zipserve_probe.py").read_text() == "VERSION = '1.0'\n"
    # Nothing is compiled at install time: the build compiles reproducibly later.
    assert not list(target.rglob("*.pyc"))


def test_without_the_local_folder_uv_finds_nothing(tmp_path):
    """The same install without pip's configuration fails: the test above
    passed because the configuration was carried over."""
    env = pip_environment(tmp_path, PIP_NO_INDEX="1")
    choice = installer.choose(None, env)
    command = [*choice.command(tmp_path / "site", quiet=True), "zipserve_probe==1.0"]
    result = subprocess.run(
        [str(part) for part in command], env=choice.env(env), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "zipserve-probe" in result.stderr or "zipserve_probe" in result.stderr


@pytest.mark.parametrize("value", ["uv", "pip"])
def test_the_setting_takes_uv_or_pip(value):
    from django_zipserve.zipapp.options import BY_KEY

    assert BY_KEY["installer"].problem(value) is None
    assert BY_KEY["installer"].problem("poetry") == "expected one of 'uv', 'pip', got str 'poetry'"
