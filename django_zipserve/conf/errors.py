"""Configuration errors, reported the way an operator wants to read them.

A bad configuration must stop the process with one short report that names
each offending key, where its value came from and what was expected, and
never prints a secret. pydantic's own report does none of that: it is a
traceback that, on a missing field, dumps every other loaded value.
"""

import sys
from dataclasses import dataclass

from ..errors import ZipserveError

#: The project name used where a project has not set its own.
DEFAULT_NAME = "django"
#: The configuration file a service of the project named NAME reads.
SYSTEM_CONFIG_FILE = "/etc/{name}/config.yml"

#: Exit status of a process stopped by bad configuration (a usage error).
EXIT_STATUS = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration."""

    key: str  # the setting's name, or "" when the problem is a whole file
    where: str  # e.g. "environment variable WORKERS" or "file /etc/app.yml"
    message: str

    def __str__(self):
        subject = self.key or "configuration"
        if self.where:
            return f"{subject} ({self.where}): {self.message}"
        return f"{subject}: {self.message}"


class ConfigError(ZipserveError):
    """The configuration cannot be loaded; carries every problem found."""

    exit_status = EXIT_STATUS

    def __init__(self, problems, name=DEFAULT_NAME):
        self.problems = list(problems)
        self.name = name
        super().__init__(self.report())

    def report(self):
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.name}: invalid configuration ({count} {noun}):"]
        lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)

    def exit(self, stream=None):
        """Print the report and end the process with status 2, no traceback."""
        stream = stream or sys.stderr
        print(self.report(), file=stream)
        stream.flush()
        raise SystemExit(EXIT_STATUS)


def describe_expectation(error, given=None):
    """Turn one pydantic error into 'expected ...' wording without its input;
    ``given``, the value as the file typed it, only tells its type apart."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "int_parsing": "expected a whole number",
        "int_type": "expected a whole number",
        "int_from_float": "expected a whole number",
        "float_parsing": "expected a number",
        "float_type": "expected a number",
        "bool_parsing": "expected true or false",
        "bool_type": "expected true or false",
        "list_type": "expected a list (in the environment: a JSON list or comma-separated values)",
        "dict_type": "expected a mapping",
        "missing": "required, but not set",
        "url_parsing": "expected a URL",
        "url_scheme": "expected a URL with a supported scheme",
        "path_type": "expected a file system path",
        "extra_forbidden": "unknown setting",
    }
    if kind == "string_type":
        return expected_text(given)
    if kind in simple:
        return simple[kind]
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"expected a value {words} {ctx.get(name)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}"
    message = error.get("msg", "invalid value")
    # pydantic prefixes custom errors with "Value error, "; it reads as noise.
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message[:1].lower() + message[1:]


def expected_text(given):
    """A YAML, TOML or JSON file types ``5432`` and ``true`` itself; the
    project's setting wants the text its environment variable would hold."""
    if isinstance(given, bool):
        return "expected text, not true/false (put it in quotes in the file)"
    if isinstance(given, (int, float)):
        return "expected text, not a number (put it in quotes in the file)"
    return "expected text"
