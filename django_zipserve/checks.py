"""System checks with stable ids, run by ``manage.py check`` and before the
servers start, so misconfigurations stop a release instead of surfacing as
runtime surprises.

Each check is declared once in :data:`CHECKS` (id, level, what it catches,
how to fix it); the functions below only decide *whether* it fires, and the
reference in ``docs/reference/checks.md`` is generated from the same
declarations.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core import checks
from django.urls import Resolver404, resolve

from .conf import paths
from .conf.django_settings import (
    APP_DIRECTORIES,
    FILE_BASED_CACHE,
    HEALTH_PATH,
    MEDIA_MIDDLEWARE,
    SECURITY_MIDDLEWARE,
    WHITENOISE_MIDDLEWARE,
    is_sqlite_file,
    whitenoise_position,
)
from .media import PRIVATE_SETTING, media_prefix, media_serving, served_storage, view_path

#: Where the writable paths go, for the hints.
STATE_DIR_HINT = (
    "Do not set it after config.apply(globals()), which puts it under STATE_DIR; or set it under "
    "STATE_DIR yourself (settings.ZIPSERVE_STATE_DIR). See docs/reference/settings.md."
)
#: WhiteNoise serves files it considers immutable with a cache lifetime of ten years.
A_DAY = 24 * 3600


@dataclass(frozen=True)
class Check:
    """One system check: declared once, reported and documented from here."""

    id: str
    level: type  # checks.Error, checks.Warning or checks.Info
    summary: str  # what it catches, for the reference
    hint: str
    deploy: bool = False  # only with ``check --deploy`` (the servers include it)

    def message(self, text):
        """The check's message with ``text`` naming what was found."""
        return self.level(text, hint=self.hint, id=self.id)


CHECKS = (
    Check(
        "zipserve.E001",
        checks.Error,
        "WhiteNoise is missing from `MIDDLEWARE` or is not right after `SecurityMiddleware`.",
        "Call config.apply(globals()) at the end of settings.py, or place "
        f"{WHITENOISE_MIDDLEWARE!r} right after {SECURITY_MIDDLEWARE!r}.",
    ),
    Check(
        "zipserve.E002",
        checks.Error,
        "The directory of an SQLite database is not a writable directory.",
        "Set STATE_DIR (or DATABASE_URL) in the configuration to a writable directory; "
        "under systemd use StateDirectory=.",
    ),
    Check(
        "zipserve.E003",
        checks.Error,
        "Static files were not collected into `STATIC_ROOT`.",
        "Run `manage.py collectstatic` when building the release; a zipapp built by "
        "django-zipserve already contains them.",
        deploy=True,
    ),
    Check(
        "zipserve.E004",
        checks.Error,
        "A writable path (`MEDIA_ROOT`, an SQLite database, a file-based cache, file sessions, a log "
        "file, `FILE_UPLOAD_TEMP_DIR`, the state directory) is inside the zipapp's extraction, which "
        "the next release replaces and `zipapp prune` deletes.",
        STATE_DIR_HINT,
        deploy=True,
    ),
    Check(
        "zipserve.E005",
        checks.Error,
        "A writable path is inside the project's source tree (the directory of its package): a "
        "deployment must not write into its code.",
        STATE_DIR_HINT,
        deploy=True,
    ),
    Check(
        "zipserve.E006",
        checks.Error,
        "The health URL is shadowed: `reverse()` finds it, but resolving its path reaches another view "
        "(a catch-all pattern, such as a CMS page tree, comes before the include).",
        'Include django_zipserve.urls before the catch-all pattern: put path("", '
        'include("django_zipserve.urls")) first in urlpatterns.',
    ),
    Check(
        "zipserve.W001",
        checks.Warning,
        "`django_zipserve.urls` is not included in the URL configuration: no health view, no warm-up.",
        f'Add path("", include("django_zipserve.urls")) to urlpatterns for the health view at '
        f"/{HEALTH_PATH}; the servers warm up through it.",
    ),
    Check(
        "zipserve.W002",
        checks.Warning,
        "A template, static, locale or fixture directory (`TEMPLATES` `DIRS`, `STATICFILES_DIRS`, "
        "`LOCALE_PATHS`, `FIXTURE_DIRS`) is relative: it is looked up from whatever the working "
        "directory is (`/` under systemd), so pages that need it fail.",
        "Make it absolute, from the directory that holds it, e.g. os.path.join(PROJECT_DIR, "
        '"templates") or, with a pathlib BASE_DIR, BASE_DIR / "templates".',
        deploy=True,
    ),
    Check(
        "zipserve.W003",
        checks.Warning,
        "A setting defeats the long-lived caching of static files: `WHITENOISE_IMMUTABLE_FILE_TEST` "
        "rejects hashed names (they are served with `max-age=60` instead of `immutable`), "
        "`WHITENOISE_MAX_AGE` is below a day, or the `staticfiles` storage is not a manifest storage "
        "(no hashed names at all).",
        "Remove WHITENOISE_IMMUTABLE_FILE_TEST (or make it accept hashed names such as "
        "site.3f2a1c9e8d7b.css as well), remove WHITENOISE_MAX_AGE or raise it to a day or more, and "
        "leave STORAGES['staticfiles'] to config.apply().",
        deploy=True,
    ),
    Check(
        "zipserve.E007",
        checks.Error,
        "Private files would be served as uploads: the state directory, an SQLite database, a file-based "
        "cache, file sessions, a log file or `FILE_UPLOAD_TEMP_DIR` lies inside the directory of the "
        "default file storage (`MEDIA_ROOT`), all of which `MediaMiddleware` serves to anyone at "
        "`MEDIA_URL` (the database of a `MEDIA_ROOT` set to the state directory is one download away).",
        "Leave MEDIA_ROOT to config.apply() (STATE_DIR/media), or move the other paths out of it.",
    ),
    Check(
        "zipserve.W004",
        checks.Warning,
        "Uploads and static files overlap: `MEDIA_URL` is `STATIC_URL` or inside it, or `MEDIA_ROOT` and "
        "`STATIC_ROOT` are one directory or one lies inside the other. WhiteNoise answers first, so a "
        "static file hides an upload of the same path, uploads found in `STATIC_ROOT` are served as "
        "static files (inline, without the safety headers of uploads, so an uploaded HTML page runs on "
        "the site's origin), and a cache rule for static URLs (immutable, for ten years) catches uploads.",
        "Give uploads a URL and a directory of their own: leave MEDIA_URL (media/) and MEDIA_ROOT "
        "(STATE_DIR/media) to config.apply().",
    ),
    Check(
        "zipserve.I001",
        checks.Info,
        "Uploads (`MEDIA_URL`) are served by `MediaMiddleware` to whoever has their URL: no view of the "
        "project checks who asks. Right for public uploads (images on pages); the message names the "
        "parts under `MEDIA_URL` that the project's own URL patterns serve instead.",
        "Nothing to do if they are public. If some must be protected, route MEDIA_URL (or the part "
        "under it that holds them) to a view of your own that checks who asks: the middleware stands "
        f"aside for it. Or set {PRIVATE_SETTING} = True in settings.py. See docs/media.rst.",
        deploy=True,
    ),
    Check(
        "zipserve.I002",
        checks.Info,
        "The project's URL configuration routes `MEDIA_URL`, or a part under it, to a view of its own "
        "(one that checks who asks, or `django.views.static.serve` behind a login-required middleware): "
        "`MediaMiddleware` stands aside for those uploads, so the project's access control applies. A "
        "catch-all pattern that answers any path (a CMS page tree) does not count.",
        "Nothing to do if that view is meant to serve them. It answers with its own headers: give it "
        "X-Content-Type-Options: nosniff, Content-Disposition: attachment for anything but images and "
        "Cache-Control: private (see docs/media.rst).",
        deploy=True,
    ),
    Check(
        "zipserve.W005",
        checks.Warning,
        f"`{PRIVATE_SETTING}` is true, so `MediaMiddleware` serves no upload, but no URL pattern routes "
        "`MEDIA_URL` or a part under it to a view: uploads cannot be downloaded at all (a catch-all "
        "pattern does not count).",
        'Route MEDIA_URL to a view that checks who asks and returns the file, e.g. path("media/<path:'
        f'path>", my_upload_view) with login_required; or remove {PRIVATE_SETTING} if uploads are public.',
    ),
    Check(
        "zipserve.W006",
        checks.Warning,
        "A cookie name starts with `__Secure-` or `__Host-` while the cookie is not marked secure "
        "(`HTTPS: false`): browsers drop such a cookie, so nobody can log in and every form post fails "
        'with "CSRF cookie not set".',
        "Serve the site over HTTPS (HTTPS: true, behind TLS), or, for plain HTTP on localhost, give "
        "SESSION_COOKIE_NAME and CSRF_COOKIE_NAME names without the prefix in a settings module of your own.",
    ),
)

BY_ID = {check.id: check for check in CHECKS}


@checks.register(checks.Tags.staticfiles)
def check_whitenoise_middleware(app_configs, **kwargs):
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    # Ours or WhiteNoise's own class: a project that names WhiteNoise's is served as well.
    position = whitenoise_position(middleware)
    if position is not None and position > 0 and middleware[position - 1] == SECURITY_MIDDLEWARE:
        return []
    return [BY_ID["zipserve.E001"].message("WhiteNoiseMiddleware must come right after SecurityMiddleware.")]


@checks.register("zipserve")
def check_sqlite_directory(app_configs, databases=None, **kwargs):
    errors = []
    for alias, database in settings.DATABASES.items():
        directory = _sqlite_directory(database)
        if directory is not None and not (directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)):
            errors.append(
                BY_ID["zipserve.E002"].message(
                    f"The SQLite database of {alias!r} is in {directory}, which is not a writable directory."
                )
            )
    return errors


def _sqlite_directory(database):
    """The directory of an SQLite database file, or None (another engine,
    an in-memory database)."""
    return Path(str(database["NAME"])).parent if is_sqlite_file(database) else None


def writable_paths():
    """``(setting, path)`` for every place the running site writes to."""
    found = [("MEDIA_ROOT", settings.MEDIA_ROOT), ("FILE_UPLOAD_TEMP_DIR", settings.FILE_UPLOAD_TEMP_DIR)]
    found.append(("ZIPSERVE_STATE_DIR", getattr(settings, "ZIPSERVE_STATE_DIR", None)))
    for alias, database in settings.DATABASES.items():
        if is_sqlite_file(database):
            found.append((f"DATABASES[{alias!r}]['NAME']", database["NAME"]))
    for alias, cache in settings.CACHES.items():
        if cache.get("BACKEND") == FILE_BASED_CACHE:
            found.append((f"CACHES[{alias!r}]['LOCATION']", cache.get("LOCATION")))
    found += [(name, getattr(settings, name, None)) for name, _, _ in APP_DIRECTORIES]
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.file":
        found.append(("SESSION_FILE_PATH", settings.SESSION_FILE_PATH))
    logging = settings.LOGGING if isinstance(settings.LOGGING, Mapping) else {}
    for name, handler in (logging.get("handlers") or {}).items():
        if isinstance(handler, Mapping) and handler.get("filename"):
            found.append((f"LOGGING['handlers'][{name!r}]['filename']", handler["filename"]))
    return [(setting, path) for setting, path in found if path and isinstance(path, (str, os.PathLike))]


def source_tree_directories():
    """The directories of the project's own packages: its settings'."""
    modules = [getattr(settings, "SETTINGS_MODULE", None), settings.ROOT_URLCONF]
    return paths.package_directories([module for module in modules if isinstance(module, str)])


@checks.register("zipserve", deploy=True)
def check_writable_paths(app_configs, **kwargs):
    extraction = paths.extraction_directories()
    source_trees = source_tree_directories()
    errors = []
    for setting, path in writable_paths():
        if paths.is_relative(path):
            continue
        inside = paths.containing(path, extraction)
        if inside is not None:
            text = f"{setting} is {path}, inside the zipapp's extraction {inside}."
            errors.append(BY_ID["zipserve.E004"].message(text))
            continue
        inside = paths.containing(path, source_trees)
        if inside is not None:
            text = f"{setting} is {path}, inside the project's source tree {inside}."
            errors.append(BY_ID["zipserve.E005"].message(text))
    return errors


def data_directories():
    """``(setting, directory)`` for every directory the site reads data from."""
    found = []
    for index, backend in enumerate(settings.TEMPLATES):
        found += [(f"TEMPLATES[{index}]['DIRS']", directory) for directory in backend.get("DIRS") or ()]
    for entry in settings.STATICFILES_DIRS:
        found.append(("STATICFILES_DIRS", entry[1] if isinstance(entry, (list, tuple)) else entry))
    found += [("LOCALE_PATHS", directory) for directory in settings.LOCALE_PATHS]
    found += [("FIXTURE_DIRS", directory) for directory in settings.FIXTURE_DIRS]
    return found


@checks.register("zipserve", deploy=True)
def check_relative_data_directories(app_configs, **kwargs):
    return [
        BY_ID["zipserve.W002"].message(f"{setting} has the relative directory {os.fspath(directory)!r}.")
        for setting, directory in data_directories()
        if isinstance(directory, (str, os.PathLike)) and paths.is_relative(directory)
    ]


def static_prefix():
    """The URL path static files are served under, as WhiteNoise sees it."""
    prefix = getattr(settings, "WHITENOISE_STATIC_PREFIX", None) or urlparse(settings.STATIC_URL or "").path
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


def accepts_hashed_names(test):
    """Whether a WHITENOISE_IMMUTABLE_FILE_TEST (a callable or a regular
    expression) takes a name the manifest storage hashed as immutable."""
    url = f"{static_prefix()}css/site.3f2a1c9e8d7b.css"
    path = os.path.join(str(settings.STATIC_ROOT or ""), "css", "site.3f2a1c9e8d7b.css")
    try:
        return bool(test(path, url)) if callable(test) else bool(re.search(test, url))
    except Exception:  # a test that fails on our name does not accept it
        return False


def caching_problems():
    problems = []
    test = getattr(settings, "WHITENOISE_IMMUTABLE_FILE_TEST", None)
    if test is not None and not accepts_hashed_names(test):
        problems.append(
            "WHITENOISE_IMMUTABLE_FILE_TEST does not accept hashed names: hashed files are served "
            "with a short max-age instead of as immutable."
        )
    max_age = getattr(settings, "WHITENOISE_MAX_AGE", None)
    if max_age is not None and max_age < A_DAY:
        problems.append(f"WHITENOISE_MAX_AGE is {max_age} seconds, below a day.")
    backend = (getattr(settings, "STORAGES", {}).get("staticfiles") or {}).get("BACKEND")
    if backend and not is_manifest_storage(backend):
        problems.append(f"STORAGES['staticfiles'] is {backend}, which is not a manifest storage.")
    return problems


def is_manifest_storage(backend):
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.utils.module_loading import import_string

    try:
        storage_class = import_string(backend)
    except ImportError:
        return True  # Django reports a storage that cannot be imported
    return isinstance(storage_class, type) and issubclass(storage_class, ManifestFilesMixin)


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_caching(app_configs, **kwargs):
    return [BY_ID["zipserve.W003"].message(problem) for problem in caching_problems()]


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_collected(app_configs, **kwargs):
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest_exists = getattr(staticfiles_storage, "manifest_exists", None)
    if manifest_exists is None or manifest_exists():
        return []
    return [
        BY_ID["zipserve.E003"].message(
            f"Static files were not collected into STATIC_ROOT ({settings.STATIC_ROOT})."
        )
    ]


def health_view_at(path):
    """None when ``path`` reaches the health view; otherwise what it
    reaches instead (a view's dotted name, or "no view")."""
    from .health import health

    try:
        match = resolve(path)
    except Resolver404:
        return "no view (404)"
    return None if match.func is health else view_path(match.func)


@checks.register(checks.Tags.urls)
def check_health_url(app_configs, **kwargs):
    from .servers.warmup import health_path

    path = health_path()
    if path is None:
        return [
            BY_ID["zipserve.W001"].message("django_zipserve.urls is not included in the URL configuration.")
        ]
    reached = health_view_at(path)
    if reached is None:
        return []
    return [BY_ID["zipserve.E006"].message(f"GET {path} reaches {reached}, not the health view.")]


def private_paths_in_media(storage):
    """``(setting, path)`` for each writable path, other than the uploads'
    own directory, that lies inside the directory uploads are served from."""
    return [
        (setting, path)
        for setting, path in writable_paths()
        if setting != "MEDIA_ROOT"
        and not paths.is_relative(path)
        and paths.containing(path, [storage.location]) is not None
    ]


@checks.register("zipserve")
def check_private_files_in_media(app_configs, **kwargs):
    storage = served_storage()
    if storage is None:
        return []  # uploads are not served from this host's file system
    return [
        BY_ID["zipserve.E007"].message(
            f"{setting} is {path}, inside {storage.location}, which is served at {media_prefix(storage)}."
        )
        for setting, path in private_paths_in_media(storage)
    ]


def media_static_overlaps(storage):
    """What of uploads and static files overlaps, one sentence each."""
    problems = []
    media_url, static_url = media_prefix(storage), static_prefix()
    if static_url != "/" and media_url.startswith(static_url):
        problems.append(f"MEDIA_URL ({media_url}) is STATIC_URL ({static_url}) or inside it.")
    static_root = settings.STATIC_ROOT
    if static_root and (
        paths.containing(storage.location, [static_root]) or paths.containing(static_root, [storage.location])
    ):
        problems.append(
            f"MEDIA_ROOT ({storage.location}) and STATIC_ROOT ({static_root}) are one directory or one "
            "lies inside the other."
        )
    return problems


@checks.register("zipserve")
def check_media_static_overlap(app_configs, **kwargs):
    storage = served_storage()
    if storage is None:
        return []
    return [BY_ID["zipserve.W004"].message(problem) for problem in media_static_overlaps(storage)]


def uploads_serving():
    """Who serves the uploads (:func:`media.media_serving`), or None when
    ``MediaMiddleware`` does not (another storage, or not in ``MIDDLEWARE``)."""
    storage = served_storage()
    if storage is None or MEDIA_MIDDLEWARE not in getattr(settings, "MIDDLEWARE", []):
        return None
    return media_serving(storage)


def served_by_project(serving, route):
    if serving.private:
        aside = f"stands aside ({PRIVATE_SETTING} = True)"
    else:
        aside = "stands aside" if serving.stands_aside else "stands aside for them"
    return (
        f"Uploads under {route.prefix} are served by the project's URL pattern {route.pattern!r} "
        f"({route.view}): MediaMiddleware {aside}."
    )


def served_by_middleware(serving):
    text = f"Uploads at {serving.prefix} are served by MediaMiddleware to anyone: no access control"
    if serving.routes:
        text += f" (except under {', '.join(serving.project_prefixes)}: the project's own URL patterns)"
    if serving.private_prefixes:
        text += f"; never under {', '.join(serving.private_prefixes)} (an application's own view serves them)"
    return text + "."


@checks.register("zipserve", deploy=True)
def check_who_serves_uploads(app_configs, **kwargs):
    serving = uploads_serving()
    if serving is None:
        return []
    messages = [BY_ID["zipserve.I002"].message(served_by_project(serving, route)) for route in serving.routes]
    if not serving.stands_aside:
        messages.append(BY_ID["zipserve.I001"].message(served_by_middleware(serving)))
    return messages


@checks.register("zipserve")
def check_private_uploads_reachable(app_configs, **kwargs):
    serving = uploads_serving()
    if serving is None or not serving.private or serving.routes:
        return []
    text = (
        f"{PRIVATE_SETTING} is True, but no URL pattern routes {serving.prefix} or a part under it to a "
        "view: nothing serves uploads."
    )
    return [BY_ID["zipserve.W005"].message(text)]


#: Cookie name prefixes a browser accepts only on a cookie set with Secure.
SECURE_ONLY_PREFIXES = ("__Secure-", "__Host-")
#: ``(name setting, secure setting)`` of the cookies Django sets.
COOKIES = (("SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE"), ("CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE"))


@checks.register("zipserve")
def check_secure_only_cookie_names(app_configs, **kwargs):
    return [
        BY_ID["zipserve.W006"].message(f"{name} is {getattr(settings, name)!r} but {secure} is False.")
        for name, secure in COOKIES
        if str(getattr(settings, name, "")).startswith(SECURE_ONLY_PREFIXES)
        and not getattr(settings, secure, False)
    ]
