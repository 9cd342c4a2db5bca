"""``config.provide_module()``: a module the project's settings import (NetBox's
``configuration.py``), made from the configuration instead of a local file."""

import importlib
import sys
import uuid
from typing import Any

import pytest
from pydantic import SecretStr

from django_zipserve.conf import ConfigError, Field, ZipserveConfig, documents, sources
from django_zipserve.conf.config import ProvidedModule
from tests.helpers import TEST_SECRET_KEY, assert_no_secret, only_problem

PASSWORD = "db-password-must-reach-the-module-7f7f"
PEPPER = "pepper-must-reach-the-module-" + "p" * 30


class Site(ZipserveConfig):
    """Configuration of a NetBox-shaped site."""

    name = "site"

    DATABASE: dict[str, Any] | None = Field(
        default=None, description="The database.", json_schema_extra={"secret": True}
    )
    API_TOKEN_PEPPERS: dict[Any, Any] | None = Field(
        default=None, description="Peppers.", json_schema_extra={"secret": True}
    )
    BANNER_TOP: str | None = Field(default=None, description="Banner.")
    PAGINATE_COUNT: int | None = Field(default=None, description="Page size.")
    LDAP_PASSWORD: SecretStr | None = Field(default=None, description="A secret string.")
    TOKENS: list[SecretStr] | None = Field(default=None, description="Secrets in a list.")
    EXAMPLE_ONLY: str | None = Field(default=None, description="Set by the example only.")


FIELDS = (
    "ALLOWED_HOSTS",
    "SECRET_KEY",
    "DATABASE",
    "API_TOKEN_PEPPERS",
    "BANNER_TOP",
    "PAGINATE_COUNT",
    "LDAP_PASSWORD",
    "TOKENS",
)


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A fresh package on sys.path, with an example module: its name."""
    name = f"site_{uuid.uuid4().hex[:8]}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "configuration_example.py").write_text(
        'DATABASE = {"NAME": "example"}\nEXAMPLE_ONLY = "from the example"\nBANNER_TOP = ""\n'
    )
    (tmp_path / name / "real.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [module for module in sys.modules if module == name or module.startswith(f"{name}.")]:
        del sys.modules[module]


def config(**environ):
    values = {"SECRET_KEY": TEST_SECRET_KEY, **environ}
    return Site.from_sources(environ=values)


def loaded():
    return config(
        ALLOWED_HOSTS="inventory.example.com",
        DATABASE=f'{{"NAME": "inventory", "PASSWORD": "{PASSWORD}"}}',
        API_TOKEN_PEPPERS=f'{{"1": "{PEPPER}"}}',
        LDAP_PASSWORD="ldap-secret",
        TOKENS="one,two",
        PAGINATE_COUNT="25",
    )


class TestTheModule:
    def test_values_are_attributes_with_secrets_as_plain_text(self, package):
        module = loaded().provide_module(f"{package}.configuration", FIELDS)
        assert module.ALLOWED_HOSTS == ["inventory.example.com"]
        assert module.SECRET_KEY == TEST_SECRET_KEY
        assert module.DATABASE == {"NAME": "inventory", "PASSWORD": PASSWORD}
        assert module.API_TOKEN_PEPPERS == {"1": PEPPER}
        assert module.LDAP_PASSWORD == "ldap-secret"
        assert module.TOKENS == ["one", "two"]
        assert module.PAGINATE_COUNT == 25

    def test_an_unset_value_is_absent_so_the_projects_default_holds(self, package):
        module = loaded().provide_module(f"{package}.configuration", FIELDS)
        assert not hasattr(module, "BANNER_TOP")
        assert getattr(module, "BANNER_TOP", "the project's default") == "the project's default"

    def test_every_way_of_importing_finds_it(self, package):
        module = loaded().provide_module(f"{package}.configuration", FIELDS)
        parent = importlib.import_module(package)
        assert importlib.import_module(f"{package}.configuration") is module
        assert parent.configuration is module
        namespace = {}
        exec(f"from {package} import configuration", namespace)
        exec(f"import {package}.configuration as dotted", namespace)
        assert namespace["configuration"] is module
        assert namespace["dotted"] is module
        assert importlib.util.find_spec(f"{package}.configuration").origin == "django-zipserve configuration"

    def test_it_is_read_only(self, package):
        module = loaded().provide_module(f"{package}.configuration", FIELDS)
        with pytest.raises(AttributeError, match="read-only: its values come from the configuration"):
            module.BANNER_TOP = "set by code"
        with pytest.raises(AttributeError, match="read-only"):
            del module.DATABASE

    def test_the_project_changing_a_value_changes_nothing_of_the_configuration(self, package):
        settings = loaded()
        module = settings.provide_module(f"{package}.configuration", FIELDS)
        module.DATABASE["ENGINE"] = "django.db.backends.postgresql"
        assert "ENGINE" not in settings.DATABASE

    def test_provided_again_it_is_replaced(self, package):
        first = loaded().provide_module(f"{package}.configuration", FIELDS)
        second = config(BANNER_TOP="again").provide_module(f"{package}.configuration", ("BANNER_TOP",))
        assert importlib.import_module(f"{package}.configuration") is second is not first
        assert second.BANNER_TOP == "again"

    def test_its_values_are_not_set_as_django_settings(self, package):
        settings = config(BANNER_TOP="configured")
        assert "BANNER_TOP" in settings.settings_fields()
        settings.provide_module(f"{package}.configuration", ("BANNER_TOP", "DATABASE"))
        # They reach the settings through the module; apply() would set an
        # unset one to None over the project's own default.
        assert "BANNER_TOP" not in settings.settings_fields()
        assert "DATABASE" not in settings.settings_fields()
        assert "PAGINATE_COUNT" in settings.settings_fields()


class TestWhenNothingIsRead:
    """The build and ``config template`` read no configuration: the example's
    values stand in for unset ones, so the project's settings import."""

    def test_the_examples_values_stand_in(self, package):
        settings = Site.from_sources(environ={"DJANGO_ZIPSERVE_BUILD": "1"})
        module = settings.provide_module(
            f"{package}.configuration",
            ("DATABASE", "EXAMPLE_ONLY", "BANNER_TOP", "SECRET_KEY", "PAGINATE_COUNT"),
            example=f"{package}.configuration_example",
        )
        assert module.DATABASE == {"NAME": "example"}
        assert module.EXAMPLE_ONLY == "from the example"
        assert module.BANNER_TOP == ""
        # The configuration's own values win; what neither has stays absent.
        assert settings.secret_key() == module.SECRET_KEY
        assert not hasattr(module, "PAGINATE_COUNT")

    def test_a_loaded_configuration_never_uses_the_example(self, package):
        module = config().provide_module(
            f"{package}.configuration",
            ("DATABASE", "EXAMPLE_ONLY"),
            example=f"{package}.configuration_example",
        )
        assert not hasattr(module, "DATABASE")
        assert not hasattr(module, "EXAMPLE_ONLY")


class TestRefused:
    def test_a_module_that_exists_as_a_file_is_not_shadowed(self, package, capsys):
        with pytest.raises(SystemExit) as info:
            loaded().provide_module(f"{package}.real", ("BANNER_TOP",))
        assert info.value.code == 2
        report = capsys.readouterr().err.strip().splitlines()
        assert report[0] == "site: invalid configuration (1 problem):"
        assert report[1].startswith(f"  - {package}.real (")
        assert "real.py): exists as a file, and the configuration makes this module too" in report[1]
        assert len(report) == 2
        assert not isinstance(sys.modules.get(f"{package}.real"), ProvidedModule)

    def test_a_module_imported_already_is_not_replaced(self, package, capsys):
        real = importlib.import_module(f"{package}.real")
        with pytest.raises(SystemExit):
            loaded().provide_module(f"{package}.real", ("BANNER_TOP",))
        assert sys.modules[f"{package}.real"] is real

    def test_a_name_that_is_no_field(self, package):
        with pytest.raises(TypeError, match=r"NOT_A_FIELD not a field of Site"):
            loaded().provide_module(f"{package}.configuration", ("BANNER_TOP", "NOT_A_FIELD"))


class TestSecretInside:
    """A mapping with a password inside is marked secret: redacted by
    ``config show``, never echoed in an error, read from the secret sources."""

    def test_the_mark_makes_a_field_secret(self):
        assert sources.is_secret(Site.model_fields["DATABASE"])
        assert sources.is_secret(Site.model_fields["API_TOKEN_PEPPERS"])
        assert not sources.is_secret(Site.model_fields["BANNER_TOP"])
        assert not sources.is_secret(Unmarked.model_fields["OPTIONS"])

    def test_config_show_redacts_it(self):
        text = documents.show(loaded())
        rows = {line.split()[0]: line for line in text.splitlines()[2:] if line.strip()}
        assert PASSWORD not in text
        assert PEPPER not in text
        assert documents.REDACTED in rows["DATABASE"]
        assert documents.REDACTED in rows["API_TOKEN_PEPPERS"]
        assert '"25"' not in rows["PAGINATE_COUNT"] and "25" in rows["PAGINATE_COUNT"]

    def test_a_bad_value_is_not_echoed(self, tmp_path):
        path = tmp_path / "site.yml"
        path.write_text(f"SECRET_KEY: {TEST_SECRET_KEY}\nDATABASE: [{PASSWORD}]\nOPTIONS: [{PASSWORD}]\n")
        with pytest.raises(ConfigError) as info:
            Unmarked.from_sources(environ={}, config_file=str(path))
        database = only_problem(info.value, "DATABASE")
        assert str(database) == f"DATABASE (file {path}): expected a mapping"
        # The same mistake in a field that is not marked shows the value: the mark is what hides it.
        assert PASSWORD in str(only_problem(info.value, "OPTIONS"))

    def test_malformed_json_in_the_environment_is_not_echoed(self):
        with pytest.raises(ConfigError) as info:
            config(DATABASE=f'{{"PASSWORD": "{PASSWORD}"')
        problem = only_problem(info.value, "DATABASE")
        assert problem.where == "environment variable DATABASE"
        assert problem.message.startswith("expected a JSON object; malformed at line 1")
        assert_no_secret(info.value, PASSWORD)

    def test_read_from_a_secret_file_as_json(self, tmp_path):
        path = tmp_path / "database.json"
        path.write_text(f'{{"NAME": "inventory", "PASSWORD": "{PASSWORD}"}}\n')
        settings = config(DATABASE_FILE=str(path))
        assert settings.DATABASE == {"NAME": "inventory", "PASSWORD": PASSWORD}
        assert settings.source_of("DATABASE") == f"file {path}, named by environment variable DATABASE_FILE"

    def test_read_from_a_credential_as_json(self, tmp_path):
        (tmp_path / "api_token_peppers").write_text(f'{{"1": "{PEPPER}"}}')
        settings = config(CREDENTIALS_DIRECTORY=str(tmp_path))
        assert settings.API_TOKEN_PEPPERS == {"1": PEPPER}

    def test_a_secret_file_that_is_no_json_object(self, tmp_path):
        path = tmp_path / "database.json"
        path.write_text(f'["{PASSWORD}"]')
        with pytest.raises(ConfigError) as info:
            config(DATABASE_FILE=str(path))
        assert only_problem(info.value, "DATABASE").message == "expected a JSON object"
        assert_no_secret(info.value, PASSWORD)

    def test_public_values_leave_it_out(self):
        public = Site.public_values(environ={"DATABASE": "not even JSON"})
        assert "DATABASE" not in public
        assert public["BANNER_TOP"] is None


class Unmarked(Site):
    OPTIONS: dict[str, Any] | None = Field(default=None, description="Not marked.")
