"""The plan: which files, what the pyproject.toml merge adds and keeps,
which variables become fields, what a human must review."""

import os
import shutil
import subprocess
import sys

import pytest

from django_zipserve.adopt import plan as plan_module
from django_zipserve.adopt import pyproject as pyproject_module
from django_zipserve.adopt import review as review_module
from django_zipserve.adopt.detect import detect, load_toml
from django_zipserve.adopt.plan import make_plan
from django_zipserve.zipapp import options as build_settings
from tests.adopt.util import PROJECTS, make_project, manage_py
from tests.helpers import REPO, TEST_SECRET_KEY, clean_environ

#: src_layout's pyproject.toml as a user would keep it: comments, their own
#: values, other tools' tables, and an include that we leave alone.
COMMENTED = """\
# The blog's packaging: keep this comment.
[build-system]
requires = ["setuptools>=68"]  # pinned on purpose
build-backend = "setuptools.build_meta"

[project]
name = "blog"
version = "0.9.0"
description = "A small blog in a src/ layout."
requires-python = ">=3.11"  # we need 3.11
dependencies = [
    "Django>=4.2",  # LTS
]

[tool.setuptools.packages.find]
where = ["src"]

[tool.ruff]
line-length = 100
"""


def copy(tmp_path, name):
    target = tmp_path / name
    shutil.copytree(PROJECTS / name, target)
    return target


def change(plan, path):
    return next(item for item in plan.changes if item.path == path)


def build_keys(monkeypatch, keys):
    """The build's keys of [tool.django-zipserve] as init sees them: the
    merge writes only these, the review says what the build cannot ship."""
    for module in (pyproject_module, review_module):
        monkeypatch.setattr(module, "BY_KEY", keys)


def pyproject_of(plan):
    import tomlkit

    return tomlkit.parse(change(plan, "pyproject.toml").new).unwrap()


class TestPyprojectMerge:
    def test_comments_and_user_values_are_kept(self, tmp_path):
        root = copy(tmp_path, "src_layout")
        (root / "pyproject.toml").write_text(COMMENTED)
        plan = make_plan(detect(root))
        merged = change(plan, "pyproject.toml")
        assert merged.action == "merge"
        new = merged.new
        for line in COMMENTED.splitlines():
            if line.strip() and line.strip() != "]":
                assert line in new, line
        data = pyproject_of(plan)
        assert data["project"]["requires-python"] == ">=3.11"
        assert data["project"]["version"] == "0.9.0"
        assert data["project"]["dependencies"] == ["Django>=4.2", "django-zipserve"]
        assert data["project"]["scripts"] == {"blog": "blog.__main__:main"}
        assert data["tool"]["setuptools"]["packages"]["find"] == {
            "where": ["src"],
            "include": ["blog", "blog.*"],
        }
        assert "templates/**/*" in data["tool"]["setuptools"]["package-data"]["*"]
        assert data["tool"]["ruff"] == {"line-length": 100}
        assert data["tool"]["django-zipserve"]["settings"] == "blog.zipserve_settings"
        assert merged.detail.startswith("add ")
        assert "[tool.django-zipserve]" in merged.detail

    def test_the_merge_is_done_once(self, tmp_path):
        root = copy(tmp_path, "src_layout")
        (root / "pyproject.toml").write_text(COMMENTED)
        first = change(make_plan(detect(root)), "pyproject.toml")
        (root / "pyproject.toml").write_text(first.new)
        again = change(make_plan(detect(root)), "pyproject.toml")
        assert (again.action, again.new) == ("keep", first.new)

    def test_a_new_pyproject(self, tmp_path, monkeypatch):
        monkeypatch.setattr(pyproject_module, "running_python", lambda: (3, 10))
        data = pyproject_of(make_plan(detect(copy(tmp_path, "catchall"))))
        assert data["build-system"] == {
            "requires": ["setuptools>=68"],
            "build-backend": "setuptools.build_meta",
        }
        assert data["project"] == {
            "name": "catchall",
            "version": "0.1.0",
            "requires-python": ">=3.10",
            "dependencies": ["django-zipserve"],
            "scripts": {"catchall": "config.__main__:main"},
        }
        find = data["tool"]["setuptools"]["packages"]["find"]
        assert find == {"include": ["config", "config.*", "pages", "pages.*", "shop", "shop.*"]}
        zipserve = data["tool"]["django-zipserve"]
        assert zipserve["settings"] == "config.zipserve_settings"
        # The package is not the one the build derives from the name, nor is the artifact's name.
        assert (zipserve["package"], zipserve["output-name"]) == ("config", "catchall")
        assert zipserve["requirements"] == "requirements.txt"

    def test_the_version_follows_the_package(self, tmp_path):
        data = pyproject_of(make_plan(detect(copy(tmp_path, "settings_package"))))
        assert "version" not in data["project"]
        assert data["project"]["dynamic"] == ["version"]
        assert data["tool"]["setuptools"]["dynamic"] == {"version": {"attr": "mysite.__version__"}}
        assert "package" not in data["tool"]["django-zipserve"]

    def test_only_keys_the_build_declares(self, tmp_path, monkeypatch):
        root = copy(tmp_path, "catchall")
        data = pyproject_of(make_plan(detect(root)))
        declared = "data-dirs" in build_settings.BY_KEY
        assert ("data-dirs" in data["tool"]["django-zipserve"]) is declared
        if declared:
            assert data["tool"]["django-zipserve"]["data-dirs"] == ["templates", "static"]
        keys = {key: value for key, value in build_settings.BY_KEY.items() if key != "requirements"}
        build_keys(monkeypatch, keys)
        data = pyproject_of(make_plan(detect(root)))
        assert "requirements" not in data["tool"]["django-zipserve"]

    def test_data_dirs_when_the_build_declares_them(self, tmp_path, monkeypatch):
        setting = build_settings.BuildSetting("data-dirs", "--data-dir", "none", "Directories.", kind="list")
        build_keys(monkeypatch, {**build_settings.BY_KEY, "data-dirs": setting})
        plan = make_plan(detect(copy(tmp_path, "catchall")))
        assert pyproject_of(plan)["tool"]["django-zipserve"]["data-dirs"] == ["templates", "static"]
        assert not any("no data-dirs setting" in line for line in plan.review)

    def test_data_dirs_the_build_cannot_ship_are_reviewed(self, tmp_path, monkeypatch):
        keys = {key: value for key, value in build_settings.BY_KEY.items() if key != "data-dirs"}
        build_keys(monkeypatch, keys)
        plan = make_plan(detect(copy(tmp_path, "catchall")))
        assert "data-dirs" not in pyproject_of(plan)["tool"]["django-zipserve"]
        assert any(line.startswith("templates, static outside the packages") for line in plan.review)

    def test_user_values_win_and_are_reviewed(self, tmp_path):
        root = copy(tmp_path, "catchall")
        (root / "pyproject.toml").write_text(
            '[project]\nname = "shopsite"\nversion = "3"\ndependencies = ["django-zipserve>=0.1"]\n\n'
            '[project.scripts]\nshopsite = "config.cli:run"\n\n'
            '[tool.setuptools.packages.find]\ninclude = ["config*", "pages*"]\n\n'
            '[tool.setuptools.package-data]\n"*" = ["static/**/*"]\n\n'
            '[tool.django-zipserve]\nsettings = "config.settings"\n'
        )
        plan = make_plan(detect(root))
        data = pyproject_of(plan)
        assert data["project"]["dependencies"] == ["django-zipserve>=0.1"]
        assert data["project"]["scripts"] == {"shopsite": "config.cli:run"}
        assert data["tool"]["setuptools"]["packages"]["find"]["include"] == ["config*", "pages*"]
        assert data["tool"]["setuptools"]["package-data"]["*"] == ["static/**/*"]
        assert data["tool"]["django-zipserve"]["settings"] == "config.settings"
        assert data["tool"]["django-zipserve"]["output-name"] == "shopsite"
        review = "\n".join(plan.review)
        assert "[project.scripts] shopsite runs config.cli:run, not config.__main__:main" in review
        assert '[tool.setuptools.packages.find] include leaves out shop: add "shop", "shop.*"' in review
        assert '"*" does not ship templates/**/*' in review
        assert (
            "[tool.django-zipserve] settings is config.settings, not config.zipserve_settings: kept" in review
        )

    def test_another_build_backend_gets_no_setuptools_tables(self, tmp_path):
        root = copy(tmp_path, "many_apps")
        (root / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
            '[project]\nname = "hc"\nversion = "1"\n'
        )
        plan = make_plan(detect(root))
        data = pyproject_of(plan)
        assert "setuptools" not in data.get("tool", {})
        assert data["tool"]["django-zipserve"]["settings"] == "hc.zipserve_settings"
        assert any(line.startswith("pyproject.toml builds with hatchling.build") for line in plan.review)

    def test_an_unreadable_pyproject_is_one_error(self, tmp_path):
        from django_zipserve.adopt import AdoptError

        root = copy(tmp_path, "catchall")
        (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
        layout = detect(root)
        (root / "pyproject.toml").write_text("[project\n")
        with pytest.raises(AdoptError, match="cannot read .*pyproject.toml"):
            make_plan(layout)


class TestVariables:
    def test_many_apps(self, tmp_path):
        plan = make_plan(detect(copy(tmp_path, "many_apps")))
        # Base fields are exported, not declared again; DB_NAME goes into DATABASES, which
        # the configuration's DATABASE_URL sets.
        assert plan.environment == (
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "SITE_NAME",
            "SITE_ROOT",
            "REGISTRATION_OPEN",
            "PING_EMAIL_DOMAIN",
            "EMAIL_HOST_PASSWORD",
        )
        assert plan.fields == (
            "SITE_NAME",
            "SITE_ROOT",
            "REGISTRATION_OPEN",
            "PING_EMAIL_DOMAIN",
            "EMAIL_HOST_PASSWORD",
        )
        assert any(
            line.startswith("DB_NAME (hc/settings.py:46) is read into DATABASES") for line in plan.review
        )
        text = change(plan, "hc/zipserve_settings.py").new
        assert "EMAIL_HOST_PASSWORD: SecretStr | None" in text
        assert "SITE_NAME: str | None" in text
        assert "SECRET_KEY:" not in text and "DB_NAME" not in text

    def test_a_name_that_cannot_be_a_field(self, tmp_path):
        root = make_project(
            tmp_path,
            {
                "manage.py": manage_py("site.settings"),
                "site/__init__.py": "",
                "site/settings.py": (
                    'import os\nA = os.getenv("my-var")\nB = os.getenv("_PRIVATE")\nC = os.getenv("OK")\n'
                ),
            },
        )
        plan = make_plan(detect(root))
        assert plan.fields == ("OK",)
        assert any(
            line.startswith("my-var (site/settings.py:2) cannot be a configuration field")
            for line in plan.review
        )
        assert any(line.startswith("_PRIVATE (site/settings.py:3) cannot be") for line in plan.review)

    def test_what_the_configuration_replaces_is_not_declared(self, tmp_path):
        root = make_project(
            tmp_path,
            {
                "manage.py": manage_py("site.settings"),
                "site/__init__.py": "",
                "site/settings.py": """import os
DATABASES = {
    "default": {"NAME": os.getenv("DB_NAME"), "OPTIONS": {"sslmode": os.getenv("PGSSLMODE")}},
    "replica": {"HOST": os.getenv("REPLICA_HOST")},
}
DATABASES["default"]["USER"] = os.environ["DB_USER"]
MEDIA_ROOT = os.environ["MEDIA_DIR"]
DEBUG = os.getenv("DJANGO_DEBUG") == "1"
SITE = os.getenv("DJANGO_DEBUG")
""",
            },
        )
        plan = make_plan(detect(root))
        # The default connection comes from DATABASE_URL, MEDIA_ROOT from STATE_DIR; the
        # options, another alias, and a variable also read into a setting of the project stay.
        assert plan.fields == ("PGSSLMODE", "REPLICA_HOST", "DJANGO_DEBUG")
        review = "\n".join(plan.review)
        assert (
            "DB_NAME (site/settings.py:3) is read into DATABASES, which config.apply() sets from the "
            in review
        )
        assert "configuration (DATABASE_URL): give that instead (not declared)" in review
        assert "DB_USER (site/settings.py:6) is read into DATABASES" in review
        assert (
            "MEDIA_DIR (site/settings.py:7) is read into MEDIA_ROOT, which config.apply() sets from the "
            in review
        )


class TestFiles:
    def test_the_four_files(self, tmp_path):
        plan = make_plan(detect(copy(tmp_path, "src_layout")))
        assert [(item.path, item.action) for item in plan.changes] == [
            ("src/blog/__main__.py", "create"),
            ("src/blog/zipserve_settings.py", "create"),
            ("src/blog/zipserve_urls.py", "create"),
            ("pyproject.toml", "merge"),
        ]
        assert plan.settings == "blog.zipserve_settings"

    def test_the_projects_own_main_module_stays_and_ours_goes_beside_it(self, tmp_path):
        """NetBox's netbox/__main__.py is its own command line."""
        root = copy(tmp_path, "catchall")
        (root / "config" / "__main__.py").write_text("print('mine')\n")
        plan = make_plan(detect(root))
        assert not [item for item in plan.changes if str(item.path) == "config/__main__.py"]
        ours = change(plan, "config/zipserve_main.py")
        assert ours.action == "create" and "make_main('config.zipserve_settings')" in ours.new.replace(
            '"', "'"
        )
        pyproject = pyproject_of(plan)
        assert pyproject["tool"]["django-zipserve"]["entry-point"] == "config.zipserve_main:main"
        assert "config.zipserve_main:main" in pyproject["project"]["scripts"].values()
        assert any(
            line.startswith(
                "config/__main__.py is the project's own command line: the artifact's entry point"
            )
            for line in plan.review
        )
        forced = change(make_plan(detect(root), force=True), "config/__main__.py")
        assert forced.action == "overwrite"
        assert "make_main" in forced.new

    def test_a_urlconf_with_the_health_view_is_not_wrapped(self, tmp_path):
        root = make_project(
            tmp_path,
            {
                "manage.py": manage_py("site.settings"),
                "site/__init__.py": "",
                "site/settings.py": 'ROOT_URLCONF = "site.urls"\n',
                "site/urls.py": (
                    "from django.urls import include, path\n"
                    'urlpatterns = [path("", include("django_zipserve.urls"))]\n'
                ),
            },
        )
        plan = make_plan(detect(root))
        assert "site/zipserve_urls.py" not in [item.path for item in plan.changes]
        assert "ROOT_URLCONF" not in change(plan, "site/zipserve_settings.py").new
        assert any("already includes django_zipserve.urls" in line for line in plan.review)

    def test_a_project_adopted_by_hand_keeps_its_settings(self, tmp_path):
        from tests.helpers import REPO

        root = tmp_path / "example_project"
        shutil.copytree(REPO / "example_project", root, ignore=shutil.ignore_patterns("*.egg-info"))
        plan = make_plan(detect(root, "example_project.settings"))
        assert [(item.path, item.action) for item in plan.changes] == [
            ("example_project/__main__.py", "keep"),
            ("pyproject.toml", "merge"),
        ]
        assert plan.settings == "example_project.settings"
        assert (
            load_toml(root / "pyproject.toml")["project"]["scripts"]
            == pyproject_of(plan)["project"]["scripts"]
        )


class TestReview:
    def test_a_build_step(self, tmp_path):
        review = make_plan(detect(copy(tmp_path, "many_apps"))).review
        assert (
            "templates use static files that are not in the source: front/bundle.css "
            "(hc/front/templates/front/welcome.html); a build step must write them: manage-steps "
            "(the project's commands: bundle) or shell-steps in [tool.django-zipserve]"
        ) in review

    def test_requirements_for_another_platform(self, tmp_path):
        root = copy(tmp_path, "many_apps")
        (root / "requirements.txt").write_text("Django>=4.2\nuWSGI==2.0.28  # for Docker\npsycopg2>=2.9\n")
        review = "\n".join(make_plan(detect(root)).review)
        assert "requirements.txt names uwsgi, which compiles at build time" in review
        assert "names a database driver that compiles at build time" in review

    def test_other_lock_files_are_to_be_exported(self, tmp_path):
        root = copy(tmp_path, "src_layout")
        (root / "poetry.lock").write_text("")
        review = make_plan(detect(root)).review
        assert (
            "poetry.lock: export it for the build: "
            "poetry export --only main --without-hashes -f requirements.txt -o requirements.lock" in review
        )

    def test_a_newer_python(self, tmp_path):
        root = copy(tmp_path, "catchall")
        (root / ".python-version").write_text("3.13\n")
        plan = make_plan(detect(root))
        assert pyproject_of(plan)["project"]["requires-python"] == ">=3.13"
        assert any(
            line.startswith(".python-version asks for Python 3.13: build with that Python")
            for line in plan.review
        )


class TestRequiredAtImport:
    """Settings that demand variables when they are imported (django-environ's
    ``env("DJANGO_ADMIN_URL")`` with no default, ``os.environ["X"]``), as
    cookiecutter-django's production settings do: the build and the
    describing commands work without them, and a real start names what is
    missing in one line."""

    SETTINGS = (
        "import os\n"
        "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n"
        "ADMIN_URL = os.environ['DJANGO_ADMIN_URL']\n"
        "SITE = os.environ.get('SITE', 'shop')\n"
        "INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth']\n"
        "ROOT_URLCONF = 'shop.urls'\n"
    )

    @pytest.fixture
    def adopted(self, tmp_path):
        root = make_project(
            tmp_path / "shop",
            {
                "manage.py": manage_py("shop.settings"),
                "shop/__init__.py": "",
                "shop/settings.py": self.SETTINGS,
                "shop/urls.py": "urlpatterns = []\n",
            },
        )
        plan = make_plan(detect(root))
        text = change(plan, "shop/zipserve_settings.py").new
        (root / "shop" / "zipserve_settings.py").write_text(text)
        return root, text

    def settings_of(self, root, tmp_path, **environ):
        code = "from django.conf import settings; print(settings.ADMIN_URL, settings.SECRET_KEY)"
        env = clean_environ(
            PYTHONPATH=os.pathsep.join([str(root), str(REPO)]),
            DJANGO_SETTINGS_MODULE="shop.zipserve_settings",
            HOME=str(tmp_path),
            STATE_DIR=str(tmp_path / "state"),
            **environ,
        )
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )

    def test_init_declares_stand_ins(self, adopted):
        _, text = adopted
        assert 'placeholders = {"DJANGO_SECRET_KEY": "zipserve-stand-in"}' in text
        assert 'build_values = {"DJANGO_ADMIN_URL": "zipserve-stand-in"}' in text

    def test_the_build_imports_them_with_stand_ins(self, adopted, tmp_path):
        result = self.settings_of(adopted[0], tmp_path, DJANGO_ZIPSERVE_BUILD="1")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[0] == "zipserve-stand-in"

    def test_a_real_start_without_a_required_value_is_one_line(self, adopted, tmp_path):
        result = self.settings_of(adopted[0], tmp_path, SECRET_KEY=TEST_SECRET_KEY)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines() == [
            "shop: invalid configuration (1 problem):",
            "  - DJANGO_ADMIN_URL: required: the project's settings read it when they are "
            "imported, with no default; set it in the configuration file or the environment",
        ]

    def test_a_real_start_reads_the_value_and_the_configurations_secret_key(self, adopted, tmp_path):
        result = self.settings_of(adopted[0], tmp_path, SECRET_KEY=TEST_SECRET_KEY, DJANGO_ADMIN_URL="staff/")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["staff/", TEST_SECRET_KEY]


def test_a_project_name_that_would_replace_the_configuration_is_refused(tmp_path):
    root = copy(tmp_path, "catchall")
    settings = root / "config" / "settings.py"
    settings.write_text(settings.read_text() + "\nzipserve_config = {'ENGINE': 'sqlite3'}\n")
    with pytest.raises(plan_module.AdoptError) as error:
        make_plan(detect(root))
    assert str(error.value).startswith("config/settings.py:")
    assert "defines zipserve_config, the name the generated settings give" in str(error.value)


def test_a_stand_in_suits_the_read_that_requires_the_variable(tmp_path):
    """A variable read first with a default, then with env.db() and none:
    the stand-in must be a database URL."""
    settings = (
        "import os\nimport environ\nenv = environ.Env()\n"
        "CONFIGURED = bool(os.getenv('DATABASE_URL', default=None))\n"
        "DATABASES = {'default': env.db('DATABASE_URL')}\n"
        "CACHE_TIMEOUT = env.int('CACHE_TIMEOUT')\n"
        "ROOT_URLCONF = 'shop.urls'\n"
    )
    root = make_project(
        tmp_path / "shop",
        {"manage.py": manage_py("shop.settings"), "shop/__init__.py": "", "shop/settings.py": settings},
    )
    text = change(make_plan(detect(root)), "shop/zipserve_settings.py").new
    assert "'DATABASE_URL': 'sqlite://:memory:'" in text.replace('"', "'")
    assert "'CACHE_TIMEOUT': '0'" in text.replace('"', "'")


def test_the_projects_test_settings_are_named_once(tmp_path):
    """Baby Buddy's babybuddy/settings/test.py: the artifact's test runs the
    production settings unless told."""
    root = copy(tmp_path, "settings_package")
    (root / "mysite" / "settings" / "test.py").write_text("from .base import *  # noqa: F403\n")
    review = make_plan(detect(root)).review
    assert (
        "mysite.settings.test looks like the project's test settings: the artifact runs its tests with them "
        "as 'test --settings mysite.settings.test' (without it, with the production ones)" in review
    )


def test_a_release_tags_version_is_written_as_it_is(tmp_path):
    root = copy(tmp_path, "catchall")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "release"], ["tag", "v2.5.1"]):
        subprocess.run([*git, *command], check=True, timeout=60)
    project = pyproject_of(make_plan(detect(root)))["project"]
    assert project["version"] == "2.5.1"
    assert "version" not in project.get("dynamic", [])
