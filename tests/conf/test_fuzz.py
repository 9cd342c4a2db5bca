"""Fuzzed configuration files and environment values: the configuration loads,
or stops with a report that names a field or the file and never a secret.
"""

import io
import json
import math
import secrets
import subprocess
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_zipserve.conf import documents as generate
from django_zipserve.conf import sources
from django_zipserve.conf.errors import ConfigError, Problem
from tests.helpers import REPO, ProjectConfig, clean_environ, project_command

FIELDS = list(ProjectConfig.model_fields)
SECRET_FIELDS = [name for name in FIELDS if sources.is_secret(ProjectConfig.model_fields[name])]
PLAIN_FIELDS = [name for name in FIELDS if name not in SECRET_FIELDS]
EXTENSIONS = [".yaml", ".yml", ".json", ".toml"]

# Values that are close to valid ones, so that the fuzzing reaches validation
# and the checks across fields, not only the type errors.
PLAUSIBLE = [
    "",
    " ",
    "0",
    "1",
    "-1",
    "2",
    "16",
    "99999999999999999999999",
    "1.5",
    "1e3",
    "nan",
    "inf",
    "true",
    "false",
    "True",
    "yes",
    "no",
    "on",
    "null",
    "none",
    "~",
    "[]",
    "[",
    "]",
    "[1, 2]",
    '["a", 1]',
    '["a", "b"]',
    '{"a": 1}',
    "a,b",
    ",",
    " , ",
    "INFO",
    "debug",
    "DEBUG",
    "WARNING",
    "127.0.0.1:8000",
    "unix:/run/x.sock",
    ":0",
    "/tmp/state",
    "relative/dir",
    "~/state",
    "sqlite://",
    "sqlite:///:memory:",
    "postgres://h/db",
    "mysql://u:p@h/db",
    "oracle://h/db",
    "nosuchscheme://x",
    "://",
    "http://[::1",
    "localhost",
]

text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
env_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24)
env_values = st.one_of(st.sampled_from(PLAUSIBLE), env_text)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-3, 20),
    st.floats(),
    text_values,
    st.sampled_from(PLAUSIBLE),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text_values, children, max_size=3),
    max_leaves=8,
)
keys = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(FIELDS).map(str.lower),
    st.sampled_from(FIELDS).map(str.title),
    st.sampled_from(FIELDS).map(lambda name: f" {name}"),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
documents = st.dictionaries(keys, values, max_size=7)
mutations = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.binary(max_size=3)), max_size=3)


def secret_token(label):
    """A value that cannot turn up in a report by chance."""
    return f"zz{label}{secrets.token_hex(10)}zz"


def toml_string(text):
    # JSON's escapes are valid TOML basic-string escapes; DEL must be escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        pairs = (
            f"{toml_string(str(key))} = {toml_value(item)}" for key, item in value.items() if item is not None
        )
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(type(value))


def serialise(document, extension):
    if extension == ".json":
        return json.dumps(document)
    if extension == ".toml":
        return "".join(
            f"{toml_string(str(key))} = {toml_value(value)}\n"
            for key, value in document.items()
            if value is not None
        )
    from ruamel.yaml import YAML

    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, stream)
    return stream.getvalue()


def mutate(data, edits):
    for position, delete, insert in edits:
        position = position % (len(data) + 1)
        data = data[:position] + insert + data[position + delete :]
    return data


def check_outcome(path, environ, secret_values):
    """The property: loads, or raises ConfigError whose every problem names
    a field or the file, and nothing says a secret. Returns the error."""
    try:
        config = ProjectConfig.from_sources(environ=environ, config_file=str(path))
    except ConfigError as error:
        report = str(error)
        assert error.problems, report
        assert report.startswith("testproject: invalid configuration")
        for secret in secret_values:
            assert secret not in report, f"a secret is in the report:\n{report}"
        for problem in error.problems:
            assert isinstance(problem, Problem)
            assert problem.message, problem
            if problem.key in FIELDS:
                assert problem.where, problem
            else:
                assert str(path) in problem.where, f"names neither a field nor the file: {problem}"
            assert str(problem) in report
        return error
    assert isinstance(config, ProjectConfig)
    shown = generate.show(config)
    for secret in secret_values:
        assert secret not in shown and secret not in repr(config) and secret not in str(config)
    if "SECRET_KEY" in environ:
        assert config.SECRET_KEY.get_secret_value() == environ["SECRET_KEY"], "the environment wins"
    return None


@pytest.fixture
def clean_sources(monkeypatch):
    """from_sources must read what it is given: no --config file or
    describing command left over from another test in this process."""
    monkeypatch.setattr(sources, "_command_line_file", None)
    monkeypatch.setattr(sources, "_defaults_only", False)


def fuzz_settings(examples):
    # No example database: a failure prints its example instead of storing it.
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def test_config_fuzz_documents_and_environment(tmp_path, clean_sources):
    """Random documents (keys from the real field names, their case variants
    and random text; values of every type) as YAML, JSON or TOML, sometimes
    mutated byte by byte, with random environment values: never a
    traceback, never a secret in the report. Then a few of the failing cases
    go through the real entry point: exit status 2, no traceback."""
    failing, loaded = [], []
    counter = iter(range(10**6))

    @fuzz_settings(400)
    @given(
        document=documents,
        extension=st.sampled_from(EXTENSIONS),
        edits=st.one_of(st.just([]), mutations),
        environment=st.dictionaries(st.sampled_from(PLAIN_FIELDS), env_values, max_size=4),
        file_secrets=st.lists(st.sampled_from(SECRET_FIELDS), unique=True),
        database_url=st.sampled_from(
            [None, "postgres://u:{}@h/db", "nosuch://u:{}@h/db", "{}", "sqlite:///{}"]
        ),
        file_var=st.sampled_from([None, "SECRET_KEY_FILE", "API_TOKEN_FILE", "DATABASE_URL_FILE"]),
    )
    def check(document, extension, edits, environment, file_secrets, database_url, file_var):
        secret_key, api_token, in_file, in_url = map(secret_token, ("key", "tok", "file", "url"))
        document = dict(document)
        for name in file_secrets:  # secrets inside the file, next to whatever breaks it
            document[name] = in_file
        data = mutate(serialise(document, extension).encode("utf-8"), edits)
        path = tmp_path / f"case-{next(counter)}{extension}"
        path.write_bytes(data)
        environ = dict(environment, SECRET_KEY=secret_key, API_TOKEN=api_token)
        if database_url:
            environ["DATABASE_URL"] = database_url.format(in_url)
        if file_var:
            environ[file_var] = str(tmp_path / "no-such-secret-file")
        error = check_outcome(path, environ, (secret_key, api_token, in_file, in_url))
        if error is None:
            loaded.append(extension)
        elif len(failing) < 200:
            kinds = frozenset(problem.message.split(":")[0][:30] for problem in error.problems)
            failing.append(
                (
                    kinds,
                    data,
                    extension,
                    environ,
                    (secret_key, api_token, in_file, in_url),
                    str(error).replace(str(path), "{path}"),
                )
            )

    check()
    examples = next(counter)
    assert examples >= 200, f"only {examples} documents were tried"
    assert failing, "the fuzzing produced no invalid configuration at all"
    assert loaded, "no document loaded: the fuzzing never reached a valid configuration"

    # Five failing cases with different problems, through the real process.
    chosen, seen = [], set()
    for case in failing:
        if case[0] not in seen:
            seen.add(case[0])
            chosen.append(case)
    chosen = (chosen + [case for case in failing if case not in chosen])[:5]
    base = clean_environ(PYTHONPATH=REPO, HOME=tmp_path, PYTHONUNBUFFERED=1)
    runs = []
    for index, (_, data, extension, environ, secret_values, report) in enumerate(chosen):
        path = tmp_path / f"replay-{index}{extension}"
        path.write_bytes(data)
        command = project_command("--config", path, "config", "check")
        runs.append(
            (
                subprocess.Popen(
                    command,
                    env=dict(base, **environ),
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                ),
                secret_values,
                report.replace("{path}", str(path)),
            )
        )
    for run, secret_values, report in runs:
        try:
            out, err = (stream.decode("utf-8", "replace") for stream in run.communicate(timeout=120))
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=10)
        assert run.returncode == 2, f"exit {run.returncode}:\n{err[-3000:]}"
        assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
        assert err.startswith("testproject: invalid configuration"), err[-3000:]
        assert err.rstrip("\n") == report, "the process reports what from_sources reported"
        for secret in secret_values:
            assert secret not in err and secret not in out


def test_config_fuzz_random_files(tmp_path, clean_sources):
    """Random bytes and random text in files with a config extension."""

    @fuzz_settings(600)
    @given(
        content=st.one_of(
            st.binary(max_size=300),
            st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
        ),
        extension=st.sampled_from(EXTENSIONS),
    )
    def check(content, extension):
        tried.append(extension)
        path = tmp_path / f"random{extension}"
        path.write_bytes(content)
        secret_key, api_token = secret_token("key"), secret_token("tok")
        check_outcome(path, {"SECRET_KEY": secret_key, "API_TOKEN": api_token}, (secret_key, api_token))

    tried = []
    check()
    assert len(tried) >= 300 and set(tried) == set(EXTENSIONS), f"{len(tried)} files tried"


def nested(extension, depth):
    inner = "[" * depth + "]" * depth
    texts = {".json": f'{{"MARKER": {inner}}}', ".yaml": f"MARKER: {inner}\n", ".toml": f"MARKER = {inner}\n"}
    return texts[extension]


@pytest.mark.parametrize("extension", [".json", ".yaml", ".toml"])
def test_deeply_nested_file_is_a_config_error(tmp_path, clean_sources, extension):
    """A file of a few kB that nests lists deeper than the parsers recurse
    must be reported like any other malformed file, not as a RecursionError
    traceback."""
    path = tmp_path / f"deep{extension}"
    path.write_text(nested(extension, 3000 if extension == ".json" else 1000))
    with pytest.raises(ConfigError) as caught:
        ProjectConfig.from_sources(environ={"SECRET_KEY": secret_token("key")}, config_file=str(path))
    assert all(str(path) in problem.where for problem in caught.value.problems)


def test_yaml_alias_expansion_does_not_blow_up_the_report(tmp_path, clean_sources):
    """A 'billion laughs' file, kept small here (5 levels, 10**5 items of 40
    characters, 0.6 kB on disk): reporting the bad MARKER must not cost
    memory in proportion to the expanded value (a full repr is 4.4 MB and
    peaked at 7 MB before the report used a bounded repr)."""
    warm_up = tmp_path / "warm-up.yaml"
    warm_up.write_text("MARKER: [1, 2]\n")  # imports the parser outside the measurement
    with pytest.raises(ConfigError):
        ProjectConfig.from_sources(environ={"SECRET_KEY": secret_token("key")}, config_file=str(warm_up))
    lines = ["l0: &l0 [" + ", ".join(["x" * 40] * 10) + "]"]
    for level in range(1, 5):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines.append("MARKER: *l4")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            ProjectConfig.from_sources(environ={"SECRET_KEY": secret_token("key")}, config_file=str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    marker = [problem for problem in caught.value.problems if problem.key == "MARKER"]
    # Bounded, whatever the expansion (reprlib's limits allow a couple of kB).
    assert marker and len(str(marker[0])) < 4000, caught.value.report()[-2000:]
    assert peak < 1_000_000, f"reporting on a {path.stat().st_size}-byte file took {peak / 1e6:.1f} MB"
