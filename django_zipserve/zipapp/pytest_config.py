"""A project's pytest configuration, carried into the artifact.

A project whose tests are a pytest suite (pytest-django, ``conftest.py``
fixtures, bare ``assert`` functions) configures pytest in a file of its
source tree, which the artifact does not hold. The build reads that
configuration where pytest would look for it, in pytest's order, and keeps
its options in the build record; the artifact's ``test`` command then runs
pytest with them against the extraction.
"""

import configparser

#: ``(file, section)`` pytest reads its options from, in the order it looks.
INI_SECTIONS = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)
#: Tables of pyproject.toml: pytest 9's native one, then the ini-style one.
PYPROJECT_TABLES = ("pytest", "pytest.ini_options")
#: Options that mean nothing inside an artifact: the paths are the source tree's.
DROPPED = frozenset({"testpaths", "rootdir", "cache_dir", "norecursedirs"})


def pytest_configuration(project_dir, pyproject):
    """``{"file": where, "options": {name: text}}`` for a project configured
    for pytest, else None."""
    for name, section in INI_SECTIONS[:2]:
        found = ini_options(project_dir / name, section)
        if found is not None:
            return {"file": name, "options": found}
    found = pyproject_options(pyproject)
    if found is not None:
        return {"file": "pyproject.toml", "options": found}
    for name, section in INI_SECTIONS[2:]:
        found = ini_options(project_dir / name, section)
        if found is not None:
            return {"file": name, "options": found}
    return None


def ini_options(path, section):
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # pytest's names are case-sensitive
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_section(section):
        return None
    return kept({key: value.strip() for key, value in parser.items(section)})


def pyproject_options(pyproject):
    tool = pyproject.get("tool", {})
    for table in PYPROJECT_TABLES:
        found = tool
        for part in table.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if isinstance(found, dict) and (table != "pytest" or not set(found) <= {"ini_options"}):
            return kept({key: as_text(key, value) for key, value in found.items() if key != "ini_options"})
    return None


def as_text(key, value):
    """A TOML value as pytest's ini syntax writes it: arguments on one line,
    other lists one item per line."""
    if isinstance(value, list):
        return (" " if key == "addopts" else "\n").join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def kept(options):
    return {key: value for key, value in options.items() if key not in DROPPED}
