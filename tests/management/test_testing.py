"""Which settings a pytest suite runs from the artifact."""

import pytest

from django_zipserve.management.testing import project_test_settings, pytest_settings

RUNNING = "config.zipserve_settings"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"addopts": "--ds=config.settings.test --reuse-db"}, "config.settings.test"),
        ({"addopts": "--reuse-db --ds config.settings.test"}, "config.settings.test"),
        ({"DJANGO_SETTINGS_MODULE": "site.test_settings"}, "site.test_settings"),
        ({"addopts": "-q"}, None),
    ],
)
def test_the_settings_a_pytest_configuration_names(options, named):
    assert project_test_settings({"file": "pyproject.toml", "options": options}) == named


def test_given_then_the_projects_then_the_running_ones():
    configuration = {"file": "pytest.ini", "options": {"addopts": "--ds=config.settings.test"}}
    assert pytest_settings(configuration, "site.other", RUNNING) == ("site.other", None)
    assert pytest_settings(configuration, None, RUNNING) == (
        "config.settings.test",
        "its pytest configuration in pytest.ini",
    )
    assert pytest_settings({"file": "pytest.ini", "options": {}}, None, RUNNING) == (RUNNING, None)
