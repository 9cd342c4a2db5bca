"""The installer the build runs: uv, or pip.

uv installs the same distributions into the same ``--target`` tree several
times faster than pip, but it reads none of pip's configuration. A build
that went to PyPI where pip had been told to use a private index could
install another package of the same name; one that ignored pip's
constraint file would install other versions. So pip's configuration
(``pip config list``: its files and ``PIP_*`` variables) is carried over to
uv, option by option; one that has no uv equivalent makes the build use pip,
and the build says which and why. Only option names are printed: an index
URL can hold a password.
"""

import ast
import shlex
import subprocess
import sys

from .lockfiles import uv_binary

#: pip's options, as ``pip config list`` names them, and uv's equivalent
#: arguments (each value of a list option becomes one argument).
UV_ARGUMENTS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
    "trusted-host": "--allow-insecure-host",
}
#: pip's switches and their uv equivalent.
UV_SWITCHES = {"no-index": "--no-index", "no-cache-dir": "--no-cache"}
#: pip's options that uv takes from the environment.
UV_ENVIRONMENT = {"cert": "SSL_CERT_FILE", "timeout": "UV_HTTP_TIMEOUT", "default-timeout": "UV_HTTP_TIMEOUT"}
#: pip's options that change nothing of what is installed.
NO_EFFECT = {
    "disable-pip-version-check",
    "no-input",
    "progress-bar",
    "root-user-action",
    "no-warn-script-location",
    "retries",
    "quiet",
    "verbose",
    "cache-dir",
    "break-system-packages",
    "config-file",  # where the configuration was read from
}
#: The scopes of ``pip config list`` that apply to ``pip install``.
INSTALL_SCOPES = ("global", "install", ":env:")


class Choice:
    """The installer, the reason it was chosen, and what uv is given of
    pip's configuration."""

    def __init__(self, name, reason, arguments=(), environment=None):
        self.name = name
        self.reason = reason
        self.arguments = list(arguments)
        self.environment = dict(environment or {})

    def command(self, target, quiet):
        """Install into ``target``, before what it installs: no bytecode
        (compiled later, reproducibly), no questions."""
        if self.name == "uv":
            command = [uv_binary(), "pip", "install", "--target", str(target), "--python", sys.executable]
            command += ["--no-progress", *self.arguments]
            return [*command, "--quiet"] if quiet else command
        command = [
            sys.executable,
            *("-m", "pip", "install", "--target", str(target), "--no-compile"),
            *("--disable-pip-version-check", "--no-warn-script-location", "--no-input"),
        ]
        return [*command, "--quiet"] if quiet else command

    def env(self, env):
        return {**env, **self.environment}


def pip_configuration(env):
    """``{option: value}`` of pip's configuration that ``pip install``
    reads, the later source winning (a variable over the files)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    options = {}
    for line in listed.splitlines():
        name, _, value = line.partition("=")
        scope, _, option = name.rpartition(".")
        if scope in INSTALL_SCOPES and value:
            options[option] = literal(value)
    return options


def literal(value):
    """A value as ``pip config list`` prints it (its repr)."""
    try:
        return str(ast.literal_eval(value))
    except (ValueError, SyntaxError):
        return value


def translate(options):
    """``(arguments, environment, untranslatable option names)`` for uv."""
    arguments, environment, left = [], {}, []
    for option, value in sorted(options.items()):
        try:
            if option in UV_ARGUMENTS:
                for item in shlex.split(value):
                    arguments += [UV_ARGUMENTS[option], item]
            elif option in UV_SWITCHES:
                if value.lower() in ("1", "true", "yes", "on"):
                    arguments.append(UV_SWITCHES[option])
            elif option in UV_ENVIRONMENT:
                uv_value = str(round(float(value))) if "timeout" in option else value
                environment[UV_ENVIRONMENT[option]] = uv_value
            elif option not in NO_EFFECT:
                left.append(option)
        except ValueError:  # a value uv would not read as pip does (unbalanced quotes, a timeout of "soon")
            left.append(option)
    if "extra-index-url" in options or "find-links" in options:
        # pip takes the best version from every index; uv by default only
        # the first index that has the package. The same pins must resolve.
        arguments += ["--index-strategy", "unsafe-best-match"]
    return arguments, environment, left


def choose(requested, env):
    """The installer to use; ``requested`` is "uv", "pip" or None (the default)."""
    if requested == "pip":
        return Choice("pip", "asked for")
    if uv_binary() is None:
        if requested == "uv":
            return None
        return Choice("pip", "uv is not installed (pip install 'django-zipserve[build]')")
    options = pip_configuration(env)
    arguments, environment, left = translate(options)
    if left:
        names = ", ".join(left)
        if requested == "uv":
            return Choice("uv", f"asked for; pip's {names} not carried over", arguments, environment)
        return Choice("pip", f"pip's configuration sets {names}, which uv has no equivalent for")
    translated = sorted(option for option in options if option not in NO_EFFECT)
    carried = f"; pip's {', '.join(translated)} carried over" if translated else ""
    return Choice("uv", ("asked for" if requested else "the default") + carried, arguments, environment)


def describe(choice):
    return f"{choice.name} ({choice.reason})"
