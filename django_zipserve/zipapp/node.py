"""Node.js for a project's shell steps, checked before the build starts.

A front-end build (``npm ci``, ``npx gulp build``) needs ``node`` and its
package manager on ``PATH``, and a Node that ``package.json`` accepts
(``engines.node``). npm itself only warns about the version, and a build
tool then fails minutes later in words about something else; so the build
checks both before it runs any step, and refuses in one line naming
``package.json``, the range and the Node it found.

The ranges are npm's (node-semver): ``^24``, ``~20.1``, ``>=18 <21``,
``20.x``, ``18 - 20``, ``*``, alternatives joined by ``||``. Node releases
carry no pre-release tag, so a version is compared as ``major.minor.patch``
(a bound's pre-release tag only orders it before its release).
"""

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

#: Commands that run on Node, and what else they need on PATH besides node.
NODE_COMMANDS = {
    "node": (),
    "npm": ("npm",),
    "npx": ("npx",),
    "yarn": ("yarn",),
    "pnpm": ("pnpm",),
    "corepack": ("corepack",),
}
#: How to get each missing command.
INSTALL_HINT = {
    "node": "install Node.js (with npm) on the build machine",
    "npm": "install Node.js with npm on the build machine",
    "npx": "install Node.js with npm on the build machine",
    "yarn": "install yarn (corepack enable, or npm install --global yarn)",
    "pnpm": "install pnpm (corepack enable, or npm install --global pnpm)",
    "corepack": "install a Node.js that ships corepack",
}
#: What separates the commands of one shell step.
SHELL_SEPARATORS = re.compile(r"&&|\|\||[;|\n]")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class RangeError(ValueError):
    """A version range that is not npm's syntax."""


# -- npm's version ranges ------------------------------------------------------

#: A partial version: ``20``, ``20.x``, ``20.1.*``, ``v20.1.0-rc.1+build``.
PARTIAL = re.compile(
    r"^v?(?P<major>x|X|\*|\d+)"
    r"(?:\.(?P<minor>x|X|\*|\d+)"
    r"(?:\.(?P<patch>x|X|\*|\d+)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?$"
)
COMPARATOR = re.compile(r"^(?P<op><=|>=|<|>|=|~>|~|\^)?(?P<version>.*)$")
HYPHEN = re.compile(r"^(?P<low>\S+)\s+-\s+(?P<high>\S+)$")
#: An operator followed by spaces (``>= 18``): npm joins them.
LOOSE_OPERATOR = re.compile(r"(<=|>=|<|>|=|~>|~|\^)\s+")
#: The lowest version there is (``0.0.0-0``): below every release.
LOWEST = (0, 0, 0, 0)
WILD = ("x", "X", "*")


def _number(part):
    return None if part is None or part in WILD else int(part)


def _partial(text):
    """``(major, minor, patch, pre)`` with None for what is wild or missing."""
    match = PARTIAL.match(text)
    if match is None:
        raise RangeError(f"{text!r} is not a version")
    major, minor, patch = (_number(match.group(name)) for name in ("major", "minor", "patch"))
    if major is None:
        minor = patch = None
    elif minor is None:
        patch = None
    return major, minor, patch, match.group("pre")


def _key(major, minor=0, patch=0, pre=None):
    """A version as it orders: a pre-release just before its release."""
    return (major, minor or 0, patch or 0, 0 if pre else 1)


def _start(major, minor=0, patch=0):
    """The lowest version from ``major.minor.patch`` on (``X.Y.Z-0``)."""
    return (major, minor, patch, 0)


def _desugar(op, version):
    """One comparator of the range as ``[(op, key)]`` with op one of
    ``>=``, ``>``, ``<``, ``<=``; ``[]`` matches every version."""
    major, minor, patch, pre = _partial(version)
    if op in ("~", "~>"):
        if major is None:
            return []
        if minor is None:
            return [(">=", _start(major)), ("<", _start(major + 1))]
        return [(">=", _key(major, minor, patch, pre)), ("<", _start(major, minor + 1))]
    if op == "^":
        if major is None:
            return []
        low = (">=", _key(major, minor, patch, pre))
        if major > 0 or minor is None:
            return [low, ("<", _start(major + 1))]
        if minor > 0 or patch is None:
            return [low, ("<", _start(0, minor + 1))]
        return [low, ("<", _start(0, 0, patch + 1))]
    if op in ("", "="):
        if major is None:
            return []
        if minor is None:
            return [(">=", _start(major)), ("<", _start(major + 1))]
        if patch is None:
            return [(">=", _start(major, minor)), ("<", _start(major, minor + 1))]
        return [(">=", _key(major, minor, patch, pre)), ("<=", _key(major, minor, patch, pre))]
    if major is None:  # >*, <*: nothing; >=*, <=*: everything
        return [("<", LOWEST)] if op in ("<", ">") else []
    if op == ">":
        if minor is None:
            return [(">=", _start(major + 1))]
        if patch is None:
            return [(">=", _start(major, minor + 1))]
        return [(">", _key(major, minor, patch, pre))]
    if op == ">=":
        return [(">=", _key(major, minor, patch, pre))]
    if op == "<":
        return [("<", _key(major, minor, patch, pre) if patch is not None else _start(major, minor or 0))]
    # <=
    if minor is None:
        return [("<", _start(major + 1))]
    if patch is None:
        return [("<", _start(major, minor + 1))]
    return [("<=", _key(major, minor, patch, pre))]


def _hyphen(low, high):
    """``18 - 20``: from the first version, through every version of the second."""
    return _desugar(">=", low) + _desugar("<=", high)


def parse_range(text):
    """A range as its alternatives, each a list of ``(op, key)`` that must all hold."""
    if not isinstance(text, str):
        raise RangeError(f"{text!r} is not a string")
    alternatives = []
    for part in text.split("||"):
        part = part.strip()
        hyphen = HYPHEN.match(part)
        if hyphen:
            alternatives.append(_hyphen(hyphen.group("low"), hyphen.group("high")))
            continue
        comparators = []
        for token in LOOSE_OPERATOR.sub(r"\1", part).split():
            match = COMPARATOR.match(token)
            if match is None:  # never: COMPARATOR's version part is ".*"
                raise RangeError(f"{token!r} is not a comparator")
            comparators += _desugar(match.group("op") or "", match.group("version"))
        alternatives.append(comparators)
    return alternatives


def node_version(text):
    """``v20.19.0`` (what ``node --version`` prints) as a comparable key."""
    match = re.match(r"^\s*v?(\d+)\.(\d+)\.(\d+)(-\S+)?\s*$", text)
    if match is None:
        raise RangeError(f"{text.strip()!r} is not a Node version")
    return _key(int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4))


OPERATORS = {
    ">=": lambda version, bound: version >= bound,
    ">": lambda version, bound: version > bound,
    "<": lambda version, bound: version < bound,
    "<=": lambda version, bound: version <= bound,
}


def satisfies(version, text):
    """Whether a version (``v20.19.0``) is in an npm range (``^24``, ``>=18 <21``)."""
    key = node_version(version)
    return any(
        all(OPERATORS[op](key, bound) for op, bound in alternative) for alternative in parse_range(text)
    )


# -- what the shell steps need ---------------------------------------------------


def _words(command):
    try:
        return shlex.split(command)
    except ValueError:  # an unbalanced quote: the shell will say so
        return command.split()


def commands_run(step):
    """``(program, folder)`` for each command of a shell step; ``folder`` is
    where an earlier ``cd`` of the step went (``None``: the project's root)."""
    found, folder = [], None
    for part in SHELL_SEPARATORS.split(step):
        words = _words(part)
        while words and ENV_ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words[:1] == ["env"]:
            words = [word for word in words[1:] if not ENV_ASSIGNMENT.match(word)]
        if not words:
            continue
        if words[0] == "cd" and len(words) > 1:
            folder = words[1] if folder is None else f"{folder}/{words[1]}"
            continue
        program = Path(words[0]).name
        prefix = _prefix(words)
        found.append((program, prefix if prefix is not None else folder))
    return found


def _prefix(words):
    """The folder of ``npm --prefix DIR`` / ``yarn --cwd DIR`` / ``pnpm -C DIR``, or None."""
    for flag in ("--prefix", "--cwd", "--dir", "-C"):
        if flag in words[1:-1]:
            return words[words.index(flag) + 1]
    for word in words[1:]:
        if word.startswith(("--prefix=", "--cwd=", "--dir=")):
            return word.split("=", 1)[1]
    return None


def node_steps(shell_steps):
    """``{program: first step that runs it}`` and the folders (relative to
    the project) whose package.json the Node programs run in."""
    programs: dict[str, str] = {}
    folders = []
    for step in shell_steps:
        for program, folder in commands_run(step):
            if program in NODE_COMMANDS:
                programs.setdefault(program, step)
                folders.append(folder or ".")
    return programs, list(dict.fromkeys(folders))


def read_engines(path):
    """``(range, field)``: the Node versions a package.json accepts,
    ``engines.node`` or npm 11's ``devEngines.runtime`` (Baby Buddy's),
    else ``(None, None)``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RangeError(f"it cannot be read: {exc}") from None
    data = data if isinstance(data, dict) else {}
    engines = data.get("engines")
    node = engines.get("node") if isinstance(engines, dict) else None
    if node not in (None, ""):
        return node, "engines.node"
    runtime = data.get("devEngines", {}).get("runtime") if isinstance(data.get("devEngines"), dict) else None
    for entry in runtime if isinstance(runtime, list) else [runtime]:
        if isinstance(entry, dict) and entry.get("name") == "node" and entry.get("version"):
            return entry["version"], "devEngines.runtime"
    return None, None


def run_node_version(node):
    """What ``node --version`` prints; OSError when it cannot tell."""
    try:
        result = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise OSError(f"{node} --version did not answer in 30 s") from None
    if result.returncode != 0:
        raise OSError(f"{node} --version exited with status {result.returncode}")
    return result.stdout.strip()


def missing_programs(programs, which=shutil.which):
    """A line for each program the Node steps need that is not on PATH."""
    needed = ["node", *(tool for program in programs for tool in NODE_COMMANDS[program])]
    return [
        f"shell-steps need {tool} ({programs.get(tool) or next(iter(programs.values()))!r}), which is "
        f"not on PATH: {INSTALL_HINT[tool]}"
        for tool in dict.fromkeys(needed)
        if which(tool) is None
    ]


def engine_problem(package_json, shown, node, version_of):
    """Why this machine's Node does not fit ``engines.node`` of one package.json, or None."""
    try:
        wanted, field = read_engines(package_json)
    except RangeError as exc:
        return f"{shown}: engines.node cannot be checked: {exc}"
    if wanted is None:
        return None
    try:
        parse_range(wanted)
    except RangeError as exc:
        return f"{shown}: {field} {wanted!r} is not an npm version range such as ^24 or >=18 <21 ({exc})"
    try:
        version = version_of(node)
        if satisfies(version, wanted):
            return None
    except (RangeError, OSError) as exc:
        return f"{shown} requires Node {wanted} ({field}) and this machine's cannot be told: {exc}"
    return (
        f"{shown} requires Node {wanted} ({field}) but this machine has {version} ({node} --version): "
        "build with a Node in that range (nvm, fnm, the distribution's package), which the shell steps run on"
    )


def problems(project_dir, shell_steps, which=shutil.which, version_of=run_node_version):
    """What keeps the shell steps from running on this machine's Node: a
    missing ``node`` or package manager, a Node that a package.json's
    ``engines.node`` excludes. One line each."""
    programs, folders = node_steps(shell_steps)
    if not programs:
        return []
    found = missing_programs(programs, which)
    node = which("node")
    if node is None:
        return found
    root = Path(project_dir).resolve()
    for folder in folders:
        package_json = (root / folder / "package.json").resolve()
        if package_json.is_file():
            shown = (
                package_json.relative_to(root).as_posix()
                if package_json.is_relative_to(root)
                else package_json
            )
            problem = engine_problem(package_json, shown, node, version_of)
            if problem:
                found.append(problem)
    return found
