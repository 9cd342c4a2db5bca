"""Documents generated from a configuration class: templates in three
formats that load back, the Markdown reference and the resolved view."""

import json
from typing import Any

import pytest
from pydantic import SecretStr
from ruamel.yaml import YAML

from django_zipserve.conf import Field
from django_zipserve.conf import documents as generate
from tests.helpers import ProjectConfig

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

SECRET = "s3cret-must-not-leak-key-5a5a5a5a"
TOKEN = "s3cret-must-not-leak-token-6b6b6b"


class Demo(ProjectConfig):
    """Demo configuration."""

    model_config = {"file_env_var": "TESTPROJECT_CONFIG", "default_files": ["/etc/testproject/config.yml"]}


def parse(text, fmt):
    if fmt == "json":
        return json.loads(text)
    if fmt == "toml":
        return tomllib.loads(text)
    return YAML(typ="safe", pure=True).load(text)


class TestInitialValues:
    def test_defaults_and_a_fresh_secret_key(self):
        first = generate.initial_values(Demo)
        second = generate.initial_values(Demo)
        assert set(first) == set(Demo.model_fields)
        assert isinstance(first["SECRET_KEY"], str)
        assert len(first["SECRET_KEY"]) >= 50
        assert first["SECRET_KEY"] != second["SECRET_KEY"]
        assert first["DATABASE_URL"] is None
        assert first["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
        assert first["LOG_LEVEL"] == "INFO"
        assert first["MARKER"] == "unset"
        assert isinstance(first["WORKERS"], int)

    @pytest.mark.parametrize(
        "value, expected",
        [
            (SecretStr("x"), "x"),
            ((1, SecretStr("y")), [1, "y"]),
            ({"a": SecretStr("z")}, {"a": "z"}),
            (None, None),
            (True, True),
            (2.5, 2.5),
        ],
    )
    def test_plain(self, value, expected):
        assert generate.plain(value) == expected

    def test_plain_turns_paths_into_text(self, tmp_path):
        assert generate.plain(tmp_path) == str(tmp_path)


class TestTemplate:
    @pytest.mark.parametrize("fmt", generate.FORMATS)
    def test_parses_and_loads_back(self, tmp_path, fmt):
        text = generate.template(Demo, fmt)
        data = parse(text, fmt)
        expected_keys = set(Demo.model_fields)
        if fmt == "toml":
            # TOML has no null: unset values are left as comments.
            expected_keys -= {"DATABASE_URL", "STATE_DIR", "API_TOKEN"}
            for key in ("DATABASE_URL", "STATE_DIR", "API_TOKEN"):
                assert f"# {key} = " in text
        assert set(data) == expected_keys
        path = tmp_path / f"config.{fmt}"
        path.write_text(text, encoding="utf-8")
        config = Demo.from_sources(environ={"XDG_STATE_HOME": str(tmp_path)}, config_file=str(path))
        assert config.secret_key() == data["SECRET_KEY"]
        assert config.source_of("SECRET_KEY") == f"file {path}"
        assert config.MARKER == "unset"

    @pytest.mark.parametrize("fmt", ["yaml", "toml"])
    def test_descriptions_become_comments(self, fmt):
        text = generate.template(Demo, fmt)
        assert text.startswith("# Demo configuration.\n")
        assert "# Echoed by /info/ to show which config was read." in text
        assert "# Django's debug mode." in text
        assert all(len(line) <= 80 for line in text.splitlines() if line.startswith("#"))

    def test_json_is_plain_data(self):
        text = generate.template(Demo, "json")
        assert not any(line.lstrip().startswith("#") for line in text.splitlines())
        assert "Demo configuration." not in text
        assert text.endswith("}\n")

    def test_every_template_has_its_own_secret_key(self):
        keys = {parse(generate.template(Demo, "yaml"), "yaml")["SECRET_KEY"] for _ in range(3)}
        assert len(keys) == 3

    @pytest.mark.parametrize("fmt", generate.FORMATS)
    def test_unset_mappings_lists_and_any_values_load_back(self, tmp_path, fmt):
        # A local configuration module's values (init declares them): every one unset.
        class LocalModule(Demo):
            DATABASE: dict[str, Any] | None = Field(
                default=None, description="The database.", json_schema_extra={"secret": True}
            )
            HOSTS: list[str] | None = Field(default=None, description="Hosts.")
            MEDIA_ROOT: Any = Field(default=None, description="Anything.")

        text = generate.template(LocalModule, fmt)
        if fmt != "json":
            assert "# The database.\n" in text
        path = tmp_path / f"config.{fmt}"
        path.write_text(text, encoding="utf-8")
        config = LocalModule.from_sources(environ={"XDG_STATE_HOME": str(tmp_path)}, config_file=str(path))
        assert (config.DATABASE, config.HOSTS, config.MEDIA_ROOT) == (None, None, None)

    def test_toml_template_with_a_mapping_field(self):
        class WithMapping(Demo):
            LIMITS: dict[str, int] = Field(default={"uploads": 5}, description="Per-user limits.")

        assert tomllib.loads(generate.template(WithMapping, "toml"))["LIMITS"] == {"uploads": 5}

    @pytest.mark.parametrize("fmt", ["yaml", "toml"])
    def test_non_bmp_default_survives(self, fmt):
        class Greeting(Demo):
            GREETING: str = Field(default="Hi \U0001f44b", description="Headline.")

        assert parse(generate.template(Greeting, fmt), fmt)["GREETING"] == "Hi \U0001f44b"

    def test_json_template_keeps_non_bmp_default(self):
        class Greeting(Demo):
            GREETING: str = Field(default="Hi \U0001f44b", description="Headline.")

        assert json.loads(generate.template(Greeting, "json"))["GREETING"] == "Hi \U0001f44b"


class TestMarkdown:
    def test_lists_every_field_with_type_default_and_variables(self):
        text = generate.markdown(Demo)
        assert text.startswith("# Demo configuration.\n")
        for name in Demo.model_fields:
            assert f"## `{name}`" in text
            assert f"`{name}`" in text
        assert "## `SECRET_KEY` (secret)" in text
        assert "## `API_TOKEN` (secret)" in text
        assert "## `DATABASE_URL` (secret)" in text
        assert "## `WORKERS` (secret)" not in text
        assert "`API_TOKEN_FILE`, credential `api_token`" in text
        assert "- type: integer" in text
        assert '- type: "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL"' in text
        assert "- default: `3600`" in text
        assert "`TESTPROJECT_CONFIG`" in text
        assert "`/etc/testproject/config.yml`" in text

    def test_field_section_contents(self):
        text = generate.markdown(Demo)
        section = text.split("## `WORKERS`")[1].split("## ")[0]
        assert "Worker processes." in section
        assert "- default: computed" in section
        assert "- environment: `WORKERS`" in section

    def test_env_prefix_in_variable_names(self):
        class Prefixed(Demo):
            model_config = {"env_prefix": "DEMO_"}

        text = generate.markdown(Prefixed)
        assert "- environment: `DEMO_WORKERS`" in text
        assert "`DEMO_SECRET_KEY_FILE`" in text


@pytest.mark.parametrize(
    "annotation, expected",
    [
        (int, "integer"),
        (bool, "boolean"),
        (str, "string"),
        (float, "number"),
        (SecretStr, "secret string"),
        (SecretStr | None, "secret string (optional)"),
        (list[str], "list of string"),
        (int | None, "integer (optional)"),
        (dict[str, Any] | None, "mapping (optional)"),
        (Any, "any value"),
        (list[Any] | None, "list of any value (optional)"),
    ],
)
def test_type_name(annotation, expected):
    assert generate.type_name(annotation) == expected


class TestShow:
    @pytest.fixture
    def config(self, tmp_path):
        path = tmp_path / "demo.yaml"
        path.write_text("MARKER: from-file\n")
        environ = {
            "SECRET_KEY": SECRET,
            "API_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite:///{tmp_path}/private-db-name.sqlite3",
            "WORKERS": "3",
            "STATE_DIR": str(tmp_path / "state"),
        }
        return Demo.from_sources(environ=environ, config_file=str(path)), path

    def rows(self, text):
        return {line.split()[0]: line for line in text.splitlines()[2:] if line.strip()}

    def test_secrets_are_redacted(self, config):
        text = generate.show(config[0])
        for secret in (SECRET, TOKEN, "private-db-name"):
            assert secret not in text
        rows = self.rows(text)
        for key in ("SECRET_KEY", "API_TOKEN", "DATABASE_URL"):
            assert generate.REDACTED in rows[key]

    def test_values_and_sources(self, config, tmp_path):
        config, path = config
        text = generate.show(config)
        assert text.splitlines()[0] == f"config file: {path}"
        rows = self.rows(text)
        assert rows["WORKERS"].split()[1] == "3"
        assert rows["WORKERS"].endswith("environment variable WORKERS")
        assert '"from-file"' in rows["MARKER"]
        assert rows["MARKER"].endswith(f"file {path}")
        assert rows["TIMEOUT"].endswith("default")
        assert json.dumps(str(tmp_path / "state")) in rows["STATE_DIR"]
        assert set(rows) == set(Demo.model_fields)

    def test_unset_secret_and_computed_state_dir(self, tmp_path):
        config = Demo.from_sources(environ={"SECRET_KEY": SECRET, "XDG_STATE_HOME": str(tmp_path)})
        rows = self.rows(generate.show(config))
        assert "(not set)" in rows["API_TOKEN"]
        assert json.dumps(str(tmp_path / "testproject")) in rows["STATE_DIR"]
        assert generate.show(config).startswith("config file: (none)\n")

    def test_list_of_secrets_is_redacted(self):
        class WithTokens(Demo):
            TOKENS: list[SecretStr] = Field(default=[], description="Accepted API tokens.")

        config = WithTokens.from_sources(environ={"SECRET_KEY": SECRET, "TOKENS": f"{TOKEN},other"})
        assert TOKEN not in generate.show(config)
