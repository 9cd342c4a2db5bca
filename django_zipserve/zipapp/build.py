"""Build a Django project into one reproducible zipapp with shiv.

``python -m django_zipserve build`` in a project's directory:

1. copies the project's source into a temporary folder (the source tree is
   never written to; only the output folder is);
2. installs the project and its dependencies (from its lock or requirements
   file when it has one) into a fresh ``site-packages``;
3. runs ``collectstatic`` (and ``compilemessages`` when the project has
   ``.po`` files) against that installed copy, so hashed, compressed static
   files are package data of the artifact;
4. normalises what pip wrote (timestamps, file modes, build paths, caches)
   so that two builds of the same source are bit-for-bit identical;
5. records what is inside (versions, build id, commit, Python) and calls
   shiv;
6. writes ``<name>-<version>.pyz``, its ``.sha256`` and a ``.json`` record.

Settings come from ``[tool.django-zipserve]`` in the project's
``pyproject.toml``; command-line flags override them. Both are declared in
``settings.py``.
"""

import argparse
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .. import __version__
from ..errors import ZipserveError
from .boot import LOCK_NAME, RECORD_NAME
from .settings import BUILD_SETTINGS, BY_KEY, TABLE

BOOT_MODULE = "_zipserve_boot"
PREAMBLE_NAME = "zipserve_preamble.py"
MAIN_PY = f"import {BOOT_MODULE}\n\n{BOOT_MODULE}.main()\n".encode()
IGNORED_SOURCE = shutil.ignore_patterns(
    ".git",
    ".hg",
    ".tox",
    ".venv",
    "venv",
    "dist",
    "build",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    "static_collected",
    "node_modules",
    ".pytest_cache",
)
# 1980-01-01, the earliest time a zip file can hold: the default when
# neither SOURCE_DATE_EPOCH nor a git commit gives one.
FALLBACK_EPOCH = 315532800
READ_SETTINGS = "read settings"


class BuildError(ZipserveError):
    """A build step failed; the message names the step."""

    def __init__(self, step, message):
        self.step = step
        super().__init__(f"{step}: {message}")

    def report(self):
        return f"build failed at step {self}"


def read_pyproject(path):
    if not path.is_file():
        raise BuildError(READ_SETTINGS, f"no pyproject.toml in {path.parent}")
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildError(READ_SETTINGS, f"{path}: {exc}") from None


def declared_settings(pyproject, path):
    """``[tool.django-zipserve]``, checked against the declared settings:
    an unknown key or a value of the wrong type stops the build."""
    declared = pyproject.get("tool", {}).get("django-zipserve", {})
    if not isinstance(declared, dict):
        raise BuildError(READ_SETTINGS, f"{path}: [{TABLE}] must be a table")
    for key, value in declared.items():
        if key not in BY_KEY:
            raise BuildError(
                READ_SETTINGS,
                f"{path}: unknown key {key!r} in [{TABLE}]; valid keys: {', '.join(sorted(BY_KEY))}",
            )
        problem = BY_KEY[key].problem(value)
        if problem:
            raise BuildError(READ_SETTINGS, f"{path}: {key} in [{TABLE}]: {problem}")
    return declared


def resolve_options(args):
    """The build's options: each flag given, else its key in pyproject.toml,
    else its derived default (see settings.BUILD_SETTINGS)."""
    project_dir = Path(args.project_dir or ".").resolve()
    path = project_dir / "pyproject.toml"
    pyproject = read_pyproject(path)
    project = pyproject.get("project", {})
    if "name" not in project:
        raise BuildError(READ_SETTINGS, f"{path} has no [project] name")
    declared = declared_settings(pyproject, path)
    options = argparse.Namespace(
        project_dir=project_dir,
        distribution=project["name"],
        version=project.get("version"),
        quiet=bool(args.quiet),
    )
    for setting in BUILD_SETTINGS:
        if setting.key is not None:
            value = setting.resolve(getattr(args, setting.dest), declared.get(setting.key), options)
            setattr(options, setting.dest, value)
    return options


class Steps:
    """Prints each step and how long it took; a failure names its step."""

    def __init__(self, quiet=False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def run(self, title, function, *args):
        if not self.quiet:
            print(f"==> {title} ...", file=self.stream, flush=True)
        begun = time.monotonic()
        try:
            result = function(*args)
        except BuildError:
            raise
        except subprocess.CalledProcessError as exc:
            raise BuildError(
                title, f"command failed with status {exc.returncode}: {_shown(exc.cmd)}\n{_tail(exc.stderr)}"
            ) from None
        except OSError as exc:
            raise BuildError(title, str(exc)) from None
        if not self.quiet:
            print(f"    done in {time.monotonic() - begun:.1f} s", file=self.stream, flush=True)
        return result

    def total(self):
        return time.monotonic() - self.started


def _shown(command):
    return " ".join(str(part) for part in command) if isinstance(command, (list, tuple)) else str(command)


def _tail(text, lines=25):
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def run_command(command, quiet, env=None, cwd=None):
    """Run a build tool; keep its output for the error message when quiet."""
    return subprocess.run(
        [str(part) for part in command],
        check=True,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
    )


def source_date_epoch(project_dir):
    """SOURCE_DATE_EPOCH, else the time of the last git commit, else 1980."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    commit_time = _git(project_dir, "log", "-1", "--format=%ct")
    return max(int(commit_time), FALLBACK_EPOCH) if commit_time else FALLBACK_EPOCH


def git_commit(project_dir):
    commit = _git(project_dir, "rev-parse", "HEAD")
    if commit and _git(project_dir, "status", "--porcelain", "--untracked-files=no", "."):
        commit += "-dirty"
    return commit


def _git(project_dir, *args):
    try:
        result = subprocess.run(
            ["git", "-C", str(project_dir), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def copy_source(options, work):
    target = work / "src"
    shutil.copytree(options.project_dir, target, ignore=IGNORED_SOURCE, symlinks=True)
    return target


def install(options, source, site, env):
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        site,
        "--no-compile",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--no-input",
    ]
    if options.quiet:
        command.append("--quiet")
    if options.requirements:
        command += ["-r", options.requirements]
    command += [source, *options.extra_requirements]
    run_command(command, options.quiet, env=env)


def django_command(options, site, env, *args, cwd=None):
    """Run a management command of the installed copy, isolated from the
    build environment's own packages (``-S``: no site-packages but ours)."""
    command_env = dict(
        env, PYTHONPATH=str(site), DJANGO_SETTINGS_MODULE=options.settings, DJANGO_ZIPSERVE_BUILD="1"
    )
    code = "import django.core.management as m, sys; m.execute_from_command_line(['manage', *sys.argv[1:]])"
    # The working directory is on sys.path under -c: never the source tree.
    run_command([sys.executable, "-S", "-c", code, *args], options.quiet, env=command_env, cwd=cwd or site)


def collect_static(options, site, env):
    verbosity = "0" if options.quiet else "1"
    django_command(options, site, env, "collectstatic", "--noinput", "--verbosity", verbosity)


def compile_messages(options, site, env):
    package_dir = site / options.package.replace(".", "/")
    if not any(package_dir.rglob("*.po")):
        return False
    if shutil.which("msgfmt") is None:
        raise BuildError(
            "compile messages", "the project has .po files but msgfmt (GNU gettext) is not installed"
        )
    django_command(options, site, env, "compilemessages", cwd=package_dir)
    return True


LANGUAGES_SCRIPT = """
import json, django
django.setup()
from django.conf import settings, global_settings
offered = settings.LANGUAGES != global_settings.LANGUAGES
print(json.dumps({"languages": [code for code, _ in settings.LANGUAGES] if offered else None,
                  "language_code": settings.LANGUAGE_CODE}))
"""


def offered_languages(options, site, env):
    """The languages the site offers (settings.LANGUAGES), or None for all."""
    command_env = dict(
        env, PYTHONPATH=str(site), DJANGO_SETTINGS_MODULE=options.settings, DJANGO_ZIPSERVE_BUILD="1"
    )
    result = run_command([sys.executable, "-S", "-c", LANGUAGES_SCRIPT], True, env=command_env, cwd=site)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    if found["languages"] is None:
        return None
    codes = [*found["languages"], found["language_code"], "en"]
    return {code.split("-")[0].split("_")[0].lower() for code in codes}


def prune_translations(site, languages):
    """Remove the translations of languages the site does not offer: Django
    never activates them, and they are half of the files to extract. With
    LANGUAGES left at Django's default (every language), all are kept."""
    if languages is None:
        return 0
    removed = 0
    for locale_dir in sorted(site.rglob("locale")):
        if not locale_dir.is_dir():
            continue
        for language_dir in sorted(locale_dir.iterdir()):
            language = language_dir.name.split("_")[0].split("-")[0].lower()
            if language_dir.is_dir() and language not in languages and language != "__pycache__":
                shutil.rmtree(language_dir)
                removed += 1
    return removed


def normalise(site, epoch):
    """Make the installed tree depend on nothing but its inputs."""
    # Console scripts carry the build interpreter's path and are never run
    # from inside a zipapp.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_symlink():
            continue
        if path.name == "__pycache__" and path.is_dir():
            shutil.rmtree(path)
            continue
        if path.suffix in (".pyc", ".po") or path.name == "direct_url.json":
            # direct_url.json holds the path of the temporary build folder;
            # .po files are translation sources, and only the compiled .mo
            # files are read at run time (a fifth of Django's files).
            path.unlink()
            continue
        if path.name == "RECORD" and path.parent.name.endswith(".dist-info"):
            _drop_record_lines(path)
        mode = 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644
        path.chmod(mode)
        os.utime(path, (epoch, epoch), follow_symlinks=False)


def _drop_record_lines(record):
    kept = [
        line
        for line in record.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("../", "bin/"))
        and "direct_url.json" not in line
        and "__pycache__" not in line
    ]
    record.write_text("\n".join(kept) + "\n", encoding="utf-8")


def tree_digest(site):
    """sha256 over every file's relative path, mode and content."""
    digest = hashlib.sha256()
    for path in sorted(site.rglob("*"), key=lambda p: p.relative_to(site).as_posix()):
        if path.is_dir():
            continue
        digest.update(path.relative_to(site).as_posix().encode() + b"\0")
        digest.update(oct(stat.S_IMODE(path.lstat().st_mode)).encode() + b"\0")
        digest.update(path.read_bytes() if not path.is_symlink() else os.readlink(path).encode())
    return digest.hexdigest()


def installed_versions(site):
    versions = {}
    for info in site.glob("*.dist-info"):
        metadata = info / "METADATA"
        if not metadata.is_file():
            continue
        fields = dict(
            line.split(": ", 1)
            for line in metadata.read_text(encoding="utf-8").splitlines()[:20]
            if ": " in line
        )
        if "Name" in fields:
            versions[fields["Name"]] = fields.get("Version", "")
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def write_record(options, site, epoch):
    versions = installed_versions(site)
    version = options.version or versions.get(options.distribution) or "0"
    build_id = tree_digest(site)[:16]
    record = {
        "name": options.output_name,
        "distribution": options.distribution,
        "version": version,
        "build_id": build_id,
        "commit": git_commit(options.project_dir),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "built_with": f"django-zipserve {__version__}",
        "source_date_epoch": epoch,
        "entry_point": options.entry_point,
        "packages": versions,
    }
    path = site / RECORD_NAME
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    path.chmod(0o644)
    os.utime(path, (epoch, epoch))
    return record


def add_lock_file(site, epoch):
    """An empty file in the extraction that running processes hold a
    shared lock on (see boot.hold_extraction)."""
    path = site / LOCK_NAME
    path.write_bytes(b"")
    path.chmod(0o644)
    os.utime(path, (epoch, epoch))


def write_preamble(work, epoch):
    path = work / "preamble" / PREAMBLE_NAME
    path.parent.mkdir()
    path.write_text("import _zipserve_boot\n\n_zipserve_boot.preamble(site_packages)\n", encoding="utf-8")
    path.chmod(0o644)
    os.utime(path, (epoch, epoch))
    return path


def run_shiv(options, site, output, record, preamble, env):
    command = [
        sys.executable,
        "-m",
        "shiv",
        "--site-packages",
        site,
        "--output-file",
        output,
        "--entry-point",
        options.entry_point,
        "--python",
        options.python,
        "--build-id",
        record["build_id"],
        "--reproducible",
        "--preamble",
        preamble,
    ]
    run_command(command, True, env=env)


def compile_bytecode(site):
    """Compile every module once, at build time, into hash-based ``.pyc``
    files that are never checked against their source: the artifact is
    immutable, so a start (even on a read-only extraction, even with
    PYTHONDONTWRITEBYTECODE) never compiles anything, and the first start
    does not spend seconds compiling either."""
    import compileall
    import py_compile

    # The directory name only shows in code objects, which the import system
    # points at the real file when it loads them; a fixed one keeps builds
    # identical.
    compileall.compile_dir(
        str(site),
        ddir="site-packages",
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    return sorted(path for path in site.rglob("*.pyc"))


def finish_archive(built, site, bytecode, epoch):
    """Add what shiv leaves out: the compiled bytecode of site-packages, and
    our start-up module at the root of the archive, which ``__main__.py``
    now calls (it hands over to shiv's bootstrap for the first extraction)."""
    boot_source = Path(__file__).with_name("boot.py").read_bytes()
    date_time = time.gmtime(epoch)[:6]
    original = built.with_suffix(".shiv")
    built.rename(original)
    with original.open("rb") as source_file:
        shebang = source_file.readline()
    with zipfile.ZipFile(original) as source, built.open("wb") as target_file:
        target_file.write(shebang)
        with zipfile.ZipFile(target_file, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename == "__main__.py":
                    continue
                target.writestr(info, source.read(info))
            added = [
                (f"site-packages/{path.relative_to(site).as_posix()}", path.read_bytes()) for path in bytecode
            ]
            added += [(f"{BOOT_MODULE}.py", boot_source), ("__main__.py", MAIN_PY)]
            for name, data in added:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, data)
    original.unlink()


def write_outputs(options, built, record):
    options.output_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{options.output_name}-{record['version']}"
    target = options.output_dir / f"{stem}.pyz"
    shutil.copyfile(built, target)
    target.chmod(0o755)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (options.output_dir / f"{stem}.pyz.sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    (options.output_dir / f"{stem}.json").write_text(
        json.dumps(dict(record, sha256=digest, size=target.stat().st_size), indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return target, digest


def build(options, stream=None):
    steps = Steps(options.quiet, stream)
    epoch = source_date_epoch(options.project_dir)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), PYTHONHASHSEED="0", PIP_NO_INPUT="1")
    with tempfile.TemporaryDirectory(prefix="zipserve-build-") as tmp:
        work = Path(tmp)
        site = work / "site-packages"
        source = steps.run("copy the project source", copy_source, options, work)
        steps.run("install the project and its dependencies", install, options, source, site, env)
        steps.run("collect static files", collect_static, options, site, env)
        steps.run("compile translations", compile_messages, options, site, env)
        languages = steps.run("read the languages the site offers", offered_languages, options, site, env)
        steps.run("remove translations of other languages", prune_translations, site, languages)
        steps.run("normalise the installed files", normalise, site, epoch)
        add_lock_file(site, epoch)
        record = steps.run("record the contents", write_record, options, site, epoch)
        built = work / "out.pyz"
        preamble = write_preamble(work, epoch)
        steps.run("build the zipapp with shiv", run_shiv, options, site, built, record, preamble, env)
        bytecode = steps.run("compile bytecode", compile_bytecode, site)
        steps.run("add bytecode and the start-up module", finish_archive, built, site, bytecode, epoch)
        target, digest = steps.run("write the outputs", write_outputs, options, built, record)
    if not options.quiet:
        size = target.stat().st_size / 1e6
        print(
            f"built {target} ({size:.1f} MB, sha256 {digest[:12]}..., build id {record['build_id']}) "
            f"in {steps.total():.0f} s",
            file=stream or sys.stderr,
        )
    else:
        print(target)
    return target


def add_arguments(parser):
    """One flag per declared setting (settings.BUILD_SETTINGS)."""
    for setting in BUILD_SETTINGS:
        flags = [setting.flag, *([setting.short_flag] if setting.short_flag else [])]
        # No argparse defaults: an absent flag must not hide pyproject.toml's value.
        if setting.kind == "switch":
            parser.add_argument(
                *flags, dest=setting.dest, action="store_true", default=None, help=setting.help
            )
            continue
        action = "append" if setting.kind == "list" else "store"
        key = f" In pyproject.toml: {setting.key}." if setting.key else ""
        metavar = setting.metavar or setting.flag.lstrip("-").replace("-", "_").upper()
        parser.add_argument(
            *flags,
            dest=setting.dest,
            action=action,
            metavar=metavar,
            help=f"{setting.help} Default: {setting.default_text}.{key}",
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m django_zipserve build",
        description="Build a Django project into one zipapp.",
        epilog=f"Settings may also be given in [{TABLE}] of the project's pyproject.toml, under the key "
        "each option names (paths there are relative to the project directory); a flag overrides the file.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        build(resolve_options(args))
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return exc.exit_status
    return 0
