"""Local configuration modules (NetBox's ``configuration.py``): found in the
settings without importing them, their values typed from the example."""

import ast
import subprocess

import pytest

from django_zipserve.adopt.detect import detect
from django_zipserve.adopt.local_modules import annotation_of, comment_above, comment_lines
from django_zipserve.adopt.plan import make_plan
from tests.adopt.util import make_project, manage_py, write

EXAMPLE = 'ALLOWED_HOSTS = []\nDATABASE = {"NAME": "site", "PASSWORD": ""}\nBANNER_TOP = ""\n'
EXAMPLE_NAME = "configuration_example.py"
LOCAL_SECRET = "local-machine-password-never-written-5c5c"


def project(root, settings, example=EXAMPLE, local=None, ignore=True, example_name=EXAMPLE_NAME):
    """A project whose settings are ``settings``, with an example of
    site/configuration.py and (``local``) the file itself, git-ignored."""
    files = {
        "manage.py": manage_py("site.settings"),
        "site/__init__.py": "",
        "site/settings.py": settings,
        f"site/{example_name}": example,
    }
    if example is None:
        del files[f"site/{example_name}"]
    if local is not None:
        files["site/configuration.py"] = local
    if ignore:
        files[".gitignore"] = "/site/configuration.py\n"
    make_project(root, files)
    if ignore:
        subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    return root


def modules(root):
    return detect(root).local_modules


GETENV = (
    "import importlib, os\n"
    'CONFIG = os.getenv("SITE_CONFIGURATION", "site.configuration")\n'
    "configuration = importlib.import_module(CONFIG)\n"
    'ALLOWED_HOSTS = getattr(configuration, "ALLOWED_HOSTS")\n'
)


class TestFound:
    @pytest.mark.parametrize(
        "settings",
        [
            "from site import configuration\n",
            "import site.configuration\n",
            "from . import configuration\n",
            "from .configuration import ALLOWED_HOSTS, DATABASE\n",
            "from site.configuration import *\n",
            'import importlib\nconfiguration = importlib.import_module("site.configuration")\n',
            'from importlib import import_module\nconfiguration = import_module("site.configuration")\n',
            GETENV,
        ],
    )
    def test_each_way_the_settings_import_it(self, tmp_path, settings):
        found = modules(project(tmp_path, settings, local="ALLOWED_HOSTS = ['x']\n"))
        assert [module.name for module in found] == ["site.configuration"]
        module = found[0]
        assert module.path == "site/configuration.py"
        assert module.present
        assert module.example == "site/configuration_example.py"
        assert module.example_module == "site.configuration_example"
        assert module.names == ("ALLOWED_HOSTS", "DATABASE", "BANNER_TOP")

    def test_through_a_helper_of_the_project_the_settings_import(self, tmp_path):
        """NetBox 4.6: the settings call ``load_configuration()`` of their
        own ``settings_utils``, which imports "netbox.configuration" by name
        through a helper of its own."""
        root = project(
            tmp_path,
            "from site.settings_utils import load_configuration\nconfiguration = load_configuration()\n",
            local="ALLOWED_HOSTS = ['x']\n",
        )
        write(
            root / "site" / "settings_utils.py",
            "import importlib\n\n\ndef _import(name):\n    return importlib.import_module(name)\n\n\n"
            "def load_configuration():\n    return _import('site.configuration')\n",
        )
        (module,) = modules(root)
        assert (module.name, module.where) == ("site.configuration", "site/settings_utils.py:9")
        assert module.names == ("ALLOWED_HOSTS", "DATABASE", "BANNER_TOP")

    def test_the_variable_that_names_it(self, tmp_path):
        (module,) = modules(project(tmp_path, GETENV))
        assert module.variable == "SITE_CONFIGURATION"
        assert module.where == "site/settings.py:3"

    def test_absent_with_an_example(self, tmp_path):
        (module,) = modules(project(tmp_path, GETENV, ignore=False))
        assert not module.present

    def test_a_dotted_example_cannot_stand_in(self, tmp_path):
        (module,) = modules(project(tmp_path, GETENV, example_name="configuration.example.py"))
        assert module.example == "site/configuration.example.py"
        assert module.example_module is None

    def test_names_only_the_local_file_sets(self, tmp_path):
        local = f'DATABASE = {{"PASSWORD": "{LOCAL_SECRET}"}}\nLOCAL_ONLY = 3\n'
        (module,) = modules(project(tmp_path, GETENV, local=local))
        assert module.names == ("ALLOWED_HOSTS", "DATABASE", "BANNER_TOP", "LOCAL_ONLY")
        local_only = module.values[-1]
        assert local_only.annotation == "int | None"
        assert local_only.description == (
            "Set in site.configuration by the project's settings (its local file site/configuration.py "
            "sets it; its example does not)."
        )


class TestNotLocal:
    def test_a_file_git_does_not_ignore_is_packaged(self, tmp_path):
        # No git: the build packages the file, so the settings find it in the artifact.
        assert modules(project(tmp_path, GETENV, local="ALLOWED_HOSTS = []\n", ignore=False)) == ()

    def test_a_tracked_file_is_packaged(self, tmp_path):
        root = project(tmp_path, GETENV, local="ALLOWED_HOSTS = []\n")
        subprocess.run(["git", "-C", str(root), "add", "--force", "site/configuration.py"], check=True)
        assert modules(root) == ()

    def test_nothing_says_its_names(self, tmp_path):
        assert modules(project(tmp_path, GETENV, example=None)) == ()

    def test_a_generated_module_without_settings(self, tmp_path):
        settings = "from site._version import version\n"
        root = project(tmp_path, settings, local=None)
        write(root / "site" / "_version.py", "__version__ = version = '1.0'\n")
        write(root / ".gitignore", "/site/_version.py\n")
        assert modules(root) == ()

    def test_modules_outside_the_project_and_the_settings_themselves(self, tmp_path):
        settings = "import os\nfrom django.conf import global_settings\nfrom site import settings\n"
        assert modules(project(tmp_path, settings)) == ()


@pytest.mark.parametrize(
    ("name", "literal", "annotation"),
    [
        ("BANNER_TOP", '""', "str | None"),
        ("BANNER_TOP", 'f"{X}"', "str | None"),
        ("SECRET_KEY", '""', "SecretStr | None"),
        ("DEBUG", "False", "bool | None"),
        ("PAGINATE_COUNT", "50", "int | None"),
        ("OFFSET", "-1", "int | None"),
        ("RATIO", "0.5", "float | None"),
        ("ALLOWED_HOSTS", "[]", "list[Any] | None"),
        ("ALLOWED_HOSTS", '["a", "b"]', "list[str] | None"),
        ("ADMINS", '[("a", "b")]', "list[Any] | None"),
        ("EXEMPT", '("a",)', "list[str] | None"),
        ("DATABASE", '{"NAME": "x"}', "dict[str, Any] | None"),
        ("API_TOKEN_PEPPERS", '{1: "x"}', "dict[int, Any] | None"),
        ("API_TOKEN_PEPPERS", "{}", "dict[Any, Any] | None"),
        ("MEDIA_ROOT", "None", "Any"),
        ("MEDIA_ROOT", 'os.path.join(BASE_DIR, "media")', "Any"),
    ],
)
def test_types_from_literals(name, literal, annotation):
    assert annotation_of(name, ast.parse(literal, mode="eval").body) == annotation


class TestValues:
    EXAMPLE = (
        "#########################\n"
        "#   Required settings   #\n"
        "#########################\n"
        "\n"
        "# The database.\n"
        "# Its password is this machine's own.\n"
        'DATABASE = {"NAME": "site", "PASSWORD": ""}\n'
        'REDIS = {"tasks": {"HOST": "localhost", "PASSWORD": ""}}\n'
        "API_TOKEN_PEPPERS = {}  # by number\n"
        "PASSWORD_RESET_TIMEOUT = 3600\n"
        "LDAP_BIND_PASSWORD = None\n"
        'SECRET_KEY = ""\n'
        '_PRIVATE = "x"\n'
        'lower = "x"\n'
        "\n"
        'BANNER_TOP = ""\n'
    )

    @pytest.fixture
    def values(self, tmp_path):
        (module,) = modules(project(tmp_path, GETENV, example=self.EXAMPLE))
        return {value.name: value for value in module.values}

    def test_upper_case_names_at_the_top_level(self, values):
        assert list(values) == [
            "DATABASE",
            "REDIS",
            "API_TOKEN_PEPPERS",
            "PASSWORD_RESET_TIMEOUT",
            "LDAP_BIND_PASSWORD",
            "SECRET_KEY",
            "BANNER_TOP",
        ]

    def test_what_holds_a_secret(self, values):
        secret = {name for name, value in values.items() if value.secret}
        # A mapping with a password inside, at any depth; a name that says secret
        # on a value that is no string. A string is a SecretStr instead; a number
        # is no credential.
        assert secret == {"DATABASE", "REDIS", "API_TOKEN_PEPPERS", "LDAP_BIND_PASSWORD"}
        assert values["SECRET_KEY"].annotation == "SecretStr | None"
        assert values["PASSWORD_RESET_TIMEOUT"].annotation == "int | None"

    def test_descriptions_from_the_comment_above(self, values):
        assert values["DATABASE"].description == "The database. Its password is this machine's own."
        assert values["API_TOKEN_PEPPERS"].description == "by number"
        assert values["BANNER_TOP"].description == (
            "Set in site.configuration by the project's settings (from its example file "
            "site/configuration_example.py)."
        )

    def test_a_banner_is_no_description(self):
        text = "####\n#  Required  #\n####\nX = 1\n"
        assert comment_above(4, text.splitlines(), comment_lines(text)) == "Required"
        text = "####\n\n# A hash # inside.\nX = '#not a comment'\n"
        assert comment_above(4, text.splitlines(), comment_lines(text)) == "A hash # inside."


class TestPlan:
    def test_the_variable_that_names_the_module_is_not_declared(self, tmp_path):
        plan = make_plan(detect(project(tmp_path, GETENV)))
        assert "SITE_CONFIGURATION" not in plan.environment
        assert "SITE_CONFIGURATION" not in plan.fields
        text = next(change.new for change in plan.changes if change.path == "site/zipserve_settings.py")
        assert "SITE_CONFIGURATION" not in text.split("zipserve_config = Config.load()")[0]

    def test_the_local_files_values_are_never_written(self, tmp_path):
        local = f'DATABASE = {{"PASSWORD": "{LOCAL_SECRET}"}}\nSECRET_KEY = "{LOCAL_SECRET}"\n'
        plan = make_plan(detect(project(tmp_path, GETENV, local=local)))
        for change in plan.changes:
            assert LOCAL_SECRET not in (change.new or "")
        assert not any(LOCAL_SECRET in line for line in plan.review)

    def test_an_older_zipserve_settings_is_kept_and_said_so(self, tmp_path):
        root = project(tmp_path, GETENV)
        (root / "site" / "zipserve_settings.py").write_text("# written by an older init\n")
        plan = make_plan(detect(root))
        assert (
            "site/zipserve_settings.py does not make site.configuration, which the settings import and "
            "the build leaves out (site/configuration.py): --force rewrites it with "
            "zipserve_config.provide_module()"
        ) in plan.review
        forced = make_plan(detect(root), force=True)
        assert any(
            line.startswith("site.configuration: a local configuration module") for line in forced.review
        )
