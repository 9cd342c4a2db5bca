"""init on a project shaped like NetBox (tests/projects/local_configuration):
its settings import a configuration module that each machine writes for
itself (git-ignored, copied from an example). The build never packages it;
its values come from the configuration file instead."""

import ast
import json
import subprocess
import sys

import pytest

from tests.adopt.util import checkout, run_init, tree, write
from tests.helpers import REPO, TEST_SECRET_KEY, clean_environ

PASSWORD = "db-password-from-the-configuration-file-3e3e"
PEPPER = "pepper-from-the-configuration-file-" + "q" * 30
REDIS_PASSWORD = "redis-password-from-the-configuration-file-9d9d"
#: What the fixture's own (git-ignored) configuration.py holds.
LOCAL_SECRETS = (
    "local-file-db-password-q8w7e6",
    "local-file-secret-key-that-must-never-be-packaged-0123456789abcdef",
    "local-file-pepper-that-must-never-be-packaged-0123456789abcdefghij",
)
SECRETS = (TEST_SECRET_KEY, PASSWORD, PEPPER, REDIS_PASSWORD)
REVIEW = (
    "  - netbox.configuration: a local configuration module (netbox/configuration.py, git-ignored; "
    "example netbox/configuration_example.py); its 16 values are now configuration fields (config "
    "template shows them), the module is made from them (zipserve_config.provide_module); "
    "$NETBOX_CONFIGURATION still names another module when the environment sets it; the file itself "
    "is never packaged\n"
)


@pytest.fixture
def project(copy_project):
    """The fixture as a git checkout, adopted: the directory of manage.py, and init's output."""
    root = checkout(copy_project("local_configuration"))
    result = run_init(root / "netbox")
    assert result.returncode == 0, result.stderr
    return root / "netbox", result


def config_class(project):
    tree = ast.parse((project / "netbox" / "zipserve_settings.py").read_text())
    return tree, next(node for node in tree.body if isinstance(node, ast.ClassDef))


def site_config(path, **extra):
    values = {
        "SECRET_KEY": TEST_SECRET_KEY,
        "ALLOWED_HOSTS": ["inventory.example.com", "testserver"],
        "HTTPS": False,
        "DATABASE": {"ENGINE": "django.db.backends.sqlite3", "NAME": "inventory", "PASSWORD": PASSWORD},
        "API_TOKEN_PEPPERS": {1: PEPPER},
        "REDIS": {"tasks": {"HOST": "redis.internal", "PASSWORD": REDIS_PASSWORD}},
        **extra,
    }
    # YAML reads JSON, but a JSON object's keys are strings: the pepper's number stays a number here.
    lines = [f"{key}: {json.dumps(value)}" for key, value in values.items() if key != "API_TOKEN_PEPPERS"]
    lines.append(f"API_TOKEN_PEPPERS:\n  1: {json.dumps(PEPPER)}")
    return write(path, "\n".join(lines) + "\n")


def without_the_local_file(project):
    """The package as the artifact has it: the build leaves the git-ignored file out."""
    (project / "netbox" / "configuration.py").unlink()
    return project


def run_site(project, tmp_path, *args, code=None):
    env = clean_environ(
        PYTHONPATH=f"{project}:{REPO}",
        NETBOX_CONFIG=site_config(tmp_path / "site.yml", BANNER_BOTTOM="From the configuration file"),
        STATE_DIR=tmp_path / "state",
        HOME=tmp_path,
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "netbox", *args]
    if code:
        env["DJANGO_SETTINGS_MODULE"] = "netbox.zipserve_settings"
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "ALLOWED_HOSTS", "SECRET_KEY", "DATABASE", "API_TOKEN_PEPPERS", "REDIS", "BANNER_TOP", "BANNER_BOTTOM",
    "PAGINATE_COUNT", "TIME_ZONE", "LOGIN_REQUIRED",
)} | {
    "DATABASES": settings.DATABASES["default"],
    "PEPPER_NUMBERS": list(settings.API_TOKEN_PEPPERS),
}, default=str))
"""


class TestInit:
    def test_the_modules_values_become_typed_fields(self, project):
        project, _ = project
        _, config = config_class(project)
        fields = {
            node.target.id: (ast.unparse(node.annotation), node.value)
            for node in config.body
            if isinstance(node, ast.AnnAssign)
        }
        annotations = {name: annotation for name, (annotation, _) in fields.items()}
        assert annotations == {
            "DATABASE": "dict[str, Any] | None",
            "API_TOKEN_PEPPERS": "dict[Any, Any] | None",
            "BANNER_TOP": "str | None",
            "BANNER_BOTTOM": "str | None",
            "CORS_ORIGIN_WHITELIST": "list[str] | None",
            "EMAIL": "dict[str, Any] | None",
            "LOGIN_REQUIRED": "bool | None",
            "MAINTENANCE_MODE": "bool | None",
            "MEDIA_ROOT": "Any",
            "PAGINATE_COUNT": "int | None",
            "REDIS": "dict[str, Any] | None",
            "TIME_ZONE": "str | None",
            # Only the local file sets it: its name and type are read, never its value.
            "RACK_ELEVATION_DEFAULT_UNIT_HEIGHT": "int | None",
        }
        keywords = {
            name: {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
            for name, (_, call) in fields.items()
        }
        assert all(values["default"] is None for values in keywords.values())
        marked = {name for name, values in keywords.items() if values.get("json_schema_extra")}
        assert marked == {"DATABASE", "API_TOKEN_PEPPERS", "EMAIL", "REDIS"}
        assert keywords["DATABASE"]["json_schema_extra"] == {"secret": True}
        assert keywords["DATABASE"]["description"] == (
            "The PostgreSQL database. Its password is this machine's own secret."
        )
        assert keywords["TIME_ZONE"]["description"] == (
            "Set in netbox.configuration by the project's settings (from its example file "
            "netbox/configuration_example.py)."
        )

    def test_the_module_is_made_before_the_projects_settings_are_imported(self, project):
        project, _ = project
        tree, config = config_class(project)
        statements = [ast.unparse(node) for node in tree.body]
        provide = next(index for index, line in enumerate(statements) if "provide_module" in line)
        assert statements[provide - 1] == "zipserve_config.export_environment()"
        assert statements[provide + 1] == "from netbox.settings import *"
        call = tree.body[provide].value
        assert ast.literal_eval(call.args[0]) == "netbox.configuration"
        names = ast.literal_eval(call.args[1])
        assert names[:4] == ("ALLOWED_HOSTS", "DATABASE", "SECRET_KEY", "API_TOKEN_PEPPERS")
        assert len(names) == 16
        assert {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords} == {
            "example": "netbox.configuration_example"
        }
        # The variable that names the module is no configuration value.
        environment = next(
            node
            for node in config.body
            if isinstance(node, ast.Assign) and node.targets[0].id == "environment"
        )
        assert ast.literal_eval(environment.value) == ()

    def test_init_says_so_once(self, project):
        project, result = project
        assert REVIEW in result.stdout
        assert (
            "  local modules netbox.configuration (netbox/configuration.py, git-ignored: 16 values)\n"
            in result.stdout
        )
        before = tree(project)
        again = run_init(project)
        assert again.returncode == 0, again.stderr
        assert tree(project) == before
        assert "netbox.configuration" not in again.stdout.split("review:")[1]
        assert "  keep netbox/zipserve_settings.py (unchanged)\n" in again.stdout
        assert again.stdout.rstrip().endswith("nothing to do")

    def test_the_local_files_values_are_never_written(self, project):
        project, result = project
        written = ["__main__.py", "zipserve_settings.py", "zipserve_urls.py"]
        texts = [result.stdout, (project / "pyproject.toml").read_text()]
        texts += [(project / "netbox" / name).read_text() for name in written]
        for text in texts:
            for secret in LOCAL_SECRETS:
                assert secret not in text


class TestTheSettings:
    def test_they_see_the_configuration_files_values(self, project, tmp_path):
        project = without_the_local_file(project[0])
        result = run_site(project, tmp_path, code=PROBE)
        assert result.returncode == 0, result.stderr[-3000:]
        settings = json.loads(result.stdout.strip().splitlines()[-1])
        assert settings["ALLOWED_HOSTS"] == ["inventory.example.com", "testserver"]
        assert settings["SECRET_KEY"] == TEST_SECRET_KEY
        assert settings["DATABASE"] == {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": "inventory",
            "PASSWORD": PASSWORD,
        }
        assert settings["API_TOKEN_PEPPERS"] == {"1": PEPPER}
        assert settings["PEPPER_NUMBERS"] == [1]  # numbered as in the file, not "1"
        assert settings["REDIS"] == {"tasks": {"HOST": "redis.internal", "PASSWORD": REDIS_PASSWORD}}
        assert settings["BANNER_BOTTOM"] == "From the configuration file"
        # Not in the configuration file: the project's own defaults.
        assert settings["BANNER_TOP"] == ""
        assert settings["PAGINATE_COUNT"] == 50
        assert settings["TIME_ZONE"] == "UTC"
        assert settings["LOGIN_REQUIRED"] is True
        # config.apply() puts the SQLite file under the state directory.
        assert settings["DATABASES"]["ENGINE"] == "django.db.backends.sqlite3"
        assert settings["DATABASES"]["NAME"] == str(tmp_path / "state" / "db.sqlite3")

    def test_config_show_redacts_every_secret(self, project, tmp_path):
        project = without_the_local_file(project[0])
        result = run_site(project, tmp_path, "config", "show")
        assert result.returncode == 0, result.stderr[-3000:]
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr
        rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:] if line.strip()}
        for name in ("SECRET_KEY", "DATABASE", "API_TOKEN_PEPPERS", "REDIS"):
            assert rows[name].split()[1] == "********", rows[name]
        assert rows["BANNER_BOTTOM"].split()[1] == '"From'
        assert rows["EMAIL"].split()[1:3] == ["(not", "set)"]

    def test_config_template_shows_the_fields(self, project, tmp_path):
        project = without_the_local_file(project[0])
        result = run_site(project, tmp_path, "config", "template", "yaml")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "# The PostgreSQL database. Its password is this machine's own secret.\nDATABASE: null\n" in (
            result.stdout
        )
        assert "\nBANNER_TOP: null\n" in result.stdout

    def test_with_the_local_file_there_they_refuse_in_one_line(self, project, tmp_path):
        project, _ = project
        result = run_site(project, tmp_path, "config", "check")
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert lines[0] == "netbox: invalid configuration (1 problem):"
        assert lines[1].startswith("  - netbox.configuration (")
        assert (
            "netbox/configuration.py): exists as a file, and the configuration makes this module too"
            in lines[1]
        )
        assert len(lines) == 2
        for secret in (*SECRETS, *LOCAL_SECRETS):
            assert secret not in result.stdout + result.stderr
