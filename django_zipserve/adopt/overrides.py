"""What the generated settings set after the project's own, each with a
comment saying why and a line in init's review: settings the artifact
cannot keep, and the processes of a task queue the project defines.

The artifact serves its own static files, collected into it at build time
(``config.apply()`` makes ``STORAGES["staticfiles"]`` WhiteNoise's). A
project configured for cloud storage (cookiecutter-django's default: S3,
with collectfasta to speed up ``collectstatic``) still names the bucket in
``STATIC_URL``: every page would link its CSS and scripts there, and
collectfasta crashes ``collectstatic`` against a storage that is not the
cloud one. Both are overridden.

A Celery app (cookiecutter-django's ``config/celery_app.py``) has a worker
and a scheduler to run beside the web server: they are declared as
processes (``ZIPSERVE_PROCESSES``), which ``run`` and ``systemd render``
know.
"""

import ast
from dataclasses import dataclass

from .source import string_constant

#: Apps that replace ``collectstatic`` for a cloud storage backend.
CLOUD_COLLECTORS = ("collectfasta", "collectfast")


@dataclass(frozen=True)
class Override:
    comment: str  # why, above the code
    code: str  # one statement of the generated settings
    review: str  # the line of init's review


#: Where projects keep their Celery app, relative to a package.
CELERY_MODULES = ("celery.py", "celery_app.py")


def overrides(source, packages=()):
    """The overrides the project's settings (a SettingsSource) and its
    packages (directories) call for."""
    found = [*celery_processes(source, packages)]
    static_url = cloud_static_url(source)
    if static_url:
        found.append(
            Override(
                f"The artifact serves its static files itself; the project's STATIC_URL ({static_url}) "
                "names its cloud storage.",
                'STATIC_URL = "/static/"',
                f"STATIC_URL names cloud storage ({static_url}): the artifact serves its static files "
                'itself, so the generated settings set STATIC_URL = "/static/"',
            )
        )
    collectors = [app for app in CLOUD_COLLECTORS if source.mentions("INSTALLED_APPS", app)]
    if collectors:
        listed = ", ".join(repr(app) for app in collectors)
        found.append(
            Override(
                f"{', '.join(collectors)} collects static files into cloud storage, which the artifact "
                "replaces with its own (its collectstatic fails on any other).",
                f"INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in ({listed},)]  # noqa: F405",
                f"{', '.join(collectors)} (cloud storage's collectstatic) is taken out of INSTALLED_APPS "
                "by the generated settings: the artifact collects its static files into itself",
            )
        )
    return found


def cloud_static_url(source):
    """Where the last STATIC_URL of the settings points, when it is another
    host (``https://...``, an f-string that starts so), else None."""
    last = source.last("STATIC_URL")
    if last is None:
        return None
    value = last.value
    text = string_constant(value)
    if text is None and isinstance(value, ast.JoinedStr):
        # The constant parts of an f-string are its literal text (str).
        text = "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{...}" for part in value.values
        )
    if text and text.startswith(("http://", "https://", "//")):
        return f"{text} at {source.where(last)}"
    return None


def celery_processes(source, packages):
    """The worker and the scheduler of the project's Celery app, unless the
    settings declare processes already."""
    if source.assigned("ZIPSERVE_PROCESSES"):
        return []
    app = celery_app(packages)
    if app is None:
        return []
    module, where = app
    worker = ["-A", module, "worker", "--loglevel=INFO"]
    beat = ["-A", module, "beat", "--loglevel=INFO"]
    code = (
        "ZIPSERVE_PROCESSES = {\n"
        f'    "worker": {{"module": "celery", "args": {worker!r}, "stop_timeout": 60}},\n'
        f'    "beat": {{"module": "celery", "args": {beat!r}}},\n'
        "}"
    ).replace("'", '"')
    return [
        Override(
            f"The project's Celery app ({where}): its worker and scheduler run beside the web server "
            "(run worker, run beat; systemd render writes their units).",
            code,
            f"a Celery app in {where}: its worker and beat are declared in ZIPSERVE_PROCESSES "
            "(run worker, run beat; systemd render writes their units); remove beat if it has no schedule",
        )
    ]


def celery_app(packages):
    """``(module, file)`` of the first Celery app in the packages, or None."""
    for package in packages:
        found = [
            path
            for name in CELERY_MODULES
            for pattern in (name, f"*/{name}")
            for path in package.glob(pattern)
        ]
        for candidate in sorted(found):
            try:
                tree = ast.parse(candidate.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, UnicodeDecodeError):
                continue
            if any(is_celery_call(node) for node in ast.walk(tree)):
                relative = candidate.relative_to(package.parent).with_suffix("")
                return ".".join(relative.parts), relative.as_posix() + ".py"
    return None


def is_celery_call(node):
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
    return name == "Celery"
