"""Where configuration values come from: files in three formats, the
environment, ``<NAME>_FILE`` and ``$CREDENTIALS_DIRECTORY``, and what is
reported when one of them cannot be used."""

import json

import pytest
from pydantic import SecretBytes, SecretStr

from django_zipserve.conf import Field, sources
from tests.helpers import (
    TEST_SECRET_KEY,
    WITHOUT_FILE_PERMISSION_OVERRIDE,
    assert_no_secret,
    failure,
    load,
    only_problem,
    run_project,
)
from tests.helpers import ProjectConfig as Demo

SECRET = "s3cret-must-not-leak-key-c0ffee9911"
TOKEN = "s3cret-must-not-leak-token-4d5e6f"
FILE_SECRET = "s3cret-written-in-a-file-77aa"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def credentials(tmp_path):
    directory = tmp_path / "credentials"
    directory.mkdir()
    return directory


class TestPrecedence:
    def test_file_beats_default(self, tmp_path):
        path = write(tmp_path / "c.yaml", f"SECRET_KEY: {SECRET}\nWORKERS: 5\n")
        config = load({}, config_file=str(path))
        assert config.WORKERS == 5
        assert config.source_of("WORKERS") == f"file {path}"
        assert config.THREADS == 1
        assert config.source_of("THREADS") == "default"

    def test_environment_beats_file(self, tmp_path):
        path = write(tmp_path / "c.yaml", f"SECRET_KEY: {SECRET}\nWORKERS: 5\nMARKER: file\n")
        config = load({"WORKERS": "7", "MARKER": "env"}, config_file=str(path))
        assert (config.WORKERS, config.MARKER) == (7, "env")
        assert config.source_of("WORKERS") == "environment variable WORKERS"

    def test_credential_beats_file(self, tmp_path, credentials):
        path = write(tmp_path / "c.yaml", f"SECRET_KEY: {SECRET}\nAPI_TOKEN: from-file\n")
        write(credentials / "api_token", "from-credential\n")
        config = load({"CREDENTIALS_DIRECTORY": str(credentials)}, config_file=str(path))
        assert config.API_TOKEN.get_secret_value() == "from-credential"
        assert config.source_of("API_TOKEN") == "credential api_token in $CREDENTIALS_DIRECTORY"

    def test_name_file_beats_credential(self, tmp_path, credentials):
        path = write(tmp_path / "c.yaml", f"SECRET_KEY: {SECRET}\nAPI_TOKEN: from-file\n")
        write(credentials / "api_token", "from-credential\n")
        token_file = write(tmp_path / "token.txt", "from-token-file\n")
        config = load(
            {"CREDENTIALS_DIRECTORY": str(credentials), "API_TOKEN_FILE": str(token_file)},
            config_file=str(path),
        )
        assert config.API_TOKEN.get_secret_value() == "from-token-file"
        assert config.source_of("API_TOKEN") == (
            f"file {token_file}, named by environment variable API_TOKEN_FILE"
        )

    def test_environment_beats_credential_and_file(self, tmp_path, credentials):
        path = write(tmp_path / "c.yaml", "SECRET_KEY: from-file\n")
        write(credentials / "secret_key", "from-credential")
        environ = {"CREDENTIALS_DIRECTORY": str(credentials), "SECRET_KEY": SECRET}
        config = load(environ, config_file=str(path))
        assert config.secret_key() == SECRET
        assert config.source_of("SECRET_KEY") == "environment variable SECRET_KEY"

    def test_credential_named_like_the_field_also_works(self, credentials):
        write(credentials / "SECRET_KEY", SECRET)
        config = load({"CREDENTIALS_DIRECTORY": str(credentials)})
        assert config.secret_key() == SECRET
        assert config.source_of("SECRET_KEY") == "credential SECRET_KEY in $CREDENTIALS_DIRECTORY"

    def test_credentials_only_for_secrets(self, credentials):
        write(credentials / "workers", "9")
        write(credentials / "secret_key", SECRET)
        config = load({"CREDENTIALS_DIRECTORY": str(credentials)})
        # default_workers() is always even, so 9 can only come from the credential.
        assert config.WORKERS != 9
        assert config.source_of("WORKERS") == "default"

    def test_name_file_only_for_secrets(self, tmp_path):
        workers_file = write(tmp_path / "workers.txt", "9")
        config = load({"SECRET_KEY": SECRET, "WORKERS_FILE": str(workers_file)})
        assert config.WORKERS != 9
        assert config.source_of("WORKERS") == "default"

    def test_env_prefix_applies_to_every_variable(self, tmp_path):
        class Prefixed(Demo):
            model_config = {"env_prefix": "DEMO_"}

        token_file = write(tmp_path / "token", TOKEN + "\n")
        config = load(
            {
                "DEMO_SECRET_KEY": SECRET,
                "DEMO_WORKERS": "4",
                "WORKERS": "9",
                "DEMO_API_TOKEN_FILE": str(token_file),
            },
            cls=Prefixed,
        )
        assert config.WORKERS == 4
        assert config.source_of("WORKERS") == "environment variable DEMO_WORKERS"
        assert config.API_TOKEN.get_secret_value() == TOKEN
        error = failure({"DEMO_SECRET_KEY": SECRET, "DEMO_WORKERS": "x"}, cls=Prefixed)
        assert only_problem(error, "WORKERS").where == "environment variable DEMO_WORKERS"


SAME_SETTINGS = {
    "yaml": f"secret_key: {SECRET}\nWORKERS: 3\nHTTPS: false\n"
    "ALLOWED_HOSTS:\n  - example.com\n  - www.example.com\nMARKER: from-yaml\n",
    "yml": f"SECRET_KEY: {SECRET}\nWORKERS: 3\nHTTPS: false\nALLOWED_HOSTS: [example.com, www.example.com]\n"
    "MARKER: from-yaml\n",
    "json": json.dumps(
        {
            "SECRET_KEY": SECRET,
            "WORKERS": 3,
            "HTTPS": False,
            "ALLOWED_HOSTS": ["example.com", "www.example.com"],
            "MARKER": "from-yaml",
        }
    ),
    "toml": f'SECRET_KEY = "{SECRET}"\nWORKERS = 3\nHTTPS = false\n'
    'ALLOWED_HOSTS = ["example.com", "www.example.com"]\nMARKER = "from-yaml"\n',
    "YAML": f"SECRET_KEY: {SECRET}\nWORKERS: 3\nHTTPS: false\nALLOWED_HOSTS: [example.com, www.example.com]\n"
    "MARKER: from-yaml\n",
}


class TestFileFormats:
    @pytest.mark.parametrize("extension", sorted(SAME_SETTINGS))
    def test_each_format_loads_the_same_values(self, tmp_path, extension):
        path = write(tmp_path / f"demo.{extension}", SAME_SETTINGS[extension])
        config = load({}, config_file=str(path))
        assert config.secret_key() == SECRET
        assert config.WORKERS == 3
        assert config.HTTPS is False
        assert config.ALLOWED_HOSTS == ["example.com", "www.example.com"]
        assert config.MARKER == "from-yaml"
        assert config.source_of("ALLOWED_HOSTS") == f"file {path}"
        assert config.config_file == str(path)

    @pytest.mark.parametrize("name", ["empty.yaml", "empty.json", "empty.toml"])
    def test_empty_file_gives_defaults(self, tmp_path, name):
        path = write(tmp_path / name, "")
        config = load({"SECRET_KEY": SECRET}, config_file=str(path))
        assert Demo.model_fields["WORKERS"].default_factory() == config.WORKERS
        assert config.source_of("WORKERS") == "default"

    def test_keys_match_case_insensitively(self, tmp_path):
        path = write(
            tmp_path / "demo.yaml", f"secret_key: {SECRET}\nWorkers: 6\nhttps: false\nApi_Token: {TOKEN}\n"
        )
        config = load({}, config_file=str(path))
        assert config.WORKERS == 6
        assert config.HTTPS is False
        assert config.API_TOKEN.get_secret_value() == TOKEN
        assert config.source_of("WORKERS") == f"file {path}"

    def test_read_config_file_returns_the_mapping(self, tmp_path):
        path = write(tmp_path / "demo.toml", 'WORKERS = 2\nMARKER = "x"\n')
        assert sources.read_config_file(str(path)) == {"WORKERS": 2, "MARKER": "x"}


class TestChoosingTheFile:
    @pytest.fixture
    def files(self, tmp_path):
        made = {}
        for label in ("explicit", "named", "default1", "default2"):
            made[label] = write(tmp_path / f"{label}.yaml", f"SECRET_KEY: {SECRET}\nMARKER: {label}\n")
        return made

    def cls_with_defaults(self, *paths):
        class WithDefaults(Demo):
            model_config = {
                "file_env_var": "TESTPROJECT_CONFIG",
                "default_files": [str(path) for path in paths],
            }

        return WithDefaults

    def test_config_file_beats_env_var_and_defaults(self, files):
        cls = self.cls_with_defaults(files["default1"])
        config = load(
            {"TESTPROJECT_CONFIG": str(files["named"])}, config_file=str(files["explicit"]), cls=cls
        )
        assert config.MARKER == "explicit"
        assert config.config_file == str(files["explicit"])

    def test_env_var_beats_defaults(self, files):
        cls = self.cls_with_defaults(files["default1"])
        config = load({"TESTPROJECT_CONFIG": str(files["named"])}, cls=cls)
        assert config.MARKER == "named"

    def test_first_existing_default(self, files, tmp_path):
        cls = self.cls_with_defaults(tmp_path / "missing.yaml", files["default2"], files["default1"])
        config = load({}, cls=cls)
        assert config.MARKER == "default2"
        assert config.source_of("MARKER") == f"file {files['default2']}"

    def test_empty_env_var_is_ignored(self, files):
        cls = self.cls_with_defaults(files["default1"])
        assert load({"TESTPROJECT_CONFIG": ""}, cls=cls).MARKER == "default1"

    def test_no_file_at_all(self, tmp_path):
        cls = self.cls_with_defaults(tmp_path / "missing.yaml")
        config = load({"SECRET_KEY": SECRET}, cls=cls)
        assert config.config_file is None
        assert config.MARKER == "unset"

    def test_choose_config_file_explains_why(self, files):
        cls = self.cls_with_defaults(files["default1"])
        assert sources.choose_config_file(cls, {}, str(files["explicit"])) == (
            str(files["explicit"]),
            "given with --config",
        )
        assert sources.choose_config_file(cls, {"TESTPROJECT_CONFIG": str(files["named"])}) == (
            str(files["named"]),
            "named by environment variable TESTPROJECT_CONFIG",
        )
        assert sources.choose_config_file(cls, {}) == (str(files["default1"]), "a default location")

    def test_relative_config_file_is_made_absolute(self, files, monkeypatch):
        monkeypatch.chdir(files["explicit"].parent)
        config = load({}, config_file="explicit.yaml")
        assert config.config_file == str(files["explicit"])


class TestEnvironmentLists:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ('["a.example", "b.example"]', ["a.example", "b.example"]),
            ('  ["a.example"]  ', ["a.example"]),
            ("[]", []),
            ("a.example,b.example", ["a.example", "b.example"]),
            (" a.example , b.example ,, ,c.example, ", ["a.example", "b.example", "c.example"]),
            ("single.example", ["single.example"]),
            ("", []),
            (",", []),
        ],
    )
    def test_json_or_comma_separated(self, text, expected):
        config = load({"SECRET_KEY": SECRET, "ALLOWED_HOSTS": text})
        assert expected == config.ALLOWED_HOSTS
        assert config.source_of("ALLOWED_HOSTS") == "environment variable ALLOWED_HOSTS"

    def test_json_list_of_wrong_items(self):
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN": TOKEN, "CSRF_TRUSTED_ORIGINS": "[1, 2]"})
        assert error.problems
        for problem in error.problems:
            assert problem.key == "CSRF_TRUSTED_ORIGINS"
            assert problem.where == "environment variable CSRF_TRUSTED_ORIGINS"
            assert "expected text" in problem.message
        assert_no_secret(error, SECRET, TOKEN)

    def test_list_with_several_wrong_items_is_reported_once(self):
        error = failure({"SECRET_KEY": SECRET, "CSRF_TRUSTED_ORIGINS": "[1, 2]"})
        assert len(error.problems) == 1, error.report()


class TestSecretFiles:
    @pytest.mark.parametrize(
        "content, expected",
        [("tok", "tok"), ("tok\n", "tok"), ("tok\n\n", "tok\n"), ("  tok \n", "  tok "), ("a\nb\n", "a\nb")],
    )
    def test_name_file_strips_one_trailing_newline(self, tmp_path, content, expected):
        token_file = write(tmp_path / "token", content)
        config = load({"SECRET_KEY": SECRET, "API_TOKEN_FILE": str(token_file)})
        assert config.API_TOKEN.get_secret_value() == expected

    def test_secret_key_file(self, tmp_path):
        key_file = write(tmp_path / "key", SECRET + "\n")
        config = load({"SECRET_KEY_FILE": str(key_file)})
        assert config.secret_key() == SECRET
        assert config.source_of("SECRET_KEY") == (
            f"file {key_file}, named by environment variable SECRET_KEY_FILE"
        )

    def test_credential_strips_one_trailing_newline(self, credentials):
        write(credentials / "secret_key", SECRET + "\n\n")
        assert load({"CREDENTIALS_DIRECTORY": str(credentials)}).secret_key() == SECRET + "\n"

    def test_secret_key_and_secret_key_file_together(self, tmp_path):
        key_file = write(tmp_path / "key", FILE_SECRET + "\n")
        error = failure({"SECRET_KEY": SECRET, "SECRET_KEY_FILE": str(key_file), "API_TOKEN": TOKEN})
        problem = only_problem(error, "SECRET_KEY")
        assert problem.where == "environment variables SECRET_KEY and SECRET_KEY_FILE"
        assert problem.message == "set only one of them"
        assert len(error.problems) == 1
        assert_no_secret(error, SECRET, FILE_SECRET, TOKEN)

    def test_name_file_missing(self, tmp_path):
        missing = tmp_path / "no-such-token"
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN_FILE": str(missing)})
        problem = only_problem(error, "API_TOKEN")
        assert problem.where == f"file {missing}, named by environment variable API_TOKEN_FILE"
        assert problem.message == "cannot be read: No such file or directory"
        assert len(error.problems) == 1
        assert_no_secret(error, SECRET)

    def test_name_file_is_a_directory(self, tmp_path):
        error = failure({"API_TOKEN": TOKEN, "SECRET_KEY_FILE": str(tmp_path)})
        problem = only_problem(error, "SECRET_KEY")
        assert str(tmp_path) in problem.where
        assert "SECRET_KEY_FILE" in problem.where
        assert problem.message.startswith("cannot be read:")
        # Reported once, as unreadable, not also as "required".
        assert len(error.problems) == 1
        assert_no_secret(error, TOKEN)

    def test_name_file_not_utf8(self, tmp_path):
        token_file = tmp_path / "token"
        token_file.write_bytes(b"\xff\xfe\x00bad")
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN_FILE": str(token_file)})
        assert only_problem(error, "API_TOKEN").message == "cannot be read: not UTF-8 text"


@pytest.mark.parametrize("locked", ["file", "directory"])
def test_a_credential_this_user_cannot_read_is_one_line_not_a_traceback(tmp_path, project_env, locked):
    """The service's credential, or $CREDENTIALS_DIRECTORY itself, cannot be
    read: one problem naming the credential, exit status 2, no secret."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    token = write(credentials / "api_token", TOKEN)
    (token if locked == "file" else credentials).chmod(0)
    env = {**project_env, "CREDENTIALS_DIRECTORY": str(credentials)}
    result = run_project(env, "check", prefix=WITHOUT_FILE_PERMISSION_OVERRIDE)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"  - API_TOKEN (credential api_token in $CREDENTIALS_DIRECTORY): {token} cannot be read "
        "by this user: Permission denied\n"
    ) in result.stderr
    assert TOKEN not in result.stderr and TEST_SECRET_KEY not in result.stderr


def unreadable_file(tmp_path):
    path = write(tmp_path / "locked.yaml", f"SECRET_KEY: {FILE_SECRET}\n")
    path.chmod(0)
    return path


# name -> (file name, content or a callable making the file, expected message fragment)
BAD_FILES = {
    "malformed-yaml": (
        "c.yaml",
        f"SECRET_KEY: {FILE_SECRET}\nWORKERS: [1, 2\nHTTPS: true\n",
        "malformed YAML at line",
    ),
    "yaml-tab-indent": ("c.yaml", f"SECRET_KEY: {FILE_SECRET}\n\tWORKERS: 2\n", "malformed YAML"),
    "malformed-json": (
        "c.json",
        f'{{"SECRET_KEY": "{FILE_SECRET}", "WORKERS": }}',
        "malformed JSON at line 1",
    ),
    "malformed-toml": ("c.toml", f'SECRET_KEY = "{FILE_SECRET}"\nWORKERS = = 2\n', "malformed TOML"),
    "toml-unclosed-string": ("c.toml", f'SECRET_KEY = "{FILE_SECRET}\n', "malformed TOML"),
    "unknown-extension": (
        "c.ini",
        f"[main]\nSECRET_KEY = {FILE_SECRET}\n",
        "unsupported file extension '.ini'; expected one of .yaml, .yml, .json, .toml",
    ),
    "no-extension": ("config", f"SECRET_KEY: {FILE_SECRET}\n", "unsupported file extension '(none)'"),
    "top-level-list": ("c.yaml", f"- SECRET_KEY: {FILE_SECRET}\n- WORKERS: 2\n", "expected a mapping"),
    "top-level-json-list": ("c.json", json.dumps([FILE_SECRET]), "expected a mapping"),
    "top-level-scalar": ("c.yaml", f"{FILE_SECRET}\n", "expected a mapping"),
    "not-utf8": ("c.yaml", b"SECRET_KEY: \xff\xfe\n", "cannot be decoded as UTF-8"),
}


class TestBadFiles:
    @pytest.mark.parametrize("case", sorted(BAD_FILES))
    def test_report_names_file_and_expectation(self, tmp_path, case):
        name, content, expected = BAD_FILES[case]
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            write(path, content)
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN": TOKEN}, config_file=str(path))
        assert len(error.problems) == 1, error.report()
        problem = error.problems[0]
        assert problem.key == ""
        assert problem.where == f"file {path}, given with --config"
        assert expected in problem.message
        assert str(problem).startswith(f"configuration (file {path}")
        assert_no_secret(error, SECRET, TOKEN, FILE_SECRET)

    def test_file_is_a_directory(self, tmp_path):
        path = tmp_path / "conf.yaml"
        path.mkdir()
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN": TOKEN}, config_file=str(path))
        problem = error.problems[0]
        assert problem.where == f"file {path}, given with --config"
        assert problem.message == "is a directory, expected a file"
        assert_no_secret(error, SECRET, TOKEN)

    def test_config_file_missing(self, tmp_path):
        path = tmp_path / "nowhere.yaml"
        error = failure({"SECRET_KEY": SECRET}, config_file=str(path))
        assert error.problems[0].where == f"file {path}, given with --config"
        assert error.problems[0].message == "file not found"

    def test_env_var_names_missing_file(self, tmp_path):
        path = tmp_path / "nowhere.toml"
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN": TOKEN, "TESTPROJECT_CONFIG": str(path)})
        problem = error.problems[0]
        assert problem.where == f"file {path}, named by environment variable TESTPROJECT_CONFIG"
        assert problem.message == "file not found"
        assert_no_secret(error, SECRET, TOKEN)

    def test_unknown_key(self, tmp_path):
        path = write(tmp_path / "c.yaml", f"SECRET_KEY: {FILE_SECRET}\nCOLOUR: blue\nWORKERS: 2\n")
        error = failure({"API_TOKEN": TOKEN}, config_file=str(path))
        problem = only_problem(error, "COLOUR")
        assert problem.where == f"file {path}"
        assert "unknown setting" in problem.message
        assert "config docs" in problem.message
        assert len(error.problems) == 1
        assert_no_secret(error, TOKEN, FILE_SECRET)

    def test_nested_table_is_an_unknown_key(self, tmp_path):
        path = write(tmp_path / "c.toml", f'SECRET_KEY = "{FILE_SECRET}"\n[server]\nWORKERS = 2\n')
        error = failure({}, config_file=str(path))
        assert only_problem(error, "server").where == f"file {path}"
        assert_no_secret(error, FILE_SECRET)

    def test_malformed_json_list_in_env(self):
        error = failure({"SECRET_KEY": SECRET, "API_TOKEN": TOKEN, "ALLOWED_HOSTS": '["a.example", '})
        problem = only_problem(error, "ALLOWED_HOSTS")
        assert problem.where == "environment variable ALLOWED_HOSTS"
        assert "expected a JSON list or comma-separated values" in problem.message
        assert "malformed" in problem.message
        assert_no_secret(error, SECRET, TOKEN)

    def test_unreadable_values_reported_with_invalid_ones(self, tmp_path):
        path = write(tmp_path / "c.json", json.dumps({"SECRET_KEY": FILE_SECRET, "THREADS": "x", "SHADE": 1}))
        error = failure(
            {"API_TOKEN_FILE": str(tmp_path / "missing"), "ALLOWED_HOSTS": "[", "WORKERS": "-1"},
            config_file=str(path),
        )
        assert sorted(problem.key for problem in error.problems) == [
            "ALLOWED_HOSTS",
            "API_TOKEN",
            "SHADE",
            "THREADS",
            "WORKERS",
        ]
        assert_no_secret(error, FILE_SECRET)

    def test_duplicate_secret_in_yaml_is_not_echoed(self, tmp_path):
        path = write(tmp_path / "c.yaml", f"SECRET_KEY: {SECRET}\nWORKERS: 2\nSECRET_KEY: {FILE_SECRET}\n")
        error = failure({}, config_file=str(path))
        assert "malformed YAML" in error.problems[0].message
        assert_no_secret(error, SECRET, FILE_SECRET)


class TestSecretDetection:
    @pytest.mark.parametrize(
        "annotation, secret",
        [
            (SecretStr, True),
            (SecretStr | None, True),
            (str, False),
            (list[str], False),
            (int | None, False),
        ],
    )
    def test_is_secret(self, annotation, secret):
        class Probe(Demo):
            PROBE: annotation = Field(default=None, description="x")

        assert sources.is_secret(Probe.model_fields["PROBE"]) is secret

    @pytest.mark.parametrize(
        "annotation",
        [list[SecretStr], SecretBytes | None],
        ids=["list-of-secrets", "secret-bytes"],
    )
    def test_nested_or_bytes_secrets_are_not_echoed(self, tmp_path, annotation):
        class Probe(Demo):
            PROBE: annotation = Field(default=None, description="x")

        # A list where one item is not text: invalid for both annotations.
        path = write(tmp_path / "c.yaml", f"PROBE: [{FILE_SECRET}, 5]\n")
        error = failure({"SECRET_KEY": SECRET}, config_file=str(path), cls=Probe)
        assert error.problems[0].key == "PROBE"
        assert_no_secret(error, FILE_SECRET)


def test_a_key_that_swallowed_its_value_is_not_echoed(tmp_path):
    # A lost colon makes "API_TOK <secret>" one key of the mapping.
    path = tmp_path / "broken.yaml"
    path.write_text(f"MARKER: x\nAPI_TOK {TOKEN}: 1\nMARK ER: y\n")
    error = failure({"SECRET_KEY": SECRET}, config_file=str(path))
    assert_no_secret(error, TOKEN)
    assert "a key that begins like API_TOKEN and goes on" in error.report()
    assert "a key that is not a setting name" in error.report()


@pytest.mark.parametrize("line", ["{API_TOKEN%s}", "api_token%s: 1", "{API_TOKE%s}"])
def test_a_secret_joined_to_its_name_is_not_echoed(tmp_path, line):
    # A lost ": " in a flow mapping makes "API_TOKEN<secret>" one key, a name.
    path = tmp_path / "broken.yaml"
    path.write_text(line % TOKEN + "\n")
    error = failure({"SECRET_KEY": SECRET}, config_file=str(path))
    assert_no_secret(error, TOKEN)
    assert "a key that begins like API_TOKEN and goes on" in error.report()
