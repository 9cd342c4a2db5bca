"""The static files storage: a real ``collectstatic`` into a temporary
directory, and what it says when a file refers to a missing one."""

import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_zipserve.storage import MissingStaticReference
from tests.helpers import run_project

CHART = "console.log('chart');\n//# sourceMappingURL=chart.js.map\n"
MISSING_IMAGE = "body { background: url('../img/bg.png'); }\n"


@pytest.fixture
def source(tmp_path):
    directory = tmp_path / "source"
    (directory / "vendor").mkdir(parents=True)
    (directory / "vendor" / "chart.js").write_text(CHART)
    (directory / "css").mkdir()
    (directory / "css" / "site.css").write_text("body { color: black; }\n")
    return directory


def collect(tmp_path, source, **overrides):
    root = tmp_path / "collected"
    with override_settings(STATICFILES_DIRS=[str(source)], STATIC_ROOT=str(root), **overrides):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root, json.loads((root / "staticfiles.json").read_text())["paths"]


def test_a_missing_source_map_is_kept_as_written_and_said(django_project, tmp_path, source, capfd):
    """NetBox's vendored graphiql names a map it does not ship: only a
    browser's developer tools ask for it, so the build goes on."""
    root, manifest = collect(tmp_path, source)
    assert "sourceMappingURL=chart.js.map" in (root / manifest["vendor/chart.js"]).read_text()
    assert capfd.readouterr().err == (
        "collectstatic: kept 1 source map reference(s) as written, their maps are not among the static files "
        "(vendor/chart.js -> vendor/chart.js.map): only browsers' developer tools ask for them\n"
    )


def test_a_missing_image_in_css_names_both_files_and_the_ways_out(django_project, tmp_path, source):
    (source / "css" / "site.css").write_text(MISSING_IMAGE)
    (source / "vendor" / "chart.js.map").write_text("{}")
    with pytest.raises(MissingStaticReference) as info:
        collect(tmp_path, source)
    message = str(info.value)
    assert message.startswith("collectstatic: css/site.css refers to img/bg.png, which is not among")
    assert "add img/bg.png to the static files" in message
    assert "remove the reference from css/site.css: delete or change `url('../img/bg.png')`" in message
    assert 'ZIPSERVE_UNHASHED_REFERENCES = ["css/site.css"]' in message


def test_listed_files_keep_their_references_unhashed(django_project, tmp_path, source, capfd):
    (source / "css" / "site.css").write_text(MISSING_IMAGE)
    root, manifest = collect(tmp_path, source, ZIPSERVE_UNHASHED_REFERENCES=["vendor/*", "css/*"])
    hashed = manifest["css/site.css"]
    assert hashed != "css/site.css"
    assert "url('../img/bg.png')" in (root / hashed).read_text()
    assert "sourceMappingURL=chart.js.map" in (root / manifest["vendor/chart.js"]).read_text()
    assert capfd.readouterr().err == "", "listed: nothing to say"


def test_a_present_file_is_referenced_by_its_hashed_name(django_project, tmp_path, source):
    (source / "vendor" / "chart.js.map").write_text("{}")
    root, manifest = collect(tmp_path, source)
    hashed_map = manifest["vendor/chart.js.map"].rpartition("/")[2]
    assert f"sourceMappingURL={hashed_map}" in (root / manifest["vendor/chart.js"]).read_text()


def test_the_command_line_shows_one_message_without_a_traceback(project_env, tmp_path, source):
    (source / "css" / "site.css").write_text(MISSING_IMAGE)
    env = dict(
        project_env,
        TESTPROJECT_STATIC_SOURCE=str(source),
        TESTPROJECT_STATIC_ROOT=str(tmp_path / "collected"),
        DJANGO_SETTINGS_MODULE="tests.testproject.settings_static",
    )
    result = run_project(env, "collectstatic", "--noinput")
    assert result.returncode == 1
    assert "MissingStaticReference: collectstatic: css/site.css refers to img/bg.png" in result.stderr
    # The module the site runs (init's zipserve_settings), not a guess at settings.py.
    assert "ZIPSERVE_UNHASHED_REFERENCES in tests.testproject.settings_static (a list" in result.stderr
    assert "Traceback" not in result.stderr
    assert "could not be found with <" not in result.stderr


def add_several_missing_references(source):
    (source / "vendor" / "graph.js").write_text("console.log('graph');\n//# sourceMappingURL=graph.js.map\n")
    (source / "css" / "site.css").write_text(MISSING_IMAGE)
    (source / "css" / "print.css").write_text("@font-face { src: url('../fonts/print.woff2'); }\n")


def test_every_missing_reference_is_reported_in_one_error(django_project, tmp_path, source, capfd):
    add_several_missing_references(source)
    with pytest.raises(MissingStaticReference) as info:
        collect(tmp_path, source)
    assert sorted(info.value.references) == [
        ("css/print.css", "fonts/print.woff2", "url('../fonts/print.woff2')"),
        ("css/site.css", "img/bg.png", "url('../img/bg.png')"),
    ]
    message = str(info.value)
    assert message.startswith("collectstatic: 2 references to files that are not among the static files")
    assert "  css/print.css -> fonts/print.woff2 (`url('../fonts/print.woff2')`)" in message
    assert "  css/site.css -> img/bg.png (`url('../img/bg.png')`)" in message
    assert message.count("Either") == 1
    assert message.count("ZIPSERVE_UNHASHED_REFERENCES = [") == 1
    for referrer in ("css/print.css", "css/site.css"):
        assert f'"{referrer}"' in message.rpartition("ZIPSERVE_UNHASHED_REFERENCES = [")[2]
    assert "vendor/chart.js" not in message, "source maps are only said"


def test_no_manifest_is_written_when_references_are_missing(django_project, tmp_path, source):
    (source / "css" / "site.css").write_text(MISSING_IMAGE)
    with pytest.raises(MissingStaticReference):
        collect(tmp_path, source)
    assert not (tmp_path / "collected" / "staticfiles.json").exists()


def test_the_command_line_reports_every_missing_reference_once(project_env, tmp_path, source):
    add_several_missing_references(source)
    env = dict(
        project_env,
        TESTPROJECT_STATIC_SOURCE=str(source),
        TESTPROJECT_STATIC_ROOT=str(tmp_path / "collected"),
        DJANGO_SETTINGS_MODULE="tests.testproject.settings_static",
    )
    result = run_project(env, "collectstatic", "--noinput")
    assert result.returncode == 1
    assert result.stderr.count("MissingStaticReference: collectstatic: 2 references") == 1, result.stderr
    for line in ("css/print.css -> fonts/print.woff2", "css/site.css -> img/bg.png"):
        assert result.stderr.count(line) == 1, result.stderr
    assert "Traceback" not in result.stderr
