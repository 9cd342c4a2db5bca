"""Reading settings without importing them: assignments, paths, environment variables."""

import textwrap

import pytest

from django_zipserve.adopt import AdoptError
from django_zipserve.adopt.source import ModuleFinder, is_secret, read_settings
from tests.adopt.util import make_project


def read(tmp_path, files, module="site.settings"):
    files = {"site/__init__.py": "", **{name: textwrap.dedent(text) for name, text in files.items()}}
    make_project(tmp_path, files)
    return read_settings(tmp_path, ModuleFinder([tmp_path, tmp_path / "src"]), module)


def names(source):
    return [variable.name for variable in source.variables]


class TestVariables:
    def test_what_typed_readers_make_of_a_variable(self, tmp_path):
        """CONN_MAX_AGE: 60 in a config file was refused as "expected text":
        a variable the settings read as a number, a flag or a list is declared so."""
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                import environ
                from decouple import Csv, config
                env = environ.Env()
                CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
                USE_S3 = env.bool("USE_S3", default=False)
                HOSTS = env.list("HOSTS", default=[])
                RATIO = env.float("RATIO", default=0.5)
                PORT = config("PORT", cast=int, default=25)
                ADMINS = config("ADMINS", cast=Csv(), default="")
                DEBUG = config("DEBUG", default=False, cast=bool)
                SITE = env("SITE", default="x")
                SECRET_KEY = env.str("SECRET_KEY")
                """
            },
        )
        kinds = {variable.name: variable.kind for variable in source.variables}
        assert kinds == {
            "CONN_MAX_AGE": "int",
            "USE_S3": "bool",
            "HOSTS": "list",
            "RATIO": "float",
            "PORT": "int",
            "ADMINS": "list",
            "DEBUG": "bool",
            "SITE": "str",
            "SECRET_KEY": "str",
        }
        assert [variable.name for variable in source.variables if variable.secret] == ["SECRET_KEY"]

    def test_every_os_spelling(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                import os
                from os import environ, getenv
                A = os.getenv("A")
                B = os.environ.get("B", "b")
                C = os.environ["C"]
                D = "D" in os.environ
                E = getenv("E")
                F = environ.get("F")
                G = environ["G"]
                os.environ["NOT_READ"] = "written, not read"
                os.environ.setdefault("ALSO_NOT_READ", "x")
                """
            },
        )
        assert names(source) == ["A", "B", "C", "D", "E", "F", "G"]
        assert source.variables[0].where == "site/settings.py:4"
        assert source.variables[0].setting == "A"
        assert source.variables[1].reader == "os.environ.get"

    def test_django_environ(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                import environ
                env = environ.Env(DEBUG=(bool, False))
                environ.Env.read_env()
                DEBUG = env("DEBUG")
                HOSTS = env.list("HOSTS", default=[])
                DATABASES = {"default": env.db()}
                CACHES = {"default": env.cache_url("REDIS_URL")}
                SENTRY_DSN = env.str(var="SENTRY_DSN", default="")
                """
            },
        )
        assert names(source) == ["DEBUG", "HOSTS", "DATABASE_URL", "REDIS_URL", "SENTRY_DSN"]
        assert source.variables[1].reader == "env.list"
        assert source.variables[2].setting == "DATABASES"
        assert source.dotenv == ("site/settings.py:4",)

    def test_python_decouple(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                from decouple import Csv, config
                SECRET_KEY = config("SECRET_KEY")
                ALLOWED_HOSTS = config("ALLOWED_HOSTS", cast=Csv())
                """
            },
        )
        assert names(source) == ["SECRET_KEY", "ALLOWED_HOSTS"]

    def test_helpers_that_wrap_a_read(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                import os
                def envbool(name, default="false"):
                    return os.getenv(name, default).lower() in ("1", "true")
                def envint(default, name):
                    return int(os.environ.get(name, default))
                DEBUG = envbool("DEBUG")
                OPEN = envbool("REGISTRATION_OPEN", "true")
                WORKERS = envint(2, "WORKERS")
                """
            },
        )
        assert names(source) == ["DEBUG", "REGISTRATION_OPEN", "WORKERS"]
        assert source.variables[1].reader == "envbool"
        assert source.variables[1].setting == "OPEN"
        assert source.computed == ()

    def test_a_computed_name_is_reported_where_it_is_read(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                import os
                PREFIX = "SITE"
                for name in ("A", "B"):
                    globals()[name] = os.environ.get(f"{PREFIX}_{name}")
                """
            },
        )
        assert names(source) == []
        assert source.computed == ("site/settings.py:5",)

    def test_star_imports_are_followed_in_the_order_python_runs_them(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings/__init__.py": "",
                "site/settings/base.py": """
                import os
                ROOT_URLCONF = "site.urls"
                BASE = os.getenv("BASE")
                """,
                "site/settings/production.py": """
                import os
                from .base import *
                from site.settings.extra import *
                from django.conf.global_settings import *
                ROOT_URLCONF = "site.production_urls"
                PROD = os.getenv("PROD")
                """,
                "site/settings/extra.py": "import os\nEXTRA = os.getenv('EXTRA')\n",
            },
            module="site.settings.production",
        )
        assert [path.name for path in source.files] == ["production.py", "base.py", "extra.py"]
        assert names(source) == ["PROD", "BASE", "EXTRA"]
        assert source.string("ROOT_URLCONF") == "site.production_urls"
        assert source.outside == ("django.conf.global_settings",)

    def test_split_settings_includes_are_followed(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings/__init__.py": """
                from split_settings.tools import include, optional
                include("components/*.py", optional("local.py"))
                """,
                "site/settings/components/__init__.py": "",
                "site/settings/components/common.py": "import os\nA = os.getenv('A')\n",
                "site/settings/components/db.py": "import os\nB = os.getenv('B')\n",
            },
            module="site.settings",
        )
        assert names(source) == ["A", "B"]  # components/*.py in sorted order
        assert {path.name for path in source.files} == {"__init__.py", "common.py", "db.py"}

    @pytest.mark.parametrize(
        ("name", "secret"),
        [
            ("SECRET_KEY", True),
            ("EMAIL_HOST_PASSWORD", True),
            ("GITHUB_TOKEN", True),
            ("SENTRY_DSN", True),
            ("AWS_SECRET_ACCESS_KEY", True),
            ("SITE_NAME", False),
            ("DEBUG", False),
            ("STRIPE_APIKEY", True),
            ("API_TOKEN_PEPPERS", True),
            # About a secret, not the secret: a path, an identifier, a duration.
            ("EMAIL_SSL_KEYFILE", False),
            ("EMAIL_SSL_KEY_FILE", False),
            ("AWS_ACCESS_KEY_ID", False),
            ("PASSWORD_RESET_TIMEOUT", False),
            ("KEYCLOAK_URL", False),
        ],
    )
    def test_secrets_by_name(self, name, secret):
        assert is_secret(name) is secret


class TestPaths:
    @pytest.mark.parametrize(
        "base_dir",
        [
            "Path(__file__).resolve().parent.parent",
            "Path(__file__).resolve(strict=True).parents[1]",
            "os.path.dirname(os.path.dirname(os.path.abspath(__file__)))",
            "environ.Path(__file__) - 2",
        ],
    )
    def test_base_dir_spellings(self, tmp_path, base_dir):
        source = read(
            tmp_path,
            {
                "site/settings.py": f"""
                import os
                import environ
                from pathlib import Path
                BASE_DIR = {base_dir}
                TEMPLATE_DIR = os.path.join(BASE_DIR, "templates")
                TEMPLATES = [{{"DIRS": [TEMPLATE_DIR, BASE_DIR / "more"]}}]
                STATICFILES_DIRS = [str(Path(BASE_DIR, "static"))]
                LOCALE_PATHS = [f"{{BASE_DIR}}/locale"]
                """
            },
        )
        assert source.last("TEMPLATES").paths == (tmp_path / "templates", tmp_path / "more")
        assert source.last("STATICFILES_DIRS").paths == (tmp_path / "static",)
        assert source.last("LOCALE_PATHS").paths == (tmp_path / "locale",)

    def test_names_from_a_star_imported_module_keep_their_file(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings/__init__.py": "",
                "site/settings/base.py": """
                from pathlib import Path
                BASE_DIR = Path(__file__).resolve().parent.parent.parent
                APPS_DIR = BASE_DIR / "site"
                """,
                "site/settings/production.py": """
                from .base import *
                TEMPLATES = [{"DIRS": [APPS_DIR / "templates"]}]
                TEMPLATES[0]["DIRS"] += [BASE_DIR / "extra"]
                STATICFILES_DIRS = []
                STATICFILES_DIRS.append(BASE_DIR.joinpath("assets", "css"))
                """,
            },
            module="site.settings.production",
        )
        assert source.last("TEMPLATES").paths == (tmp_path / "site" / "templates",)
        partial = [item for item in source.assigned("TEMPLATES") if item.partial]
        assert partial[0].paths == (tmp_path / "extra",)
        assert source.assigned("STATICFILES_DIRS")[1].paths == (tmp_path / "assets" / "css",)

    def test_an_unknown_base_is_guessed_from_the_name_it_joins(self, tmp_path):
        source = read(
            tmp_path, {"site/settings.py": 'from x import ROOT\nTEMPLATES = [{"DIRS": [ROOT / "tpl"]}]\n'}
        )
        assert source.last("TEMPLATES").paths == ()
        assert source.last("TEMPLATES").guessed == ("tpl",)

    def test_conditional_assignments_are_marked(self, tmp_path):
        source = read(
            tmp_path,
            {
                "site/settings.py": """
                import os
                A = 1
                if os.getenv("X"):
                    B = 2
                try:
                    C = 3
                except Exception:
                    pass
                """
            },
        )
        assert [(item.name, item.conditional) for item in source.assignments] == [
            ("A", False),
            ("B", True),
            ("C", True),
        ]


def test_a_missing_module_is_an_adopt_error(tmp_path):
    with pytest.raises(AdoptError, match="settings module site.nothing not found"):
        read(tmp_path, {}, module="site.nothing")


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    with pytest.raises(AdoptError, match=r"cannot read .*settings.py: .* \(line 2\)"):
        read(tmp_path, {"site/settings.py": "A = 1\nB = (\n"})


@pytest.mark.parametrize(
    ("settings", "found"),
    [
        ('INSTALLED_APPS = ["django.contrib.staticfiles"]\n', True),
        # cookiecutter-django's lists, star-imported from a base module
        (
            'DJANGO_APPS = ["django.contrib.staticfiles"]\nLOCAL_APPS = ["shop"]\n'
            "INSTALLED_APPS = DJANGO_APPS + LOCAL_APPS\n",
            True,
        ),
        ('DJANGO_APPS = ["django.contrib.admin"]\nINSTALLED_APPS = DJANGO_APPS + ["shop"]\n', False),
        # a name that refers to itself does not loop
        ('APPS = ["shop"]\nAPPS = APPS + ["blog"]\nINSTALLED_APPS = APPS\n', False),
    ],
)
def test_a_setting_mentions_a_string_through_the_names_it_is_made_of(tmp_path, settings, found):
    source = read(tmp_path, {"site/settings.py": settings})
    assert source.mentions("INSTALLED_APPS", "django.contrib.staticfiles") is found


def test_a_read_guarded_by_a_test_of_the_same_variable_is_not_required(tmp_path):
    """cookiecutter-django: ``if os.getenv("DATABASE_URL", default=None):``
    then ``env.db("DATABASE_URL")``; without the variable the else branch runs."""
    source = read(
        tmp_path,
        {
            "site/settings.py": """
            import os
            import environ
            env = environ.Env()
            if os.getenv("DATABASE_URL", default=None):
                DATABASES = {"default": env.db("DATABASE_URL")}
            else:
                DATABASES = {"default": {"NAME": env("POSTGRES_DB")}}
            ADMIN_URL = env("DJANGO_ADMIN_URL")
            """
        },
    )
    required = {variable.name for variable in source.variables if variable.required}
    # POSTGRES_DB is read on the other branch only: not required either
    assert required == {"DJANGO_ADMIN_URL"}


def test_a_read_on_one_branch_or_in_a_try_is_not_required(tmp_path):
    """bakerydemo reads its Cloudflare zone only when a Cloudflare token is set."""
    source = read(
        tmp_path,
        {
            "site/settings.py": """
            import os
            if "FRONTEND_CACHE_CLOUDFLARE_TOKEN" in os.environ:
                ZONE = os.environ["FRONTEND_CACHE_CLOUDFLARE_ZONEID"]
            try:
                KEY = os.environ["MAPS_KEY"]
            except KeyError:
                KEY = None
            ADMIN_URL = os.environ["DJANGO_ADMIN_URL"]
            """
        },
    )
    required = {variable.name for variable in source.variables if variable.required}
    assert required == {"DJANGO_ADMIN_URL"}
