"""What a newcomer's trial of init on public projects (bakerydemo,
healthchecks) found: the build must find django-zipserve, and the review
names what the artifact does not serve as the settings expect."""

import json

import pytest

from django_zipserve.adopt import pyproject as pyproject_module
from django_zipserve.adopt.detect import detect
from django_zipserve.adopt.plan import make_plan
from tests.adopt.util import make_project, manage_py

#: installed_from itself, before the autouse fixture replaces it.
INSTALLED_FROM = getattr(pyproject_module, "installed_from", None)


def project(root, settings, **files):
    return make_project(
        root,
        {
            "manage.py": manage_py("site.settings"),
            "site/__init__.py": "",
            "site/settings.py": settings,
            **files,
        },
    )


def pyproject_of(plan):
    import tomlkit

    merged = next(item for item in plan.changes if item.path == "pyproject.toml")
    return tomlkit.parse(merged.new).unwrap()


class FakeDistribution:
    def __init__(self, direct_url):
        self.direct_url = direct_url

    def read_text(self, name):
        assert name == "direct_url.json"
        return None if self.direct_url is None else json.dumps(self.direct_url)


class TestInstalledFrom:
    @pytest.mark.parametrize(
        ("direct_url", "expected"),
        [
            ({"url": "file:///home/me/django-zipserve", "dir_info": {}}, "/home/me/django-zipserve"),
            (
                {"url": "file:///home/me/django-zipserve", "dir_info": {"editable": True}},
                "/home/me/django-zipserve",
            ),
            (
                {"url": "file:///tmp/wheels/django_zipserve-0.1-py3-none-any.whl", "archive_info": {}},
                "/tmp/wheels/django_zipserve-0.1-py3-none-any.whl",
            ),
            (
                {
                    "url": "https://github.com/me/django-zipserve.git",
                    "vcs_info": {"vcs": "git", "commit_id": "abc123"},
                },
                "django-zipserve @ git+https://github.com/me/django-zipserve.git@abc123",
            ),
            (None, None),
        ],
    )
    def test_direct_url(self, monkeypatch, direct_url, expected):
        monkeypatch.setattr(
            pyproject_module.metadata, "distribution", lambda name: FakeDistribution(direct_url)
        )
        assert INSTALLED_FROM() == expected

    def test_a_local_install_is_an_extra_requirement(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "installed_from", lambda: "/home/me/django-zipserve")
        root = project(tmp_path, 'ROOT_URLCONF = "site.urls"\n')
        plan = make_plan(detect(root))
        table = pyproject_of(plan)["tool"]["django-zipserve"]
        assert table["extra-requirements"] == ["/home/me/django-zipserve"]
        assert (
            "django-zipserve is not on PyPI: the build installs it from /home/me/django-zipserve; "
            "change this when it is"
        ) in plan.review

    def test_the_projects_own_extra_requirements_are_kept(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "installed_from", lambda: "/home/me/django-zipserve")
        root = project(tmp_path, 'ROOT_URLCONF = "site.urls"\n')
        (root / "pyproject.toml").write_text('[tool.django-zipserve]\nextra-requirements = ["gunicorn"]\n')
        plan = make_plan(detect(root))
        assert pyproject_of(plan)["tool"]["django-zipserve"]["extra-requirements"] == ["gunicorn"]
        assert not any("not on PyPI" in line for line in plan.review)

    def test_an_index_install_writes_nothing(self, tmp_path):
        plan = make_plan(detect(project(tmp_path, 'ROOT_URLCONF = "site.urls"\n')))
        assert "extra-requirements" not in pyproject_of(plan)["tool"]["django-zipserve"]
        assert not any("not on PyPI" in line for line in plan.review)


class TestReview:
    def test_relative_directories(self, tmp_path):
        root = project(
            tmp_path,
            """from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
              "DIRS": ["bakerydemo/templates", BASE_DIR / "templates"]}]
STATICFILES_DIRS = [("vendor", "site/vendor"), BASE_DIR / "static"]
LOCALE_PATHS = ("/srv/locale",)
FIXTURE_DIRS = []
FIXTURE_DIRS.append("fixtures")
""",
        )
        review = "\n".join(make_plan(detect(root)).review)
        assert (
            "TEMPLATES names 'bakerydemo/templates' (site/settings.py:3), relative to the working "
            "directory: from the artifact it reads the source tree or fails; build it from BASE_DIR"
        ) in review
        assert "STATICFILES_DIRS names 'site/vendor' (site/settings.py:5)" in review
        assert "FIXTURE_DIRS names 'fixtures' (site/settings.py:8)" in review
        assert "'vendor'" not in review and "/srv/locale" not in review
        assert "django.template.backends" not in review

    def test_compressor_offline(self, tmp_path):
        root = project(
            tmp_path,
            'INSTALLED_APPS = ["django.contrib.staticfiles", "compressor"]\nCOMPRESS_OFFLINE = True\n',
        )
        review = make_plan(detect(root)).review
        assert (
            "COMPRESS_OFFLINE is on (site/settings.py:2): add manage-steps = "
            '["collectstatic --noinput", "compress --force"] to [tool.django-zipserve] (compress needs '
            "the collected files; the build runs its own collectstatic afterwards)"
        ) in review
        (root / "site" / "settings.py").write_text("COMPRESS_OFFLINE = False\n")
        assert not any("COMPRESS_OFFLINE" in line for line in make_plan(detect(root)).review)

    def test_files_read_at_import(self, tmp_path):
        root = project(
            tmp_path,
            """import os
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
with open(BASE_DIR / "CHANGELOG.md") as changelog:
    VERSION = changelog.readline()
NOTICE = (BASE_DIR / "NOTICE").read_text()
LEGACY = open(os.path.join(BASE_DIR, "legacy.txt")).read()
TEMPLATES_DIR = open(BASE_DIR / "templates")
""",
            **{"CHANGELOG.md": "1.0\n", "NOTICE": "", "legacy.txt": "", "templates/base.html": ""},
        )
        review = "\n".join(make_plan(detect(root)).review)
        for name, line in (("CHANGELOG.md", 4), ("NOTICE", 6), ("legacy.txt", 7)):
            assert (
                f"the settings read {name} (site/settings.py:{line}) when imported: the artifact has no "
                "such file; list it in data-dirs"
            ) in review
        assert "read templates" not in review

    def test_a_proxy_header_of_the_project(self, tmp_path):
        root = project(tmp_path, 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")\n')
        review = make_plan(detect(root)).review
        assert any(
            line.startswith("SECURE_PROXY_SSL_HEADER is set by the settings (site/settings.py:1)")
            and "TRUST_X_FORWARDED_PROTO" in line
            for line in review
        )


class TestGuardedReads:
    def test_a_variable_tested_then_read_into_a_setting_is_not_declared(self, tmp_path):
        root = project(
            tmp_path,
            """import os
if "DJANGO_SECRET_KEY" in os.environ:
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
if "SITE_TITLE" in os.environ:
    TITLE = os.environ.get("SITE_TITLE")
""",
        )
        plan = make_plan(detect(root))
        assert "DJANGO_SECRET_KEY" not in plan.fields
        assert plan.fields == ("SITE_TITLE",)
        assert any(
            line.startswith("DJANGO_SECRET_KEY (site/settings.py:2) is read into SECRET_KEY")
            for line in plan.review
        )


class TestRequiresPython:
    def python_of(self, tmp_path, requirements=None, **files):
        if requirements is not None:
            files["requirements.txt"] = requirements
        root = project(tmp_path, 'ROOT_URLCONF = "site.urls"\n', **files)
        return pyproject_of(make_plan(detect(root)))["project"]["requires-python"]

    def test_django_6_needs_python_3_12(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "running_python", lambda: (3, 10))
        assert self.python_of(tmp_path, "Django>=6.0,<6.1\npsycopg[binary]\n") == ">=3.12"

    def test_a_lower_python_version_file_is_raised(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "running_python", lambda: (3, 10))
        assert self.python_of(tmp_path, "django==6.0.1\n", **{".python-version": "3.11\n"}) == ">=3.12"

    def test_otherwise_the_running_python(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "running_python", lambda: (3, 13))
        assert self.python_of(tmp_path, "Django>=5.2\n") == ">=3.13"
        monkeypatch.setattr(pyproject_module, "running_python", lambda: (3, 11))
        assert self.python_of(tmp_path / "other", None) == ">=3.11"

    def test_the_projects_own_is_kept(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "running_python", lambda: (3, 13))
        assert self.python_of(tmp_path, "Django>=5.2\n", **{".python-version": "3.11\n"}) == ">=3.11"
