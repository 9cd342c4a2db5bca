"""Build a Django project into one reproducible zipapp with shiv.

``python -m django_zipserve build`` in a project's directory:

1. checks its prerequisites (pip and shiv, the pyproject.toml, the settings
   module, the requirements file, msgfmt for .po files, the data
   directories) and reports every missing one at once;
2. copies the project's source into a temporary folder (the source tree is
   never written to; only the output folder is) and runs the project's
   ``shell-steps`` there (a front-end build), so that what they write is
   packaged;
3. installs the project and its dependencies (from its lock or requirements
   file when it has one, saying which and why; a uwsgi requirement is
   warned about before pip compiles it) into a fresh ``site-packages``,
   lists the largest distributions and warns about known mistakes (cloud
   SDKs); copies the ``data-dirs`` (templates, static folders, files outside
   the package) beside the package;
4. runs the ``manage-steps`` (``compress --force``), then ``collectstatic``
   (the final collection; and ``compilemessages`` when the project has
   ``.po`` files) against that installed copy, so hashed, compressed static
   files are package data of the artifact; the gzip headers and JSON
   manifests they wrote are made independent of the time of the build;
5. normalises what pip wrote (timestamps, file modes, build paths, caches)
   so that two builds of the same source are bit-for-bit identical;
6. builds the test sidecar when the project has ``test-requirements``;
7. records what is inside (versions, build id, commit, Python, sidecar) and
   calls shiv;
8. writes ``<name>-<version>.pyz``, its ``.sha256``, a ``.json`` record and
   the sidecar ``<name>-<version>.tests.zip``.

Settings come from ``[tool.django-zipserve]`` in the project's
``pyproject.toml``; command-line flags override them. Both are declared in
``settings.py``.
"""

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .. import __version__
from . import bundle, bytecode, exclude, installer, lockfiles, prerequisites, secret_scan, sidecar, store
from .boot import TESTS_SUFFIX
from .extractions import LOCK_NAME, RECORD_NAME
from .options import BUILD_SETTINGS, BY_KEY, TABLE
from .pytest_config import pytest_configuration
from .source import copy_source, ignored_report, left_out_files, left_out_ignored, left_out_report
from .steps import PREREQUISITES, BuildError, StepFailed, Steps, run_command
from .tree import (
    canonical_name,
    distributions,
    installed_versions,
    normalise,
    normalise_gzip_headers,
    shared_entries,
    sort_json_manifests,
    tree_digest,
)

__all__ = ["BuildError", "build", "main", "normalise", "resolve_options"]

BOOT_MODULE = "_zipserve_boot"
#: The start-up module and the standard-library-only modules it imports
#: (``zipapp/<module>.py``), shipped at the root of the archive under the
#: names the start-up module imports them by there.
STARTUP_MODULES = {
    "boot": BOOT_MODULE,
    "extractions": "_zipserve_extractions",
    "guard": "_zipserve_guard",
    "store": "_zipserve_store",
}
PREAMBLE_NAME = "zipserve_preamble.py"
# Guarded: multiprocessing's spawn and forkserver run the main file again
# under another name, which must not start the site a second time.
MAIN_PY = f'import {BOOT_MODULE}\n\nif __name__ == "__main__":\n    {BOOT_MODULE}.main()\n'.encode()
# 1980-01-01, the earliest time a zip file can hold: the default when
# neither SOURCE_DATE_EPOCH nor a git commit gives one.
FALLBACK_EPOCH = 315532800
READ_SETTINGS = "read settings"


def read_pyproject(path):
    if not path.is_file():
        raise BuildError(PREREQUISITES, f"no pyproject.toml in {path.parent}")
    if sys.version_info >= (3, 11):
        import tomllib
    else:
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
    else its derived default (see options.BUILD_SETTINGS). ``origins``
    says which, by setting."""
    project_dir = Path(args.project_dir or ".").resolve()
    path = project_dir / "pyproject.toml"
    pyproject = read_pyproject(path)
    project = pyproject.get("project", {})
    if "name" not in project:
        raise BuildError(PREREQUISITES, f"{path} has no [project] name")
    declared = declared_settings(pyproject, path)
    options = argparse.Namespace(
        project_dir=project_dir,
        pyproject=pyproject,
        distribution=project["name"],
        version=project.get("version"),
        quiet=bool(args.quiet),
        origins={},
    )
    for setting in BUILD_SETTINGS:
        if setting.key is not None:
            given, found = getattr(args, setting.dest), declared.get(setting.key)
            setattr(options, setting.dest, setting.resolve(given, found, options))
            origin = "flag" if given is not None else "pyproject" if found is not None else "default"
            options.origins[setting.dest] = origin
    return options


def checked_options(args):
    """The options, once every prerequisite is there; otherwise one error
    that lists everything missing."""
    problems = prerequisites.tool_problems()
    try:
        options = resolve_options(args)
    except BuildError as exc:
        if exc.step != PREREQUISITES or not problems:
            raise
        raise prerequisites.missing([*problems, exc.detail]) from None
    problems += prerequisites.project_problems(options)
    if problems:
        raise prerequisites.missing(problems)
    return options


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


def run_shell_step(command, source, options, env):
    """A project's build command, in the copy of its source (the source
    tree is never written to)."""
    run_command(["sh", "-c", command], options.quiet, env=env, cwd=source)


def copy_data_dirs(options, source, site):
    """Directories and files outside the package (templates, static, a
    CHANGELOG.md the settings read) into site-packages under the same
    relative path: with the package at the project's root,
    ``BASE_DIR / "templates"`` finds them in the artifact."""
    for name in options.data_dirs:
        relative, problem = prerequisites.data_directory(source, name)
        if problem:
            raise StepFailed(f"{problem} (not in the project, nor written by its shell steps)")
        target = site / relative
        if target.exists():
            raise StepFailed(f"{name} would overwrite site-packages/{relative}, which a package installed")
        if (source / relative).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target)
            continue
        shutil.copytree(source / relative, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def choose_installer(options, env):
    """uv or pip (see installer.py); refuses uv asked for and missing."""
    chosen = installer.choose(options.installer, env)
    if chosen is None:
        raise StepFailed("installer = 'uv' but uv is not installed: pip install 'django-zipserve[build]'")
    options.chosen_installer = chosen
    return chosen


def install(options, source, site, env):
    chosen = options.chosen_installer
    command = chosen.command(site, options.quiet)
    if options.requirements_file:
        command += ["-r", options.requirements_file]
    command += [source, *options.extra_requirements]
    run_command(command, options.quiet, env=chosen.env(env))


#: Run first in every process of the installed copy: under ``-c`` the working
#: directory is ``sys.path[0]``, and a project's own folder there shadows
#: libraries by name (NetBox's ``netbox/graphql`` hid the real ``graphql``).
#: The artifact imports from its extraction only; so does the build.
NO_WORKING_DIRECTORY = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
#: ... and ``__main__.__file__`` names a file that stands for the artifact,
#: as the artifact's names the artifact itself (boot.main_file_on_disk):
#: what reads it passes here only if it passes there.
MAIN_FILE = "import __main__, os; __main__.__file__ = os.environ['ZIPSERVE_BUILD_MAIN_FILE']; "
#: The stand-in for the artifact, beside site-packages in the build's folder.
STAND_IN = "artifact.pyz"


def installed_python(options, site, env, code, *args, cwd=None, quiet=None):
    """Run Python ``code`` against the installed copy with the build's
    settings, isolated from the build environment's own packages (``-S``:
    no site-packages but ours) and from the working directory."""
    stand_in = Path(site).parent / STAND_IN
    stand_in.touch()
    command_env = dict(
        env,
        PYTHONPATH=str(site),
        DJANGO_SETTINGS_MODULE=options.settings,
        DJANGO_ZIPSERVE_BUILD="1",
        ZIPSERVE_BUILD_MAIN_FILE=str(stand_in),
        # The state directory the settings make (an SQLite file's folder)
        # goes with the build's folder, not into the builder's home.
        XDG_STATE_HOME=str(Path(site).parent / "state"),
    )
    command_env.pop("STATE_DIRECTORY", None)
    command = [sys.executable, "-S", "-c", NO_WORKING_DIRECTORY + MAIN_FILE + code, *args]
    return run_command(command, options.quiet if quiet is None else quiet, env=command_env, cwd=cwd or site)


def django_command(options, site, env, *args, cwd=None):
    """Run a management command of the installed copy."""
    code = "import django.core.management as m; m.execute_from_command_line(['manage', *sys.argv[1:]])"
    installed_python(options, site, env, code, *args, cwd=cwd)


def run_manage_step(options, site, env, command):
    django_command(options, site, env, *shlex.split(command))


def collect_static(options, site, env):
    verbosity = "0" if options.quiet else "1"
    django_command(options, site, env, "collectstatic", "--noinput", "--verbosity", verbosity)


#: The system checks the build runs: those of every tag but ``database``
#: (deployment checks included). Checks registered without a tag are left
#: to ``check --deploy`` on a host: they may need the site's database, which
#: a build machine does not have (drf-spectacular's builds NetBox's whole API
#: schema, and its querysets connect).
BUILD_CHECKS = """
import json, sys, django
django.setup()
from django.conf import settings, global_settings
from django.core import checks, management
offered = settings.LANGUAGES != global_settings.LANGUAGES
facts = {
    "languages": [code for code, _ in settings.LANGUAGES] if offered else None,
    "language_code": settings.LANGUAGE_CODE,
    "static_root": str(settings.STATIC_ROOT) if settings.STATIC_ROOT else None,
}
with open(sys.argv[1], "w", encoding="utf-8") as file:
    json.dump(facts, file)
tags = sorted(checks.registry.registry.tags_available(deployment_checks=True) - {"database"})
management.execute_from_command_line(
    ["manage", "check", "--deploy", "--fail-level", "ERROR", *(f"--tag={tag}" for tag in tags)]
)
"""


def run_checks(options, site, env):
    """The system checks that need no database against the installed copy,
    deployment checks included: an error (a health view an earlier
    catch-all pattern shadows, zipserve.E006) stops the build, not the first
    start on a server, which runs only the checks a host can change (its
    START_CHECK_TAGS). The same process reads the settings the later steps
    need (the languages offered, STATIC_ROOT): one start of the site less
    for each."""
    facts = Path(site).parent / "site-facts.json"
    installed_python(options, site, env, BUILD_CHECKS, str(facts))
    return json.loads(facts.read_text(encoding="utf-8"))


def exclude_files(options, site, env):
    """Leave out what the ``exclude`` globs match, unless a start imports it;
    ``({glob: (files, bytes)})``."""
    found = exclude.matched_files(site, options.exclude)
    if any(found.values()):
        started = installed_python(options, site, env, exclude.STARTUP_IMPORTS, quiet=True)
        clashes = exclude.conflicts(found, exclude.imported_files(started.stdout, site))
        if clashes:
            raise StepFailed(exclude.refusal(clashes))
    return exclude.remove(site, found)


def report_excluded(steps, removed):
    for glob, (files, size) in removed.items():
        if files:
            steps.say(f"    {glob}: {files} files, {bundle.mib(size)} left out")
        else:
            steps.warn(f"exclude {glob!r} matches no installed file")


def compile_messages(options, site, env):
    package_dir = site / options.package.replace(".", "/")
    # compilemessages finds the package's locale folders from there, and
    # LOCALE_PATHS (a data directory's, say) from the settings.
    searched = [package_dir, *(site / name for name in options.data_dirs)]
    if not any(any(folder.rglob("*.po")) for folder in searched):
        return False
    if shutil.which("msgfmt") is None:
        raise BuildError(
            "compile messages", "the project has .po files but msgfmt (GNU gettext) is not installed"
        )
    django_command(options, site, env, "compilemessages", cwd=package_dir)
    return True


def offered_languages(facts):
    """The languages the site offers (settings.LANGUAGES), or None for all."""
    if facts["languages"] is None:
        return None
    codes = [*facts["languages"], facts["language_code"], "en"]
    return {code.split("-")[0].split("_")[0].lower() for code in codes}


def static_root(site, facts):
    """The collected static tree (settings.STATIC_ROOT) when it is inside
    site-packages, else None."""
    if facts["static_root"] is None:
        return None
    root = (site / facts["static_root"]).resolve()
    return root if root.is_relative_to(site.resolve()) and root.is_dir() else None


def reproducible_outputs(site, epoch, facts):
    """What the manage steps and collectstatic wrote, made independent of
    when it was written: the gzip headers' mtime (django-compressor and
    whitenoise write the current time) and the key order of the collected
    static tree's JSON manifests (django-compressor's CACHE/manifest.json)."""
    fixed = normalise_gzip_headers(site, epoch)
    root = static_root(site, facts)
    return fixed, sort_json_manifests(root) if root is not None else 0


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


def artifact_version(options, site):
    return options.version or installed_versions(site).get(options.distribution) or "0"


def write_record(options, site, epoch, build_id, tests=None):
    versions = installed_versions(site)
    version = artifact_version(options, site)
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
    if tests:
        record["tests"] = tests
    pytest = pytest_configuration(options.project_dir, options.pyproject)
    if pytest:
        record["pytest"] = pytest
    path = site / RECORD_NAME
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    path.chmod(0o644)
    os.utime(path, (epoch, epoch))
    return record


def add_lock_file(site, epoch):
    """An empty file in the extraction that running processes hold a
    shared lock on (see extractions.hold_extraction)."""
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
        # Compressed once, by finish_archive, which rewrites the archive anyway.
        "--uncompressed",
        "--preamble",
        preamble,
    ]
    run_command(command, True, env=env)


def startup_files():
    """``(name in the archive, source)`` of each start-up module."""
    folder = Path(__file__).parent
    return [
        (f"{shipped}.py", (folder / f"{module}.py").read_bytes())
        for module, shipped in STARTUP_MODULES.items()
    ]


def finish_archive(built, site, bytecode, epoch, shared):
    """Add what shiv leaves out: the compiled bytecode of site-packages, and
    our start-up modules at the root of the archive, the first of which
    ``__main__.py`` now calls (it hands over to shiv's bootstrap for the
    first extraction); last, the manifest of the store, which lists the
    ``shared`` top-level entries (:func:`tree.shared_entries`)."""
    date_time = time.gmtime(epoch)[:6]
    original = built.with_suffix(".shiv")
    built.rename(original)
    with original.open("rb") as source_file:
        shebang = source_file.readline()
    with zipfile.ZipFile(original) as source, built.open("wb") as target_file:
        target_file.write(shebang)
        with zipfile.ZipFile(target_file, "w", compression=zipfile.ZIP_DEFLATED) as target:
            files = []
            for info in source.infolist():
                if info.filename == "__main__.py":
                    continue
                data = source.read(info)
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, data)
                files.append((info.filename, data, info.external_attr >> 16))
            added = [
                (f"site-packages/{path.relative_to(site).as_posix()}", path.read_bytes()) for path in bytecode
            ]
            files += [(name, data, 0o644) for name, data in added]
            added += [*startup_files(), ("__main__.py", MAIN_PY)]
            # Last: the hash of every file, for the extraction store.
            added.append((store.MANIFEST_MEMBER, store.manifest(files, epoch, shared).encode("utf-8")))
            for name, data in added:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, data)
    original.unlink()


def write_outputs(options, built, record, tests_zip=None):
    """The artifact, its .sha256, its .json record and its test sidecar; a
    sidecar of an earlier build of the same name and version is removed."""
    options.output_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{options.output_name}-{record['version']}"
    target = options.output_dir / f"{stem}.pyz"
    shutil.copyfile(built, target)
    target.chmod(0o755)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (options.output_dir / f"{stem}.pyz.sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    published = dict(record, sha256=digest, size=target.stat().st_size)
    tests_target = options.output_dir / f"{stem}{TESTS_SUFFIX}"
    tests_target.unlink(missing_ok=True)
    if tests_zip is not None:
        shutil.copyfile(tests_zip, tests_target)
        tests_target.chmod(0o644)
        published["tests"] = dict(
            record["tests"], sha256=hashlib.sha256(tests_target.read_bytes()).hexdigest()
        )
    (options.output_dir / f"{stem}.json").write_text(
        json.dumps(published, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target, digest


def install_site(options, steps, work, site, env):
    """The project's source, its shell steps, its installed dependencies
    (which, how large, what looks wrong) and its data directories."""
    source = steps.run("copy the project source", copy_source, options, work)
    for number, command in enumerate(options.shell_steps, 1):
        title = f"shell step {number} of {len(options.shell_steps)}: {command}"
        steps.run(title, run_shell_step, command, source, options, env)
    # What the shell steps wrote again (a front-end build's git-ignored
    # output) is packaged fresh: naming the local copy would be bad advice.
    left_ignored = ignored_report(
        [name for name in left_out_ignored(options) if not (source / name).exists()]
    )
    if left_ignored:
        steps.warn(left_ignored)
    options.requirements_file = options.requirements
    if lockfiles.is_uv_lock(options.requirements):
        options.requirements_file = steps.run(
            "export the production dependencies of uv.lock", lockfiles.export_uv_lock, options, work, env
        )
    steps.say(f"    requirements: {bundle.requirements_note(options)}")
    early = bundle.requirement_warnings(options)
    for line in early:
        steps.warn(line)
    try:
        chosen = choose_installer(options, env)
    except StepFailed as exc:
        raise BuildError(PREREQUISITES, str(exc)) from None
    steps.say(f"    installer: {installer.describe(chosen)}")
    steps.run("install the project and its dependencies", install, options, source, site, env)
    for line in bundle.size_lines(site):
        steps.say(f"    {line}")
    for line in bundle.warnings(site, warned_uwsgi=bool(early)):
        steps.warn(line)
    if options.data_dirs:
        steps.run("copy the data directories", copy_data_dirs, options, source, site)
    steps.run("look for secrets in the project's files", refuse_secrets, options, source, site)
    left_out = left_out_report(left_out_files(source, site))
    if left_out:
        steps.warn(left_out)


def project_files(options, site):
    """The files pip installed from the project itself (relative to ``site``)."""
    key = canonical_name(options.distribution)
    return [name for found in distributions(site) if found.key == key for name in found.files]


def refuse_secrets(options, source, site):
    """Stop the build when the project's own packaged files hold a secret."""
    files = secret_scan.packaged_files(site, source, project_files(options, site), options.data_dirs)
    findings = secret_scan.scan(files, options.not_secrets)
    if findings:
        raise StepFailed(secret_scan.refusal(findings))
    return len(files)


def prepare_site(options, steps, site, env, epoch):
    """What runs against the installed copy, then the clean-up that makes
    the tree reproducible."""
    for number, command in enumerate(options.manage_steps, 1):
        title = f"manage step {number} of {len(options.manage_steps)}: {command}"
        steps.run(title, run_manage_step, options, site, env, command)
    collected_before = any(shlex.split(command)[:1] == ["collectstatic"] for command in options.manage_steps)
    # A collectstatic among the manage steps (before django-compressor's
    # compress) does not collect what the later steps write: this one does.
    title = "collect static files" + (
        " (the final collection, after the manage steps)" if collected_before else ""
    )
    steps.run(title, collect_static, options, site, env)
    facts = steps.run("run the system checks", run_checks, options, site, env)
    if options.exclude:
        removed = steps.run("leave out the excluded files", exclude_files, options, site, env)
        report_excluded(steps, removed)
    steps.run("compile translations", compile_messages, options, site, env)
    steps.run("make compressed files and manifests reproducible", reproducible_outputs, site, epoch, facts)
    languages = offered_languages(facts)
    steps.run("remove translations of other languages", prune_translations, site, languages)
    steps.run("normalise the installed files", normalise, site, epoch)
    add_lock_file(site, epoch)


def package(options, steps, work, site, env, epoch):
    """The sidecar, the record, the zipapp and the outputs; ``(target, digest, record)``."""
    build_id = tree_digest(site)[:16]
    tests_zip = tests = None
    if options.test_requirements:
        stem = f"{options.output_name}-{artifact_version(options, site)}"
        tests_zip, tests = steps.run(
            "build the test sidecar", sidecar.build_sidecar, options, site, work, env, epoch, build_id, stem
        )
    record = steps.run("record the contents", write_record, options, site, epoch, build_id, tests)
    built = work / "out.pyz"
    preamble = write_preamble(work, epoch)
    steps.run("build the zipapp with shiv", run_shiv, options, site, built, record, preamble, env)
    compiled = steps.run("compile bytecode", bytecode.compile_bytecode, site, env)
    own_packages = {name.partition(".")[0] for name in (options.package, options.settings)}
    shared = shared_entries(site, options.distribution, own_packages)
    steps.run("add bytecode and the start-up module", finish_archive, built, site, compiled, epoch, shared)
    target, digest = steps.run("write the outputs", write_outputs, options, built, record, tests_zip)
    return target, digest, record


def build(options, stream=None):
    steps = Steps(options.quiet, stream)
    epoch = source_date_epoch(options.project_dir)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), PYTHONHASHSEED="0", PIP_NO_INPUT="1")
    with tempfile.TemporaryDirectory(prefix="zipserve-build-") as tmp:
        work = Path(tmp)
        site = work / "site-packages"
        install_site(options, steps, work, site, env)
        prepare_site(options, steps, site, env, epoch)
        target, digest, record = package(options, steps, work, site, env, epoch)
    if options.quiet:
        print(target)
        return target
    size = target.stat().st_size / (1 << 20)
    sidecar_note = f", test sidecar {record['tests']['file']}" if record.get("tests") else ""
    steps.say(
        f"built {target} ({size:.1f} MiB, sha256 {digest[:12]}..., build id {record['build_id']}, "
        f"for Python {record['python']}{sidecar_note}) in {steps.total():.0f} s"
    )
    return target


def add_arguments(parser):
    """One flag per declared setting (options.BUILD_SETTINGS)."""
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
            choices=setting.choices,
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
        build(checked_options(args))
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return exc.exit_status
    return 0
