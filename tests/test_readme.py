"""The README is the front door, and the reference is generated from the code."""

import io
import re
import sys

import docutils.core
import pytest

from tests.helpers import REPO

sys.path.insert(0, str(REPO / "docs"))
import reference  # noqa: E402  (docs/reference.py, the generator)

README = (REPO / "README.rst").read_text()
GUIDES = ["README.rst", "docs/servers.rst", "docs/deployment.rst", "docs/benchmarks.rst", "docs/media.rst"]


def test_quickstart_has_the_two_commands():
    quickstart = README.split("Quickstart", 1)[1].split("Install\n", 1)[0]
    assert "make demo" in quickstart and "make test" in quickstart


def test_readme_links_every_reference_page():
    for name in reference.PAGES:
        assert f"<docs/reference/{name}>`_" in README, name


@pytest.mark.parametrize("guide", GUIDES)
def test_local_links_point_at_files(guide):
    path = REPO / guide
    for target in re.findall(r"<([\w./-]+\.(?:md|rst))>`_", path.read_text()):
        assert (path.parent / target).is_file(), f"{guide} links to a missing {target}"


@pytest.mark.parametrize("guide", GUIDES)
def test_guides_render_without_warnings(guide):
    warnings = io.StringIO()
    docutils.core.publish_string(
        (REPO / guide).read_text(),
        writer="html",
        settings_overrides={"report_level": 2, "warning_stream": warnings},
    )
    assert warnings.getvalue() == ""


def test_generated_reference_is_current():
    assert reference.main(["--check"]) == 0, "run `make docs` and commit docs/reference/"


def test_a_declaration_changed_without_regenerating_is_stale(monkeypatch, capsys):
    from django.core import checks as django_checks

    from django_zipserve import checks

    extra = checks.Check("zipserve.W999", django_checks.Warning, "A check nobody documented.", "None.")
    monkeypatch.setattr(checks, "CHECKS", (*checks.CHECKS, extra))
    assert reference.main(["--check"]) == 1
    assert "docs/reference/checks.md" in capsys.readouterr().err


def test_every_declared_fact_is_in_the_reference():
    from django_zipserve.checks import CHECKS
    from django_zipserve.conf import ZipserveConfig
    from django_zipserve.conf.django_settings import SETTINGS
    from django_zipserve.deploy.systemd import HARDENING
    from django_zipserve.servers import gunicorn, uwsgi
    from django_zipserve.zipapp.settings import BUILD_SETTINGS

    pages = {name: (REPO / "docs" / "reference" / name).read_text() for name in reference.PAGES}
    conf = reference.symbolic_settings()
    expected = {
        "configuration.md": [f"## `{name}`" for name in ZipserveConfig.model_fields],
        "servers.md": [f"`{default.option}`" for default in uwsgi.defaults(conf) + gunicorn.defaults(conf)],
        "checks.md": [f"`{check.id}`" for check in CHECKS],
        "settings.md": [f"`{setting.name}`" for setting in SETTINGS],
        "systemd.md": [f"`{directive.name}={directive.value}`" for directive in HARDENING],
        "build.md": [f"`{setting.flag}`" for setting in BUILD_SETTINGS],
    }
    for page, facts in expected.items():
        for fact in facts:
            assert fact in pages[page], f"{fact} missing from {page}"
