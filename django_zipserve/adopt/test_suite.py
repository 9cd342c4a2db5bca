"""What a project's pytest suite needs besides the site: the test tools its
development dependencies name (pytest and its plugins, factories, clocks),
which the build installs into the test sidecar, not into the artifact."""

import re
from pathlib import Path

from ..zipapp.pytest_config import pytest_configuration

#: Distributions that only tests use, by canonical name (or prefix, ending in ``-``).
TEST_TOOLS = (
    "pytest",
    "pytest-",
    "factory-boy",
    "model-bakery",
    "faker",
    "freezegun",
    "time-machine",
    "responses",
    "requests-mock",
    "hypothesis",
    "django-test-plus",
    "django-webtest",
    "webtest",
    "mock",
)
#: Where development dependencies are listed, best first.
GROUPS = ("test", "tests", "dev")
REQUIREMENTS_FILES = (
    "requirements/test.txt",
    "requirements-test.txt",
    "requirements/local.txt",
    "requirements-dev.txt",
)
#: The minimum a pytest-django suite needs, when no list names more.
MINIMUM = ("pytest", "pytest-django")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement):
    """The canonical distribution name a requirement starts with, or None."""
    match = NAME.match(requirement)
    return canonical(match.group(1)) if match else None


def is_test_tool(requirement):
    name = requirement_name(requirement)
    if name is None:
        return False
    return any(name.startswith(tool) if tool.endswith("-") else name == tool for tool in TEST_TOOLS)


def pytest_requirements(root, pyproject):
    """``(requirements, where they were found)`` for a project configured
    for pytest, else None."""
    if pytest_configuration(Path(root), pyproject) is None:
        return None
    for listed, where in development_lists(Path(root), pyproject):
        tools = [item for item in listed if is_test_tool(item)]
        if tools:
            return with_minimum(tools), where
    return list(MINIMUM), None


def development_lists(root, pyproject):
    """``(requirements, where)`` of each list of development dependencies."""
    groups = pyproject.get("dependency-groups", {})
    extras = pyproject.get("project", {}).get("optional-dependencies", {})
    for name in GROUPS:
        if isinstance(groups.get(name), list):
            yield [item for item in groups[name] if isinstance(item, str)], f"the {name} dependency group"
        if isinstance(extras.get(name), list):
            yield [item for item in extras[name] if isinstance(item, str)], f"the {name} extra"
    for name in REQUIREMENTS_FILES:
        path = root / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            yield [line.split(" #", 1)[0].strip() for line in lines], name


def with_minimum(tools):
    named = {requirement_name(item) for item in tools}
    return [*(name for name in MINIMUM if name not in named), *tools]
