"""Secrets written into the project's own files, found before they are packaged.

An artifact is copied to every server and kept in an artifact store: a
secret inside it is readable by whoever can read any copy, for as long as
any copy exists, and changing it means a new build. The build scans what it
packages from the project (its installed files and data directories; not
its dependencies) and refuses, naming the file and line, when it finds:

- a string literal assigned to a name, or given under a dict key, that
  names a secret (``SECRET_KEY = "…"``, ``"PASSWORD": "…"``,
  ``API_TOKEN_PEPPERS = {1: "…"}``, an ``.env`` line ``DB_PASSWORD=…``);
- a URL with a password in it (``postgres://user:pass@host/db``);
- a private key (``-----BEGIN … PRIVATE KEY-----``).

Literals passed to a call (``env("SECRET_KEY", default="…")``) are defaults
for development and not reported, nor is anything in test modules or tests
folders (credentials made up for the tests); nor are values that cannot be
secrets:
short ones, dotted paths, text with spaces, Django's ``django-insecure-``
keys, placeholders. What is not a secret is declared: ``# zipserve:
not-a-secret`` on the line, or the file in ``not-secrets``.
"""

import ast
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: The comment that marks a line as holding no secret.
PRAGMA = "zipserve: not-a-secret"
#: Words of a name that say its value is a secret.
SECRET_WORDS = {"secret", "password", "passwd", "pwd", "token", "pepper", "peppers", "apikey", "credentials"}
#: Word pairs that do the same (API_KEY, PRIVATE_KEY, ...).
SECRET_PAIRS = {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("auth", "key")}
#: Shorter values are test values or placeholders, not credentials.
MINIMUM_LENGTH = 8
PLACEHOLDER = re.compile(
    r"^(password$|secret$|django-insecure-|change[-_ ]?me|replace[-_ ]?me|your[-_]|example|dummy"
    r"|placeholder|<|\$\{|\{|!!!|x{4,}|\*{3,})",
    re.IGNORECASE,
)
DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
#: Names rather than credentials: ``password_reset``, ``auth-token``.
IDENTIFIER = re.compile(r"^[a-z]+([_-][a-z]+)+$")
#: A file path or a URL path: ``registration/password_reset.html``, ``/run/secrets/db``.
FILE_PATH = re.compile(r"^(/|\.{1,2}/|~/)|^[\w./-]+\.(html?|txt|css|js|json|ya?ml|toml|py|xml|svg|png|pem)$")
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:([^\s/@'\"]+)@", re.IGNORECASE)
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
#: Text files besides Python that are read for keys, URLs and .env lines.
TEXT_SUFFIXES = {".env", ".cfg", ".ini", ".conf", ".toml", ".yml", ".yaml", ".json", ".pem", ".key", ".txt"}
#: Files larger than this are data, not configuration.
LARGEST = 1 << 20


@dataclass(frozen=True)
class Finding:
    path: str  # as the project names it
    line: int
    what: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.what}"


#: A last word that names something about a secret, not the secret itself:
#: ``SECRET_KEY_CHARSET``, ``PASSWORD_MIN_LENGTH``, ``TOKEN_HEADER``.
ABOUT_A_SECRET = {
    "charset",
    "chars",
    "length",
    "name",
    "file",
    "path",
    "header",
    "timeout",
    "age",
    "id",
    "url",
}


def names_a_secret(name):
    """``SECRET_KEY``, ``db_password``, ``apiToken``: the name's words say secret."""
    words = [word.lower() for word in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", str(name))]
    if not words or words[-1] in ABOUT_A_SECRET:
        return False
    pairs = zip(words, words[1:], strict=False)
    return bool(SECRET_WORDS.intersection(words)) or any(pair in SECRET_PAIRS for pair in pairs)


def looks_secret(value):
    """Whether a literal could be a credential rather than a placeholder,
    a dotted path or a sentence."""
    value = value.strip().strip("'\"")
    return (
        len(value) >= MINIMUM_LENGTH
        and not any(character.isspace() for character in value)
        and not PLACEHOLDER.match(value)
        and not DOTTED_PATH.match(value)
        and not IDENTIFIER.match(value)
        and not FILE_PATH.search(value)
        and "://" not in value
        and len(set(value)) > 3
    )


def url_password(value):
    """The password a URL carries, when it is not a placeholder."""
    match = URL_PASSWORD.search(value)
    return match.group(1) if match and looks_secret(match.group(1)) else None


def string_findings(value):
    """What a string holds wherever it stands: a private key, a URL with a password."""
    found = ["a private key"] if PRIVATE_KEY.search(value) else []
    return found + (["a URL with a password in it"] if url_password(value) else [])


# -- Python files -------------------------------------------------------------


def target_names(node):
    """The names an assignment binds (``A = B = …``, ``x.A = …``, ``A: str = …``)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    found = []
    for target in targets:
        if isinstance(target, ast.Name):
            found.append(target.id)
        elif isinstance(target, ast.Attribute):
            found.append(target.attr)
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            found.append(str(target.slice.value))
    return found


def literal_secrets(value, label, secret):
    """``(node, label)`` of every string literal in ``value`` (not inside a
    call) that is a secret: under a secret-named name or dict key."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [(value, label)] if secret and looks_secret(value.value) else []
    if isinstance(value, ast.Dict):
        found = []
        for key, item in zip(value.keys, value.values, strict=True):
            named = isinstance(key, ast.Constant) and isinstance(key.value, str) and names_a_secret(key.value)
            inner = f"{label}[{key.value!r}]" if isinstance(key, ast.Constant) else label
            found += literal_secrets(item, inner, secret or named)
        return found
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and secret:
        return [pair for element in value.elts for pair in literal_secrets(element, label, secret)]
    return []


def python_findings(text):
    """``(line, what)`` for a Python file's secrets."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            names = target_names(node)
            secret = any(names_a_secret(name) for name in names)
            label = next((name for name in names if names_a_secret(name)), names[0] if names else "a value")
            for literal, where in literal_secrets(node.value, label, secret):
                found.append((literal.lineno, f"a literal secret assigned to {where}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [(node.lineno, what) for what in string_findings(node.value)]
    return found


# -- other text files ---------------------------------------------------------


def text_findings(text, env_style):
    """``(line, what)`` for a text file: private keys, URLs with a password,
    and, in ``.env`` files, secret-named assignments."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        found += [(number, what) for what in string_findings(line)]
        if env_style:
            match = ENV_LINE.match(line)
            if match and names_a_secret(match.group(1)) and looks_secret(match.group(2)):
                found.append((number, f"a secret assigned to {match.group(1)}"))
    return found


def is_env_file(path):
    return path.name == ".env" or path.name.startswith(".env.") or path.suffix == ".env"


def file_findings(path):
    """``(line, what)`` for one file; lines marked with the pragma are left out."""
    if path.stat().st_size > LARGEST or not (path.suffix in (".py", *TEXT_SUFFIXES) or is_env_file(path)):
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    if path.suffix == ".py":
        try:
            found = python_findings(text)
        except SyntaxError:
            found = text_findings(text, env_style=False)
    else:
        found = text_findings(text, env_style=is_env_file(path))
    lines = text.splitlines()
    return sorted({(number, what) for number, what in found if PRAGMA not in lines[number - 1]})


# -- what the build packages ---------------------------------------------------


def scan(files, not_secrets=()):
    """Findings in ``files``: ``(shown path, Path)`` pairs; ``not_secrets``
    are globs of shown paths declared to hold none."""
    findings = []
    for shown, path in files:
        if is_test_file(shown) or any(fnmatch.fnmatch(shown, pattern) for pattern in not_secrets):
            continue
        findings += [Finding(shown, number, what) for number, what in file_findings(path)]
    return findings


def is_test_file(shown):
    """A test module or a file of a tests folder: its credentials are made up
    for the tests (a fixture user's password), and reporting them buried the
    real findings (28 of 31 on NetBox)."""
    parts = PurePosixPath(shown).parts
    name = parts[-1] if parts else ""
    stem = name.removesuffix(".py") if name.endswith(".py") else ""
    return (
        any(part in ("tests", "test") for part in parts[:-1])
        or name.startswith("test_")
        or name in ("tests.py", "conftest.py")
        # settings or a configuration for the tests and CI (NetBox's
        # configuration_testing.py, Baby Buddy's settings/test.py and ci.py)
        or stem in ("test", "testing", "ci")
        or stem.endswith(("_tests", "_test", "_testing", "_ci"))
    )


def packaged_files(site, source, project_files, data_dirs):
    """The project's own files in the installed tree, each named as in the
    project's source when it comes from there: its installed files
    (``project_files``, relative to ``site``) and its data directories."""
    names = set(project_files)
    for entry in data_dirs:
        root = Path(site) / entry
        if root.is_file():
            names.add(PurePosixPath(entry).as_posix())
        elif root.is_dir():
            names |= {path.relative_to(site).as_posix() for path in root.rglob("*") if path.is_file()}
    pairs = []
    for name in sorted(names):
        path = Path(site) / name
        if path.is_file() and not path.is_symlink():
            pairs.append((shown_name(name, source), path))
    return pairs


def shown_name(name, source):
    """A packaged file's path as the project has it (``src/`` layouts included)."""
    for prefix in ("", "src/"):
        if (Path(source) / prefix / name).is_file():
            return prefix + name
    return name


def refusal(findings):
    """The build's one-line refusal for what was found."""
    first = findings[0]
    more = f" (and {len(findings) - 1} more: {', '.join(f'{f.path}:{f.line}' for f in findings[1:6])})"
    return (
        f"{first}{more if len(findings) > 1 else ''}: the artifact would carry it to every server and "
        "artifact store. Read it from the configuration instead (an environment variable or the "
        f"config file); if it is no secret, add '# {PRAGMA}' to the line or list the file in "
        "not-secrets in [tool.django-zipserve]"
    )
