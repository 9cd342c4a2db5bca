"""The static files storage: a real ``collectstatic`` into a temporary
directory, and what it says when a file refers to a missing one."""

import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_zipserve.storage import MissingStaticReference
from tests.helpers import run_project

CHART = "console.log('chart');\n//# sourceMappingURL=chart.js.map\n"


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


def test_a_missing_source_map_names_both_files_and_the_ways_out(django_project, tmp_path, source):
    with pytest.raises(MissingStaticReference) as info:
        collect(tmp_path, source)
    message = str(info.value)
    assert message.startswith(
        "collectstatic: vendor/chart.js refers to vendor/chart.js.map, which is not among"
    )
    assert "add vendor/chart.js.map to the static files" in message
    assert "remove the reference from vendor/chart.js: delete its `//# sourceMappingURL=...` line" in message
    assert 'ZIPSERVE_UNHASHED_REFERENCES = ["vendor/chart.js"]' in message


def test_a_missing_image_in_css_is_named_too(django_project, tmp_path, source):
    (source / "css" / "site.css").write_text("body { background: url('../img/bg.png'); }\n")
    (source / "vendor" / "chart.js.map").write_text("{}")
    with pytest.raises(MissingStaticReference) as info:
        collect(tmp_path, source)
    assert str(info.value).startswith("collectstatic: css/site.css refers to img/bg.png")
    assert "delete or change `url('../img/bg.png')`" in str(info.value)


def test_listed_files_keep_their_references_unhashed(django_project, tmp_path, source):
    root, manifest = collect(tmp_path, source, ZIPSERVE_UNHASHED_REFERENCES=["vendor/*"])
    hashed = manifest["vendor/chart.js"]
    assert hashed != "vendor/chart.js"
    assert "sourceMappingURL=chart.js.map" in (root / hashed).read_text()


def test_a_present_file_is_referenced_by_its_hashed_name(django_project, tmp_path, source):
    (source / "vendor" / "chart.js.map").write_text("{}")
    root, manifest = collect(tmp_path, source)
    hashed_map = manifest["vendor/chart.js.map"].rpartition("/")[2]
    assert f"sourceMappingURL={hashed_map}" in (root / manifest["vendor/chart.js"]).read_text()


def test_the_command_line_shows_one_message_without_a_traceback(project_env, tmp_path, source):
    env = dict(
        project_env,
        TESTPROJECT_STATIC_SOURCE=str(source),
        TESTPROJECT_STATIC_ROOT=str(tmp_path / "collected"),
        DJANGO_SETTINGS_MODULE="tests.testproject.settings_static",
    )
    result = run_project(env, "collectstatic", "--noinput")
    assert result.returncode == 1
    assert (
        "MissingStaticReference: collectstatic: vendor/chart.js refers to vendor/chart.js.map"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "could not be found with <" not in result.stderr


def add_several_missing_references(source):
    (source / "vendor" / "graph.js").write_text("console.log('graph');\n//# sourceMappingURL=graph.js.map\n")
    (source / "css" / "site.css").write_text("body { background: url('../img/bg.png'); }\n")


def test_every_missing_reference_is_reported_in_one_error(django_project, tmp_path, source):
    add_several_missing_references(source)
    with pytest.raises(MissingStaticReference) as info:
        collect(tmp_path, source)
    assert sorted(info.value.references) == [
        ("css/site.css", "img/bg.png", "url('../img/bg.png')"),
        ("vendor/chart.js", "vendor/chart.js.map", "//# sourceMappingURL=chart.js.map"),
        ("vendor/graph.js", "vendor/graph.js.map", "//# sourceMappingURL=graph.js.map"),
    ]
    message = str(info.value)
    assert message.startswith("collectstatic: 3 references to files that are not among the static files")
    assert "  vendor/chart.js -> vendor/chart.js.map (`//# sourceMappingURL=chart.js.map`)" in message
    assert "  vendor/graph.js -> vendor/graph.js.map (`//# sourceMappingURL=graph.js.map`)" in message
    assert "  css/site.css -> img/bg.png (`url('../img/bg.png')`)" in message
    assert message.count("Either") == 1
    assert message.count("ZIPSERVE_UNHASHED_REFERENCES = [") == 1
    for referrer in ("vendor/chart.js", "vendor/graph.js", "css/site.css"):
        assert f'"{referrer}"' in message.rpartition("ZIPSERVE_UNHASHED_REFERENCES = [")[2]


def test_no_manifest_is_written_when_references_are_missing(django_project, tmp_path, source):
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
    assert result.stderr.count("MissingStaticReference: collectstatic: 3 references") == 1, result.stderr
    for line in ("vendor/chart.js -> vendor/chart.js.map", "vendor/graph.js -> vendor/graph.js.map"):
        assert result.stderr.count(line) == 1, result.stderr
    assert result.stderr.count("css/site.css -> img/bg.png") == 1
    assert "Traceback" not in result.stderr
