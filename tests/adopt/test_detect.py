"""Detection: the four test projects, then layouts of our own."""

import subprocess

import pytest

from django_zipserve.adopt import AdoptError
from django_zipserve.adopt.detect import detect
from tests.adopt.util import PROJECTS, make_project, manage_py


def names(layout):
    return [variable.name for variable in layout.variables]


class TestTheFourProjects:
    def test_settings_package(self):
        layout = detect(PROJECTS / "settings_package")
        assert layout.settings == "mysite.settings.production"
        assert layout.settings_origin == "manage.py"
        assert layout.package == "mysite"
        assert not layout.src
        assert layout.packages == ("mysite",)
        assert layout.package_dirs == ("mysite/pages/templates", "mysite/static", "mysite/templates")
        assert layout.data_dirs == ()  # DIRS is BASE_DIR / "mysite" / "templates": inside the package
        assert [path.name for path in layout.source.files] == ["production.py", "base.py"]
        assert layout.root_urlconf == "mysite.urls"
        assert layout.wsgi_application == "mysite.wsgi.application"
        assert layout.requirements == "requirements.txt"
        assert (layout.version, layout.version_origin) == ("2.3.0", "mysite.__version__")
        assert layout.distribution == "mysite"
        assert names(layout) == ["DJANGO_SECRET_KEY"]
        assert layout.variables[0].secret
        assert layout.variables[0].setting == "SECRET_KEY"

    def test_catchall(self):
        layout = detect(PROJECTS / "catchall")
        assert layout.settings == "config.settings"
        assert layout.package == "config"
        assert layout.packages == ("config", "pages", "shop")
        assert layout.package_dirs == ()
        # TEMPLATES and STATICFILES_DIRS name them; MEDIA_ROOT (media/) is not shipped.
        assert layout.data_dirs == ("templates", "static")
        assert layout.root_urlconf == "config.urls"
        assert not layout.urlconf_has_health
        # "config" names no project: the directory does.
        assert layout.distribution == "catchall"
        assert layout.version is None
        assert names(layout) == []

    def test_many_apps(self):
        layout = detect(PROJECTS / "many_apps")
        assert layout.settings == "hc.settings"
        assert layout.packages == ("hc",)
        assert layout.package_dirs == ("hc/accounts/templates", "hc/front/static", "hc/front/templates")
        assert layout.data_dirs == ()
        assert names(layout) == [
            "SECRET_KEY",
            "DEBUG",
            "ALLOWED_HOSTS",
            "SITE_NAME",
            "SITE_ROOT",
            "REGISTRATION_OPEN",
            "PING_EMAIL_DOMAIN",
            "EMAIL_HOST_PASSWORD",
            "DB_NAME",
        ]
        secret = {variable.name for variable in layout.variables if variable.secret}
        assert secret == {"SECRET_KEY", "EMAIL_HOST_PASSWORD"}
        by_name = {variable.name: variable for variable in layout.variables}
        assert by_name["REGISTRATION_OPEN"].reader == "envbool"  # the settings' own helper
        assert by_name["DB_NAME"].setting == "DATABASES"
        assert by_name["DB_NAME"].key == ("default", "NAME")
        assert layout.requirements == "requirements.txt"
        # The bundle command writes front/bundle.css, which the templates use.
        assert layout.missing_static == (("front/bundle.css", "hc/front/templates/front/welcome.html"),)
        assert layout.commands == ("bundle",)

    def test_src_layout(self):
        layout = detect(PROJECTS / "src_layout")
        assert layout.settings == "blog.settings"
        assert layout.src
        assert layout.packages == ("blog",)
        assert layout.package_dir == PROJECTS / "src_layout" / "src" / "blog"
        assert layout.data_dirs == ("templates",)
        assert layout.requirements is None
        assert (layout.python, layout.python_origin) == (">=3.10", "pyproject.toml")
        assert (layout.version, layout.version_origin) == ("0.9.0", "pyproject.toml")
        assert layout.distribution == "blog"

    @pytest.mark.parametrize("name", ["settings_package", "catchall", "many_apps", "src_layout"])
    def test_none_is_adopted_already(self, name):
        layout = detect(PROJECTS / name)
        assert not layout.configured
        assert not layout.has_zipserve_app

    @pytest.mark.parametrize("name", ["settings_package", "catchall", "src_layout"])
    def test_static_files_in_the_source(self, name):
        assert detect(PROJECTS / name).missing_static == ()


def settings_files(tmp_path, files):
    return make_project(tmp_path, {"manage.py": manage_py("site.settings"), "site/__init__.py": "", **files})


class TestLayouts:
    def test_the_settings_wsgi_serves_win_over_manage_pys(self, tmp_path):
        root = make_project(
            tmp_path,
            {
                "manage.py": manage_py("config.settings.local"),
                "config/__init__.py": "",
                "config/settings/__init__.py": "",
                "config/settings/base.py": 'WSGI_APPLICATION = "config.wsgi.application"\n',
                "config/settings/local.py": "from .base import *\nDEBUG = True\n",
                "config/settings/production.py": "from .base import *\n",
                "config/wsgi.py": (
                    "import os\n"
                    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")\n'
                ),
            },
        )
        layout = detect(root)
        assert layout.settings == "config.settings.production"
        assert layout.settings_origin == "config/wsgi.py"

    def test_given_settings_win(self, tmp_path):
        root = settings_files(tmp_path, {"site/settings.py": "", "site/other.py": ""})
        assert detect(root, "site.other").settings == "site.other"

    def test_packages_tests_and_docs_are_not_shipped(self, tmp_path):
        root = settings_files(
            tmp_path,
            {
                "site/settings.py": "",
                "blog/__init__.py": "",
                "blog/templates/blog/post.html": "",
                "blog/static/blog/blog.css": "",
                "blog/locale/fr/LC_MESSAGES/django.po": "",
                "blog/fixtures/posts.json": "[]",
                "blog/templates/static/not-a-static-dir.txt": "",
                "tests/__init__.py": "",
                ".hidden/__init__.py": "",
                "scripts/run.py": "",
            },
        )
        layout = detect(root)
        assert layout.packages == ("blog", "site")
        assert layout.skipped == ("tests",)
        assert layout.package_dirs == (
            "blog/fixtures",
            "blog/locale",
            "blog/static",
            "blog/templates",
        )

    def test_a_directory_of_another_name_in_a_package_becomes_package_data(self, tmp_path):
        root = settings_files(
            tmp_path,
            {
                "site/settings.py": (
                    "from pathlib import Path\n"
                    'STATICFILES_DIRS = [Path(__file__).parent / "assets" / "dist"]\n'
                ),
                "site/assets/dist/app.js": "",
            },
        )
        assert detect(root).extra_package_data == (("site", "assets/dist/**/*"),)

    def test_root_level_directories(self, tmp_path):
        root = settings_files(
            tmp_path,
            {
                "site/settings.py": (
                    "from pathlib import Path\n"
                    "BASE_DIR = Path(__file__).resolve().parent.parent\n"
                    'TEMPLATES = [{"DIRS": [BASE_DIR / "frontend" / "templates"]}]\n'
                    'STATIC_ROOT = BASE_DIR / "static"\n'
                    'MEDIA_ROOT = BASE_DIR / "media"\n'
                    'LOCALE_PATHS = [BASE_DIR / "missing"]\n'
                ),
                "frontend/templates/base.html": "",
                "static/collected.css": "",  # STATIC_ROOT: collectstatic's output, not shipped
                "media/upload.png": "",
                "locale/fr/LC_MESSAGES/django.po": "",  # named by no setting, shipped all the same
            },
        )
        assert detect(root).data_dirs == ("frontend/templates", "locale")

    def test_static_files_a_build_step_writes(self, tmp_path):
        root = settings_files(
            tmp_path,
            {
                "site/settings.py": "",
                "site/management/commands/compress_assets.py": "",
                "site/management/commands/_private.py": "",
                "site/static/site/app.css": "",
                "site/templates/base.html": (
                    "{% load static %}"
                    '<link href="{% static "site/app.css" %}">'
                    "<link href=\"{% static 'site/app.min.css' %}\">"
                    '<link href="{% static "admin/css/base.css" %}">'  # Django's: not judged
                    '<script src="{% static "site/js/" %}{{ name }}"></script>'  # a prefix
                ),
            },
        )
        layout = detect(root)
        assert layout.missing_static == (("site/app.min.css", "site/templates/base.html"),)
        assert layout.commands == ("compress_assets",)

    def test_src_layout_without_a_pyproject(self, tmp_path):
        root = make_project(
            tmp_path,
            {
                "manage.py": manage_py("site.settings"),
                "src/site/__init__.py": "",
                "src/site/settings.py": "",
                "src/app/__init__.py": "",
            },
        )
        layout = detect(root)
        assert layout.src
        assert layout.packages == ("app", "site")

    @pytest.mark.parametrize(
        ("files", "python", "origin"),
        [
            ({".python-version": "3.12.4\n"}, ">=3.12", ".python-version"),
            ({".python-version": "3.13\n", "runtime.txt": "python-3.11.9"}, ">=3.13", ".python-version"),
            ({"runtime.txt": "python-3.11.9\n"}, ">=3.11", "runtime.txt"),
            ({".python-version": "system\n"}, None, None),
            ({}, None, None),
        ],
    )
    def test_python(self, tmp_path, files, python, origin):
        layout = detect(settings_files(tmp_path, {"site/settings.py": "", **files}))
        assert (layout.python, layout.python_origin) == (python, origin)

    @pytest.mark.parametrize(
        ("files", "requirements", "others"),
        [
            ({"requirements.txt": "", "requirements.lock": ""}, "requirements.lock", ()),
            (
                {"requirements/production.txt": "", "requirements/base.txt": ""},
                "requirements/production.txt",
                (),
            ),
            ({"requirements/base.txt": ""}, "requirements/base.txt", ()),
            ({"poetry.lock": "", "pdm.lock": ""}, None, ("poetry.lock", "pdm.lock")),
            ({"uv.lock": "", "requirements.txt": ""}, "uv.lock", ()),
        ],
    )
    def test_requirements(self, tmp_path, files, requirements, others):
        layout = detect(settings_files(tmp_path, {"site/settings.py": "", **files}))
        assert (layout.requirements, layout.other_lock_files) == (requirements, others)

    @pytest.mark.parametrize("repository_above", [True, False])
    def test_requirements_at_the_top_of_the_repository(self, tmp_path, repository_above):
        """NetBox keeps manage.py in netbox/ and requirements.txt above it."""
        (tmp_path / "requirements.txt").write_text("Django\n")
        if repository_above:
            (tmp_path / ".git").mkdir()
        layout = detect(settings_files(tmp_path / "netbox", {"site/settings.py": ""}))
        assert layout.requirements == ("../requirements.txt" if repository_above else None)

    def test_urlconf_facts(self, tmp_path):
        root = settings_files(
            tmp_path,
            {
                "site/settings.py": 'ROOT_URLCONF = "site.urls"\nINSTALLED_APPS = ["django_zipserve"]\n',
                "site/urls.py": (
                    "from django.urls import include, path\n"
                    "from site.views import handler500\n"
                    'handler404 = "site.views.not_found"\n'
                    'urlpatterns = [path("", include("django_zipserve.urls"))]\n'
                ),
                "site/asgi.py": "application = object()\n",
            },
        )
        layout = detect(root)
        assert layout.urlconf_has_health
        assert layout.urlconf_handlers == ("handler500", "handler404")
        assert layout.has_zipserve_app
        assert layout.asgi_application == "site.asgi.application"

    def test_a_project_adopted_by_hand(self):
        from tests.helpers import REPO

        layout = detect(REPO / "example_project", "example_project.settings")
        assert layout.configured
        assert layout.urlconf_has_health
        assert layout.has_zipserve_app


class TestWhatCannotBeAdopted:
    def test_no_manage_py(self, tmp_path):
        with pytest.raises(AdoptError, match="no manage.py in .*pass --settings MODULE"):
            detect(tmp_path)

    def test_manage_py_without_a_settings_module(self, tmp_path):
        (tmp_path / "manage.py").write_text(
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', NAME)\n"
        )
        with pytest.raises(AdoptError, match="manage.py does not set DJANGO_SETTINGS_MODULE") as raised:
            detect(tmp_path)
        assert "settings modules here" not in str(raised.value)

    def test_manage_py_without_a_settings_module_names_those_it_could_be(self, tmp_path):
        """Baby Buddy's manage.py loads a .env file and names no settings:
        the message lists the settings modules there are to choose from."""
        (tmp_path / "manage.py").write_text("from dotenv import load_dotenv\nload_dotenv()\n")
        settings = tmp_path / "babybuddy" / "settings"
        settings.mkdir(parents=True)
        for name in ("__init__", "base", "development", "test", "clever-cloud", "production.example"):
            (settings / f"{name}.py").write_text("")
        (tmp_path / "babybuddy" / "__init__.py").write_text("")
        with pytest.raises(AdoptError) as raised:
            detect(tmp_path)
        assert str(raised.value).endswith(
            "pass --settings MODULE, the settings the site runs with in production (settings modules here: "
            "babybuddy.settings.base, babybuddy.settings.development, babybuddy.settings.test)"
        )

    def test_settings_not_found(self, tmp_path):
        make_project(tmp_path, {"manage.py": manage_py("nowhere.settings")})
        with pytest.raises(
            AdoptError, match=r"settings module nowhere.settings \(named by manage.py\) not found"
        ):
            detect(tmp_path)

    def test_given_settings_not_found(self, tmp_path):
        with pytest.raises(AdoptError, match="settings module nowhere.settings not found"):
            detect(tmp_path, "nowhere.settings")

    def test_settings_outside_a_package(self, tmp_path):
        make_project(tmp_path, {"manage.py": manage_py("settings"), "settings.py": ""})
        with pytest.raises(AdoptError, match="not in a package"):
            detect(tmp_path)

    def test_a_broken_pyproject(self, tmp_path):
        settings_files(tmp_path, {"site/settings.py": "", "pyproject.toml": "[project\n"})
        with pytest.raises(AdoptError, match="cannot read .*pyproject.toml"):
            detect(tmp_path)


@pytest.mark.parametrize(("tag", "version"), [("v4.6.8", "4.6.8"), ("2.0rc1", "2.0rc1"), ("nightly", None)])
def test_the_version_of_a_checkout_at_a_release_tag(tmp_path, tag, version):
    """NetBox computes its version in a build hook: its checkout is at v4.6.8."""
    root = settings_files(tmp_path / "repo" / "netbox", {"site/settings.py": ""})
    git = ["git", "-C", str(tmp_path / "repo"), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True, timeout=60)
    subprocess.run([*git, "add", "-A"], check=True, timeout=60)
    subprocess.run([*git, "commit", "-qm", "release"], check=True, timeout=60)
    subprocess.run([*git, "tag", tag], check=True, timeout=60)
    layout = detect(root)
    assert (layout.version, layout.version_origin) == (
        (version, f"git tag {tag}") if version else (None, None)
    )
    (root / "site" / "later.py").write_text("")
    subprocess.run([*git, "add", "-A"], check=True, timeout=60)
    subprocess.run([*git, "commit", "-qm", "after the release"], check=True, timeout=60)
    assert detect(root).version is None  # not at the tag any more


def test_directories_joined_in_several_parts_to_a_base_init_cannot_evaluate(tmp_path):
    """NetBox's BASE_DIR comes from a function of its own."""
    settings = (
        "import os\nfrom .paths import resolve\nBASE_DIR = resolve(__file__).base_dir\n"
        "STATICFILES_DIRS = (os.path.join(BASE_DIR, 'project-static', 'dist'), "
        "os.path.join(BASE_DIR, 'project-static', 'missing'))\n"
        "LOCALE_PATHS = (BASE_DIR + '/translations',)\n"
    )
    files = {
        "site/settings.py": settings,
        "site/paths.py": "",
        "project-static/dist/netbox.css": "",
        "translations/de/LC_MESSAGES/django.po": "",
    }
    layout = detect(settings_files(tmp_path, files))
    assert layout.data_dirs == ("project-static/dist", "translations")


@pytest.mark.parametrize("production", ["production", "prod"])
def test_production_settings_beside_the_development_ones_that_manage_and_wsgi_name(tmp_path, production):
    """bakerydemo: manage.py and wsgi.py both name bakerydemo.settings.dev."""
    root = make_project(
        tmp_path,
        {
            "manage.py": manage_py("site.settings.dev"),
            "site/__init__.py": "",
            "site/settings/__init__.py": "",
            "site/settings/base.py": 'WSGI_APPLICATION = "site.wsgi.application"\n',
            "site/settings/dev.py": "from .base import *\nDEBUG = True\n",
            f"site/settings/{production}.py": "from .base import *\nDEBUG = False\n",
            "site/wsgi.py": manage_py("site.settings.dev"),
        },
    )
    layout = detect(root)
    assert layout.settings == f"site.settings.{production}"
    assert layout.settings_origin == "beside site.settings.dev, the development settings manage.py names"
    assert detect(root, settings="site.settings.dev").settings == "site.settings.dev"  # chosen by hand


def test_root_files_the_code_names_are_data(tmp_path):
    """NetBox's utilities/release.py reads release.yaml beside its packages."""
    files = {
        "site/settings.py": "",
        "site/release.py": "RELEASE_PATH = 'release.yaml'\nNOTES = \"notes.md\"\n",
        "site/tests/test_x.py": "OTHER = 'fixtures.json'\n",
        "release.yaml": "version: 1.0\n",
        "notes.md": "",
        "fixtures.json": "[]",
        "unused.yaml": "",
        "package.json": "{}",
    }
    root = settings_files(tmp_path, {**files, "site/build.py": "NAME = 'package.json'\n"})
    assert detect(root).data_dirs == ("notes.md", "release.yaml")
