"""A project's front-end build, found from its files: what writes the static
files its templates use, and the shell steps that run it in the build.

- ``package.json`` at the project's root: its ``scripts.build``, else a
  bundler's configuration beside it (a gulpfile with a ``build`` task,
  ``webpack.config.*``, ``vite.config.*``, ``rollup.config.*``,
  ``esbuild.config.*``, ``.parcelrc``);
- the package manager its lock file belongs to (``package-lock.json``: npm,
  ``yarn.lock``: yarn, ``pnpm-lock.yaml``: pnpm), which installs exactly the
  locked versions (``npm ci``, ``... --frozen-lockfile``), else the one
  ``packageManager`` names, else npm;
- the Node versions it accepts (``engines.node``), which the build checks
  before it runs anything (:mod:`django_zipserve.zipapp.node`);
- the static files the templates use that only a build writes: in a static
  directory that exists but lacks them (:func:`.detect.missing_static_files`),
  or where git ignores them (Baby Buddy's whole ``babybuddy/static/`` is gulp
  output, absent from a fresh checkout);
- the directories outside the packages such a build writes that the site
  serves (a ``STATICFILES_DIRS`` entry the build writes): the build must
  copy them (``data-dirs``).

The build runs the shell steps in its copy of the source before it installs
the project, so their output is packaged even where git ignores it.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..zipapp.node import RangeError, read_engines

#: ``{% static "front/bundle.css" %}`` in a template.
STATIC_REFERENCE = re.compile(r"""{%\s*static\s+['"]([^'"{}]+)['"]""")
TEMPLATE_SUFFIXES = (".html", ".txt", ".xml", ".jinja", ".jinja2")

#: Lock files, the package manager each belongs to, and its install of exactly the locked versions.
LOCK_FILES = (
    ("package-lock.json", "npm", "npm ci"),
    ("npm-shrinkwrap.json", "npm", "npm ci"),
    ("yarn.lock", "yarn", "yarn install --frozen-lockfile"),
    ("pnpm-lock.yaml", "pnpm", "pnpm install --frozen-lockfile"),
)
#: The install without a lock file (versions resolved at each build).
UNLOCKED_INSTALL = {"npm": "npm install", "yarn": "yarn install", "pnpm": "pnpm install"}
#: How each package manager runs a script of package.json, and a program it installed.
RUN_SCRIPT = {"npm": "npm run {}", "yarn": "yarn run {}", "pnpm": "pnpm run {}"}
RUN_PROGRAM = {"npm": "npx {}", "yarn": "yarn {}", "pnpm": "pnpm exec {}"}
#: Bundlers by the name of their configuration file (before its ``.js``,
#: ``.mjs``...), with the command that builds; gulp's is chosen by its tasks.
BUNDLERS = (
    ("gulpfile", "gulp build"),
    ("vite.config", "vite build"),
    ("webpack.config", "webpack"),
    ("rollup.config", "rollup -c"),
    ("esbuild.config", None),  # a script of the project's: node esbuild.config.mjs
)
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
#: A gulp task named ``build``: ``gulp.task("build", ...)``, ``exports.build =``,
#: ``export const build``, ``export { build }``, ``module.exports = { build, ... }``.
GULP_BUILD_TASK = re.compile(
    r"""\btask\(\s*['"]build['"]"""
    r"""|\bexports\.build\s*="""
    r"""|\bexports\[\s*['"]build['"]\s*\]\s*="""
    r"""|\bexport\s+(?:const|let|var|(?:async\s+)?function)\s+build\b"""
    r"""|\bexport\s*\{[^}]*\bbuild\b[^}]*\}"""
    r"""|\bmodule\.exports\s*=\s*\{[^}]*\bbuild\b"""
)


@dataclass(frozen=True)
class FrontEnd:
    """The project's front-end build, as init found it."""

    package_json: str  # relative path: "package.json"
    found: str  # what builds: "scripts.build of package.json", "the gulp task build of gulpfile.js"
    steps: tuple[str, ...]  # the shell steps that run it; () when init cannot tell
    tool: str  # npm, yarn or pnpm
    lock_file: str | None
    engines: str | None  # engines.node: "^24"
    configs: tuple[str, ...]  # the bundlers' configuration files: "gulpfile.js"
    built: tuple[tuple[str, str], ...]  # (static path, template) the templates use that a build writes
    ignored: tuple[str, ...]  # git-ignored directories those files are written into: "tracker/static"
    output_dirs: tuple[str, ...]  # directories outside the packages the build writes, for data-dirs
    problem: str | None = None  # why package.json could not be read
    engines_field: str = "engines.node"  # where engines comes from: engines.node, devEngines.runtime


def read_package_json(path):
    """(its content, or None, and what was wrong)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path.name} cannot be read: {exc}"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return data, None


def package_manager(root, data):
    """(tool, lock file or None, install command): the lock file's tool first,
    else the one ``packageManager`` names (``"pnpm@9.1.0"``), else npm."""
    for name, tool, install in LOCK_FILES:
        path = root / name
        if path.is_file():
            if tool == "yarn" and "__metadata:" in path.read_text(encoding="utf-8", errors="replace"):
                install = "yarn install --immutable"  # Yarn 2 and later
            return tool, name, install
    declared = str(data.get("packageManager", "")).split("@")[0]
    tool = declared if declared in UNLOCKED_INSTALL else "npm"
    return tool, None, UNLOCKED_INSTALL[tool]


def bundler_configs(root):
    """The bundlers' configuration files at the root, as ``(name, command)``."""
    found = []
    for stem, command in BUNDLERS:
        for path in sorted(root.glob(f"{stem}.*")) + sorted(root.glob(f"{stem.capitalize()}.*")):
            # gulpfile.js, not Baby Buddy's gulpfile.config.js beside it
            if path.is_file() and path.suffix in SCRIPT_SUFFIXES and path.stem.lower() == stem:
                found.append((path.name, command or f"node {path.name}"))
                break
    if (root / ".parcelrc").is_file():
        found.append((".parcelrc", "parcel build"))
    return found


def build_command(root, data, tool):
    """(what builds, the command that runs it) or (None, None)."""
    scripts = data.get("scripts") if isinstance(data.get("scripts"), dict) else {}
    if isinstance(scripts.get("build"), str) and scripts["build"].strip():
        return "scripts.build of package.json", RUN_SCRIPT[tool].format("build")
    for name, command in bundler_configs(root):
        if command == "gulp build":
            text = (root / name).read_text(encoding="utf-8", errors="replace")
            if not GULP_BUILD_TASK.search(text):
                continue  # its default task is often a watcher: never guessed
            return f"the gulp task build of {name}", RUN_PROGRAM[tool].format(command)
        if command.startswith("node "):
            return name, command
        return name, RUN_PROGRAM[tool].format(command)
    return None, None


def has_dependencies(data):
    return any(data.get(key) for key in ("dependencies", "devDependencies", "optionalDependencies"))


def find_frontend(root, source, package_root, packages, package_dirs, data_dirs, missing_static):
    """The project's :class:`FrontEnd`, or None when it has no package.json."""
    root = Path(root)
    path = root / "package.json"
    if not path.is_file():
        return None
    data, problem = read_package_json(path)
    configs = tuple(name for name, _ in bundler_configs(root))
    if data is None:
        return FrontEnd(
            "package.json", "", (), "npm", None, None, configs, tuple(missing_static), (), (), problem
        )
    tool, lock_file, install = package_manager(root, data)
    found, command = build_command(root, data, tool)
    steps: tuple[str, ...] = ()
    if command:
        steps = (install, command) if lock_file or has_dependencies(data) else (command,)
    try:
        engines, engines_field = read_engines(root / "package.json")
    except RangeError:
        engines, engines_field = None, None
    built, ignored = built_static(root, source, package_root, packages, package_dirs, data_dirs)
    static_dirs = statics_dirs(root, source)
    outputs = [
        directory
        for directory in ignored
        if (root / directory) in static_dirs and directory.split("/")[0] not in ("src", *packages)
    ]
    outputs += written_static_dirs(root, static_dirs, packages, configs)
    outputs = [directory for directory in dict.fromkeys(outputs) if directory not in data_dirs]
    return FrontEnd(
        package_json="package.json",
        found=found or "",
        steps=steps,
        tool=tool,
        lock_file=lock_file,
        engines=str(engines) if engines else None,
        engines_field=engines_field or "engines.node",
        configs=configs,
        built=tuple(dict.fromkeys([*missing_static, *built])),
        ignored=ignored,
        output_dirs=tuple(outputs),
    )


def statics_dirs(root, source):
    """The directories ``STATICFILES_DIRS`` names inside the project, existing or not."""
    found = []
    for assignment in source.assigned("STATICFILES_DIRS"):
        found += [path for path in assignment.paths if path != root and _within(path, root)]
    return list(dict.fromkeys(found))


def written_static_dirs(root, static_dirs, packages, configs):
    """``STATICFILES_DIRS`` entries outside the packages that do not exist yet
    and that the build's configuration names (``assets/dist``): its output."""
    texts = [(root / "package.json").read_text(encoding="utf-8", errors="replace")]
    texts += [(root / name).read_text(encoding="utf-8", errors="replace") for name in configs]
    written = []
    for path in static_dirs:
        relative = path.relative_to(root).as_posix()
        if path.exists() or relative.split("/")[0] in ("src", *packages):
            continue
        if any(relative in text or f"'{path.name}'" in text or f'"{path.name}"' in text for text in texts):
            written.append(relative)
    return written


def _within(path, directory):
    try:
        Path(path).relative_to(directory)
    except ValueError:
        return False
    return True


def app_dirs(package_root, packages):
    """The packages that may be Django apps (an ``apps.py``, ``models.py``
    or ``templates``): where ``static`` folders are looked for."""
    found = []
    for package in packages:
        for init in sorted((package_root / package).rglob("__init__.py")):
            directory = init.parent
            parts = directory.relative_to(package_root).parts
            if any(part.startswith(".") or part in ("migrations", "tests", "node_modules") for part in parts):
                continue
            if any((directory / name).exists() for name in ("apps.py", "models.py", "templates", "static")):
                found.append(directory)
    return found


def template_references(root, package_dirs, data_dirs):
    """``(static path, template)`` for every ``{% static "..." %}`` of the
    templates (a prefix the template completes, ending in ``/``, left out)."""
    template_roots = [root / path for path in package_dirs if path.endswith(("/templates", "/jinja2"))]
    template_roots += [root / path for path in data_dirs]
    found = []
    for template_root in template_roots:
        for template in sorted(template_root.rglob("*")):
            if template.suffix not in TEMPLATE_SUFFIXES or not template.is_file():
                continue
            text = template.read_text(encoding="utf-8", errors="replace")
            for reference in STATIC_REFERENCE.findall(text):
                if not reference.endswith("/"):
                    found.append((reference, template.relative_to(root).as_posix()))
    return found


def built_static(root, source, package_root, packages, package_dirs, data_dirs):
    """The static files the templates use that are nowhere in the source but
    where git ignores them, in an app's ``static`` folder or a
    ``STATICFILES_DIRS`` entry: ``((static path, template)...), (folders...)``."""
    references = template_references(root, package_dirs, data_dirs)
    existing = [root / path for path in package_dirs if path.endswith("/static")]
    existing += [root / path for path in data_dirs] + statics_dirs(root, source)
    absent = [
        (reference, template)
        for reference, template in references
        if not any((folder / reference).exists() for folder in existing)
    ]
    if not absent:
        return (), ()
    folders = [directory / "static" for directory in app_dirs(package_root, packages)]
    folders += statics_dirs(root, source)
    folders = [folder.relative_to(root).as_posix() for folder in dict.fromkeys(folders)]
    candidates = {
        f"{folder}/{reference}": (folder, reference) for reference, _ in absent for folder in folders
    }
    ignored = git_ignored(root, list(candidates))
    where = {candidates[path] for path in ignored if path in candidates}
    built = [(reference, template) for reference, template in absent if any(r == reference for _, r in where)]
    return tuple(built), tuple(sorted({folder for folder, _ in where}))


def git_ignored(root, paths):
    """Those of ``paths`` (relative, they need not exist) that git ignores in
    ``root``; none outside a git work tree, or without git."""
    if not paths:
        return set()
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--stdin", "-z"],
            input="\0".join(paths).encode(),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if result.returncode not in (0, 1):
        return set()
    return {name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name}


# -- what init says about it ------------------------------------------------------

#: How many static files a review line names before it only counts the rest.
SHOWN = 3


def shown_files(built):
    text = ", ".join(f"{reference} ({template})" for reference, template in built[:SHOWN])
    return text + (f" and {len(built) - SHOWN} more" if len(built) > SHOWN else "")


def review(frontend, writing, refusals=(), missing_static=()):
    """What a human must know of the front-end build: what init wrote
    (``writing``: the shell steps are being added), what the build machine
    needs, and why the build would refuse here (``refusals``, the build's
    own lines); or that init found no build it can run."""
    if frontend.problem:
        return [f"{frontend.problem}: init cannot tell the front-end build; name it in shell-steps"]
    if not frontend.steps:
        built = [item for item in frontend.built if item not in missing_static]
        if not (frontend.configs or built):
            return []
        uses = f"; the templates use static files git ignores: {shown_files(built)}" if built else ""
        return [
            f"{frontend.package_json} has no build init can run (scripts.build, a gulp task named build, a "
            f"vite, webpack, rollup, esbuild or parcel configuration){uses}: put the commands that build it "
            "in shell-steps in [tool.django-zipserve]"
        ]
    if not writing:
        return []
    if frontend.lock_file:
        installed = frontend.lock_file
    elif frontend.steps[0] in UNLOCKED_INSTALL.values():
        installed = (
            f"no lock file: each build resolves the versions again; commit {frontend.tool}'s lock file"
        )
    else:
        installed = "no dependencies"
    lines = [
        f"front-end build: {frontend.found} ({installed}); shell-steps = {json.dumps(list(frontend.steps))} "
        "run it in the build's copy of the source before the install, so what it writes is packaged"
        + (f", git-ignored or not ({', '.join(frontend.ignored)})" if frontend.ignored else "")
        + (f"; the templates use what it writes: {shown_files(frontend.built)}" if frontend.built else "")
    ]
    node = (
        f"Node {frontend.engines} ({frontend.engines_field}, checked before the build starts)"
        if frontend.engines
        else "Node"
    )
    needs = f"the build machine needs {node} and {frontend.tool} on PATH"
    if refusals:
        needs += "; here the build refuses: " + "; ".join(refusals)
    lines.append(needs)
    return lines
