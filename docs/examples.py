"""The examples of generated output in the documentation, produced by the code.

A page shows what a command prints or writes with the ``generated``
directive, which runs the real command when the site is built, so that an
example cannot drift from what the code does::

    .. generated:: python -m django_zipserve init --dry-run
       :project: many_apps
       :start-at: review:

``:project:`` copies ``tests/projects/NAME`` to a temporary directory, as a
git checkout (its ``gitignore`` in place as ``.gitignore``), and runs the
command there (``:cwd:`` a folder inside it); without it the command runs in
an empty directory (``python -m example_project`` is importable from the
development virtualenv). ``:before:`` runs commands first, one a line;
``:env:`` sets ``NAME=value`` pairs in an otherwise minimal environment;
``:returncode:`` is the exit status the command must have (0 unless given);
``:file:`` shows a file the commands wrote instead of their output. The
lines shown are chosen with literalinclude's options (``:start-at:``,
``:start-after:``, ``:end-before:``, ``:end-at:``, ``:lines:``,
``:pyobject:``, ``:prepend:``, ``:dedent:``); a marker the output no
longer has stops the build. Standard output and error are shown together,
as in a terminal.

A message or a record that needs an artifact, a host or a failure to be
seen comes from the function that writes it, called with the example's
inputs: ``.. generated::`` with ``:message: NAME``, one of ``MESSAGES``
below.

Paths of the machine that builds the site never reach a page: the
temporary directory reads as the project's folder in a home directory, and
this checkout as ``CHECKOUT``.
"""

import atexit
import contextlib
import errno
import functools
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROJECTS = REPO / "tests" / "projects"
#: What this checkout's path reads as in an example (django-zipserve is
#: installed from a checkout, and init names it).
CHECKOUT = "/home/me/django-zipserve"
TIMEOUT = 120


class ExampleError(Exception):
    """An example that could not be produced: the page would show a wrong one."""


@functools.cache
def scratch():
    """One temporary directory for the examples of this build, removed at exit."""
    directory = tempfile.mkdtemp(prefix="zipserve-docs-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def environment(overrides=()):
    """A minimal environment: nothing of the building machine's (a
    ``DJANGO_SETTINGS_MODULE``, a ``SECRET_KEY``, ``SHIV_ROOT``) changes what
    an example prints."""
    home = Path(tempfile.mkdtemp(dir=scratch()))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for pair in overrides:
        name, _, value = pair.partition("=")
        env[name] = value
    return env


def command_line(text):
    """``python`` is the interpreter that builds the site (the development
    virtualenv's), as the command and as the value of ``--python``
    (``systemd render``'s, which would otherwise need one on ``PATH``)."""
    words = shlex.split(text)
    for index, word in enumerate(words):
        if word == "python" and (index == 0 or words[index - 1] == "--python"):
            words[index] = sys.executable
    return words


def without_machine_paths(text, directory):
    """A path inside the example's directory as the command would print it
    run from there (relative), the directory itself as one in the home
    directory, this checkout as ``CHECKOUT``."""
    for path in sorted({str(directory), os.path.realpath(directory)}, key=len, reverse=True):
        text = text.replace(path + "/", "").replace(path, f"~/{Path(directory).name}")
    return text.replace(str(REPO), CHECKOUT)


@functools.cache
def run(command, project=None, cwd=None, before=(), env=(), returncode=0):
    """``(output, directory)``: what ``command`` printed after ``before``
    ran, in a fresh copy of the test project ``project``."""
    directory = Path(tempfile.mkdtemp(dir=scratch())) / (project or "mysite")
    if project:
        source = PROJECTS / project
        if not source.is_dir():
            raise ExampleError(f"no test project {project} in tests/projects")
        shutil.copytree(source, directory, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if (directory / "gitignore").is_file():
            (directory / "gitignore").rename(directory / ".gitignore")
        subprocess.run(["git", "init", "--quiet", str(directory)], check=True, capture_output=True)
    else:
        directory.mkdir()
    workdir = directory / cwd if cwd else directory
    variables = environment(env)
    for step in before:
        done = subprocess.run(
            command_line(step), cwd=workdir, env=variables, capture_output=True, text=True, timeout=TIMEOUT
        )
        if done.returncode != 0:
            raise ExampleError(f"{step!r} exited with status {done.returncode}: {done.stderr.strip()}")
    done = subprocess.run(
        command_line(command),
        cwd=workdir,
        env=variables,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
    )
    if done.returncode != returncode:
        raise ExampleError(
            f"{command!r} exited with status {done.returncode}, not {returncode}:\n{done.stdout.strip()}"
        )
    return without_machine_paths(done.stdout, directory), workdir


def written_file(command, name, **options):
    """A file the command wrote, as it wrote it."""
    _, workdir = run(command, **options)
    path = workdir / name
    if not path.is_file():
        raise ExampleError(f"{command!r} wrote no {name}")
    return without_machine_paths(path.read_text(encoding="utf-8"), workdir)


# Messages and records, from the functions that write them --------------------


def node_refusal():
    """The build on a machine whose Node the project's ``engines.node`` excludes."""
    from django_zipserve.zipapp import node, prerequisites

    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "package.json").write_text(json.dumps({"engines": {"node": "^24"}}))
        found = node.problems(
            directory,
            ["npm ci", "npm run build"],
            which=lambda tool: f"/usr/bin/{tool}",
            version_of=lambda program: "v20.19.0",
        )
    return prerequisites.missing(found).report()


def uv_export():
    """How the build exports a project's uv.lock (in the build's work folder)."""
    from django_zipserve.zipapp import lockfiles

    options = SimpleNamespace(project_dir=Path("."), extra_requirements=[])
    return "uv " + shlex.join(lockfiles.export_arguments(options, Path("requirements-from-uv.lock.txt")))


def lock_refusal():
    """The build told to install from a Poetry lock file."""
    from django_zipserve.zipapp import lockfiles, prerequisites

    options = SimpleNamespace(requirements=Path("poetry.lock"))
    return prerequisites.missing(lockfiles.lock_problems(options)).report()


def python_refusal():
    """An artifact built for Python 3.12 started by Debian 12's python3 (3.11)."""
    from django_zipserve.zipapp import boot

    printed = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(boot, "python_version", lambda: "3.11"))
        stack.enter_context(mock.patch.object(boot, "archive_path", lambda: "/tmp/mysite-1.4.0.pyz"))
        stack.enter_context(mock.patch.object(sys, "executable", "/usr/bin/python3"))
        stack.enter_context(contextlib.redirect_stderr(printed))
        with contextlib.suppress(SystemExit):
            boot.check_python({"python": "3.12"}, "mysite-1.4.0.pyz")
    return printed.getvalue().strip()


def write_refusal():
    """A project writing a file into its own package, inside the extraction."""
    from django_zipserve.zipapp import guard

    path = "/var/cache/mysite/mysite.pyz_0a9b8c7d6e5f4a3b/site-packages/mysite/scripts/report.py"
    return f"PermissionError: {PermissionError(errno.EACCES, guard.refusal('write', path))}"


def warmup_refusal():
    """A release whose home page template is missing."""
    from django.template import TemplateDoesNotExist

    from django_zipserve.servers import warmup

    exception = TemplateDoesNotExist("home.html")
    answer = warmup.WarmupAnswer(
        path="/", status="500 Internal Server Error", exceptions=[(TemplateDoesNotExist, exception, None)]
    )
    return f"CommandError: {answer.report()}"


def asgi_refusal():
    """``pyuwsgi --asgi``."""
    from django_zipserve.management.commands import pyuwsgi

    return f"CommandError: {pyuwsgi.Command.asgi_refusal}"


def version_output():
    """``./mysite.pyz version``, for the build record of an example release."""
    from django_zipserve.zipapp import boot

    record = {
        "name": "mysite",
        "version": "1.4.0",
        "build_id": "6d1f0c2a9b3e4f5d",
        "commit": "3f2a1c9e0b7d",
        "python": "3.11",
    }
    with mock.patch.object(sys, "version", "3.11.7 (main)"):
        return "\n".join(boot.version_lines(record, "5.2.19"))


def pytest_record():
    """The pytest options the build records for the cookiecutter-shaped test project."""
    from django_zipserve.zipapp.pytest_config import pytest_configuration

    project = PROJECTS / "cookiecutter_shaped"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return json.dumps({"pytest": pytest_configuration(project, pyproject)}, indent=2)


def static_front():
    """What a server command prints when the static front is on."""
    from django_zipserve.management.server_command import static_front_line

    return static_front_line(259)


#: The example releases: id, installed (local time), commit.
RELEASES = (
    ("1.4.0-6d1f0c2a9b3e4f5d", "2026-11-20 09:12:01", "3f2a1c9e0b7d"),
    ("1.5.0-0a9b8c7d6e5f4a3b", "2026-11-26 14:30:44", "9d8e7f6a5b4c"),
)


def release_folder(root, releases, current):
    """A release folder as ``deploy`` leaves it, with ``releases`` installed
    and ``current`` pointing at the release of that id."""
    import datetime

    for release_id, installed, commit in releases:
        folder = root / "releases" / release_id
        folder.mkdir(parents=True)
        (folder / "mysite.pyz").touch()
        when = datetime.datetime.strptime(installed, "%Y-%m-%d %H:%M:%S").timestamp()
        (folder / "release.json").write_text(json.dumps({"commit": commit, "installed": when}))
    if current:
        (root / "current").symlink_to(Path("releases") / current)


def command_output(command, **options):
    """What a management command writes to its standard output, run in this process."""
    written = io.StringIO()
    command(stdout=written, stderr=written).handle(**options)
    return written.getvalue().rstrip("\n")


def releases_listing():
    """``releases`` after a rollback from 1.5.0 to 1.4.0."""
    from django_zipserve.management.commands import releases

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        release_folder(root, RELEASES, current=RELEASES[0][0])
        return command_output(releases.Command, root=str(root), name="mysite")


#: The build record of the example release 1.4.0.
BUILD = {"build_id": "6d1f0c2a9b3e4f5d", "commit": "3f2a1c9e0b7d", "python": "3.11"}


def first_deploy():
    """``deploy --migrate`` of the first release: its release steps (the
    systemctl commands, as run on a host where each succeeds), then ``current``."""
    import zipfile

    from django_zipserve.deploy import bluegreen
    from django_zipserve.management.commands import deploy
    from django_zipserve.zipapp.boot import RECORD_MEMBER

    def succeeding(arguments, **_):
        return subprocess.CompletedProcess(arguments, 0, "", "")

    with tempfile.TemporaryDirectory() as directory:
        artifact = Path(directory, "mysite-1.4.0.pyz")
        with zipfile.ZipFile(artifact, "w") as archive:
            archive.writestr(RECORD_MEMBER, json.dumps({"name": "mysite", "version": "1.4.0", **BUILD}))
        options = {"artifact": str(artifact), "name": "mysite", "root": str(Path(directory, "srv"))}
        options |= {"keep": 5, "migrate": True, "stage": False, "switch": False, "health_url": None}
        options |= {"process_settle": 5}
        with mock.patch.object(bluegreen, "subprocess", SimpleNamespace(run=succeeding)):
            return command_output(deploy.Command, **options)


def process_failure():
    """``deploy --switch`` when the worker cannot reach its database: the
    report of the processes' check, the worker's journal ending as it would."""
    from django_zipserve.deploy import bluegreen

    unit = "mysite-worker.service"
    state = bluegreen.UnitState(
        active="activating", sub="auto-restart", restarts=3, exit_code=1, exit_status=1
    )
    journal = (
        'django.db.utils.OperationalError: connection failed: connection to server at "127.0.0.1", '
        "port 5432 failed: Connection refused\n"
    )
    failure = bluegreen.ProcessFailed(
        [(unit, state.describe_failure())], [f"systemctl try-restart {unit}"], {unit: journal}
    )
    return failure.report()


#: Extractions under a root, as ``zipapp info`` lists them: path, size
#: (MiB), current, in use, the project of its build record.
EXTRACTIONS = {
    "/var/cache/mysite": [
        ("mysite.pyz_0a9b8c7d6e5f4a3b", 98.2, True, True, "mysite"),
        ("mysite.pyz_6d1f0c2a9b3e4f5d", 97.9, False, True, "mysite"),
    ],
    "/home/me/.cache/shiv": [
        ("mysite-1.4.0.pyz_0a9b8c7d6e5f4a3b", 98.2, True, True, "mysite"),
        ("mysite-1.3.0.pyz_6d1f0c2a9b3e4f5d", 97.9, False, False, "mysite"),
        ("blog.pyz_5e4d3c2b1a0f9e8d", 61.0, False, False, "blog"),
        ("tool.pyz_1f2e3d4c5b6a7980", 12.3, False, False, None),
    ],
}


def zipapp_info(root):
    """``zipapp info`` of the artifact extracted first under ``root``."""
    from django_zipserve.zipapp import extractions

    found = [
        extractions.Extraction(f"{root}/{entry}", -index, round(size * extractions.MIB), *marks)
        for index, (entry, size, *marks) in enumerate(EXTRACTIONS[root])
    ]
    current = found[0].path
    name = found[0].file_name
    with mock.patch.object(extractions, "extractions", lambda root, current=None: found):
        return "\n".join(extractions.info_lines(root, name, current, project="mysite"))


MESSAGES = {
    "node-refusal": node_refusal,
    "lock-refusal": lock_refusal,
    "uv-export": uv_export,
    "python-refusal": python_refusal,
    "warmup-refusal": warmup_refusal,
    "write-refusal": write_refusal,
    "asgi-refusal": asgi_refusal,
    "version": version_output,
    "pytest-record": pytest_record,
    "static-front": static_front,
    "first-deploy": first_deploy,
    "process-failure": process_failure,
    "releases": releases_listing,
    "zipapp-info-service": functools.partial(zipapp_info, "/var/cache/mysite"),
    "zipapp-info": functools.partial(zipapp_info, "/home/me/.cache/shiv"),
}


def message(name):
    if name not in MESSAGES:
        raise ExampleError(f"no message {name!r}; known: {', '.join(MESSAGES)}")
    return MESSAGES[name]()


# The Sphinx directive ---------------------------------------------------------


def setup(app):
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.directives.code import LiteralIncludeReader
    from sphinx.util.docutils import SphinxDirective

    def lines(argument):
        return tuple(line.strip() for line in (argument or "").splitlines() if line.strip())

    class Generated(SphinxDirective):
        """``.. generated:: COMMAND`` (see the module's docstring)."""

        optional_arguments = 1
        final_argument_whitespace = True
        option_spec = {
            "project": directives.unchanged_required,
            "cwd": directives.unchanged_required,
            "before": lines,
            "env": directives.unchanged_required,
            "returncode": directives.nonnegative_int,
            "file": directives.unchanged_required,
            "message": directives.unchanged_required,
            "language": directives.unchanged_required,
            "prompt": directives.flag,
            "start-at": directives.unchanged_required,
            "start-after": directives.unchanged_required,
            "end-before": directives.unchanged_required,
            "end-at": directives.unchanged_required,
            "lines": directives.unchanged_required,
            "pyobject": directives.unchanged_required,
            "prepend": directives.unchanged_required,
            "dedent": directives.nonnegative_int,
        }

        def run(self):
            try:
                text = self.produce()
                shown = self.select(text)
            except (ExampleError, ValueError, OSError, subprocess.SubprocessError) as exc:
                raise self.error(f"generated: {exc}") from None
            if "prompt" in self.options and self.arguments:
                shown = f"$ {self.arguments[0]}\n{shown}"
            block = nodes.literal_block(shown, shown)
            block["language"] = self.options.get("language") or self.guess_language()
            self.set_source_info(block)
            return [block]

        def produce(self):
            if "message" in self.options:
                return message(self.options["message"]) + "\n"
            if not self.arguments:
                raise ExampleError("give a command or :message:")
            options = {
                "project": self.options.get("project"),
                "cwd": self.options.get("cwd"),
                "before": self.options.get("before", ()),
                "env": tuple(self.options.get("env", "").split()),
                "returncode": self.options.get("returncode", 0),
            }
            if "file" in self.options:
                return written_file(self.arguments[0], self.options["file"], **options)
            return run(self.arguments[0], **options)[0]

        def select(self, text):
            chosen = {key: value for key, value in self.options.items() if key in SELECTORS}
            suffix = Path(self.options.get("file", "output.txt")).suffix
            with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as file:
                file.write(text)
            try:
                reader = LiteralIncludeReader(file.name, chosen, self.config)
                shown, _ = reader.read(location=self.state_machine.get_source_and_line(self.lineno))
            finally:
                os.unlink(file.name)
            return shown.rstrip("\n")

        def guess_language(self):
            suffix = Path(self.options.get("file", "")).suffix
            return {".py": "python", ".toml": "toml", ".yml": "yaml", ".json": "json"}.get(suffix, "text")

    SELECTORS = ("start-at", "start-after", "end-before", "end-at", "lines", "pyobject", "prepend", "dedent")
    app.add_directive("generated", Generated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
