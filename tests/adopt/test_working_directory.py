import shutil

from django_zipserve.adopt.detect import detect
from django_zipserve.adopt.plan import make_plan
from django_zipserve.adopt.working_directory import files_named_relatively
from tests.adopt.util import FIXTURES, PROJECTS, write

MIGRATION = """import csv


def load(apps, schema_editor):
    with open("core/migrations/weights.csv") as rows:
        return list(csv.reader(rows))


TEMPLATE = "core/child_list.html"
URL = "https://example.com/core/migrations/weights.csv"
"""


def test_a_file_named_relative_to_the_project_is_found(tmp_path):
    """Baby Buddy's migrations open their CSV files from the working directory."""
    write(tmp_path / "core" / "__init__.py", "")
    write(tmp_path / "core" / "migrations" / "__init__.py", "")
    write(tmp_path / "core" / "migrations" / "0030_weights.py", MIGRATION)
    write(tmp_path / "core" / "migrations" / "weights.csv", "age,weight\n")
    write(tmp_path / "core" / "templates" / "core" / "child_list.html", "")
    # A front-end's installed packages are not the project's code.
    write(tmp_path / "core" / "node_modules" / "tool" / "setup.py", 'open("core/migrations/weights.csv")\n')
    assert files_named_relatively(tmp_path, tmp_path, ["core"]) == [
        ("core/migrations/0030_weights.py", 5, "core/migrations/weights.csv")
    ]


def test_init_reviews_it(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(PROJECTS / "settings_package", root)
    package = next(path.parent.parent.name for path in root.glob("*/settings/__init__.py"))
    write(root / package / "data.py", f'ROWS = open("{package}/rows.csv").read()\n')
    write(root / package / "rows.csv", "a,b\n")
    review = make_plan(detect(root)).review
    (line,) = [line for line in review if "relative to the project's directory" in line]
    assert line.startswith(f"the code names files relative to the project's directory: '{package}/rows.csv' ")
    assert "Path(__file__).resolve().parent" in line


def test_no_fixture_of_ours_is_reviewed_for_it(tmp_path):
    for name in FIXTURES:
        review = make_plan(detect(PROJECTS / name)).review
        assert not [line for line in review if "relative to the project's directory" in line], name
