"""The README is the front door, and the reference is generated from the code.

The README is a quick start and links, kept short; everything else lives in
the documentation site built from ``docs/`` (``tests/test_docs.py``).
"""

import io
import re
import sys

import docutils.core
import pytest

from tests.helpers import REPO

sys.path.insert(0, str(REPO / "docs"))
import reference  # noqa: E402  (docs/reference.py, the generator)

README = (REPO / "README.rst").read_text()
#: The end of what the documentation site's front page includes (docs/index.rst).
FRONT_PAGE_END = ".. end-of-the-front-page"
GUIDES = sorted(path.name for path in (REPO / "docs").glob("*.rst") if path.name != "index.rst")


def section(title):
    """The text of one section of the README, up to the next title."""
    match = re.search(rf"^{re.escape(title)}\n=+\n(.*?)(?=^\S[^\n]*\n=+\n|\Z)", README, re.S | re.M)
    assert match, f"no section {title!r} in the README"
    return match.group(1)


def test_readme_is_a_quick_start_not_a_manual():
    assert len(README.splitlines()) <= 150


def test_the_two_server_commands_come_first():
    commands = section("The two commands")
    assert "manage.py pyuwsgi" in commands and "manage.py gunicorn" in commands
    assert re.search(r"\./\S+\.pyz pyuwsgi --http", commands)


def test_walkthrough_has_the_two_make_commands():
    walkthrough = section("A five-minute walkthrough")
    assert "make demo" in walkthrough and "make test" in walkthrough
    targets = re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.M)
    for target in re.findall(r"\$ make ([\w-]+)", walkthrough):
        assert target in targets, f"the README runs `make {target}`, which the Makefile lacks"


def test_adopting_takes_three_commands():
    adopting = section("Adopting an existing project")
    commands = re.findall(r"^    \$ (.+)$", adopting, re.M)
    assert len(commands) == 3
    assert "django_zipserve init" in commands[0] and "django_zipserve build" in commands[1]
    assert re.search(r"\.pyz .*pyuwsgi", commands[2])


def test_readme_links_every_reference_page():
    for name in reference.PAGES:
        assert f"<docs/reference/{name}>`_" in README, name


def test_readme_links_every_guide():
    for name in GUIDES:
        assert f"<docs/{name}>`_" in README, name


def test_local_links_point_at_files():
    for target in re.findall(r"<([\w./-]+\.(?:md|rst))>`_", README):
        assert (REPO / target).is_file(), f"README.rst links to a missing {target}"


def test_the_front_page_of_the_site_is_the_readme_without_its_links():
    assert README.count(FRONT_PAGE_END) == 1
    front, links = README.split(FRONT_PAGE_END)
    # Links relative to the repository would be broken on the site.
    assert "`_" not in front
    assert "Documentation\n=====" in links
    assert f":end-before: {FRONT_PAGE_END}" in (REPO / "docs" / "index.rst").read_text()


def test_readme_renders_without_warnings():
    """As PyPI renders it (docutils alone, no Sphinx roles)."""
    warnings = io.StringIO()
    docutils.core.publish_string(
        README, writer="html", settings_overrides={"report_level": 2, "warning_stream": warnings}
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
    from django_zipserve.zipapp.options import BUILD_SETTINGS

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


@pytest.mark.parametrize(
    ("prose", "markdown"),
    [
        ("<package>.__main__:main", "\\<package>.\\_\\_main\\_\\_:main"),
        ('path("media/<path:path>", view)', 'path("media/\\<path:path>", view)'),
        ("`<name>-<version>.pyz` and <name>", "`<name>-<version>.pyz` and \\<name>"),
        ("```python\nx = {'<a>': 1}\n```", "```python\nx = {'<a>': 1}\n```"),
    ],
)
def test_the_reference_shows_angle_brackets_and_dunders_as_written(prose, markdown):
    """Markdown would hide ``<package>`` as an HTML tag, link ``<path:path>``
    and make ``__main__`` bold; code is left alone."""
    assert reference.escape_markup(prose) == markdown
