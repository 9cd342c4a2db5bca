"""The README is the front door: it must name what the code does."""

import types

from django_zipserve.conf import ZipserveConfig
from django_zipserve.servers import gunicorn, uwsgi

from tests.helpers import REPO

README = (REPO / "README.rst").read_text()
CONF = types.SimpleNamespace(ZIPSERVE_BIND="x", ZIPSERVE_WORKERS=1, ZIPSERVE_THREADS=1, ZIPSERVE_TIMEOUT=1,
                             ZIPSERVE_NAME="x", WSGI_APPLICATION="x.y")


def test_quickstart_has_the_two_commands():
    quickstart = README.split("Quickstart", 1)[1].split("Install\n", 1)[0]
    assert "make demo" in quickstart and "make test" in quickstart


def test_every_server_default_is_documented():
    for default in uwsgi.defaults(CONF) + gunicorn.defaults(CONF):
        assert f"``{default.option}" in README, default.option


def test_every_configuration_value_is_documented():
    for name in ZipserveConfig.model_fields:
        assert f"``{name}``" in README, name


def test_every_system_check_is_documented():
    from django_zipserve import checks

    for check_id in ("zipserve.E001", "zipserve.E002", "zipserve.E003", "zipserve.W001"):
        assert check_id in README and check_id in checks.__doc__


def test_readme_renders_without_warnings():
    import io

    import docutils.core

    warnings = io.StringIO()
    docutils.core.publish_string(README, writer_name="html",
                                 settings_overrides={"report_level": 2, "warning_stream": warnings})
    assert warnings.getvalue() == ""
