"""The internals of other libraries that django-zipserve relies on, one test each.

Each test exercises the library itself (instantiates it, calls it) and fails
under the name of the internal it checks when a release changes it. Its
docstring names the code of ours that relies on it (module and function,
which outlive line numbers) and the release it was checked against.
``pyproject.toml`` bounds each of these libraries below its next major
release; ``tox -e newest`` runs these tests on the newest releases, above
those bounds. Start-up from the zipapp (``django_zipserve/zipapp/``, shiv's
bootstrap) is tested with the zipapp.

What is public and documented (Django's middleware and signals, gunicorn's
``on_starting`` hook and settings, pydantic's models) is not listed here.
"""

import gzip
import importlib.util
import inspect
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import types
from http import HTTPStatus
from pathlib import Path
from unittest import mock

import pytest
from django.test import RequestFactory, override_settings

from tests.helpers import REPO

CSS = b"body { color: #123456; }\n" * 40
CSS_URL = "/static/css/site.css"


@pytest.fixture
def static_root(tmp_path):
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_bytes(CSS)
    (root / "css" / "site.css.gz").write_bytes(gzip.compress(CSS, mtime=0))
    return root


@pytest.fixture
def static_site(django_project, static_root):
    """The test project serving ``static_root`` at /static/, as in production."""
    with override_settings(DEBUG=False, STATIC_ROOT=str(static_root), STATIC_URL="/static/"):
        yield static_root


def whitenoise_middleware():
    from whitenoise.middleware import WhiteNoiseMiddleware

    return WhiteNoiseMiddleware(get_response=lambda request: None)


def close(response):
    if response.file is not None:
        response.file.close()
    return response


# -- WhiteNoise ----------------------------------------------------------------


def test_whitenoise_middleware_files_maps_each_url_to_its_static_file(static_site):
    """``WhiteNoiseMiddleware(get_response=...).files``: a dict of URL path
    (below the script prefix) -> ``StaticFile``, compressed variants left
    out, built in the constructor unless ``autorefresh``.

    Ours: ``servers/front.py`` ``whitenoise_files()`` and ``build()`` answer
    from this table. Checked against WhiteNoise 6.12.0."""
    from whitenoise.responders import StaticFile

    middleware = whitenoise_middleware()
    assert middleware.autorefresh is False
    assert isinstance(middleware.files, dict)
    assert set(middleware.files) == {CSS_URL}, "the .gz variant is not an entry of its own"
    assert isinstance(middleware.files[CSS_URL], StaticFile)
    with override_settings(DEBUG=True):
        assert whitenoise_middleware().autorefresh is True


def test_static_file_get_response_takes_the_method_and_the_request_headers(static_site):
    """``StaticFile.get_response(method, request_headers)`` (not exported):
    a response with ``status`` (an ``HTTPStatus``), ``headers`` (a list of
    name, value pairs) and ``file`` (open for reading, None for HEAD, 304,
    405 and 416), the compressed variant the client accepts.

    Ours: ``servers/front.py`` ``Front.answer()``, ``Front.keep()`` and
    ``probe_static_file()``. Checked against WhiteNoise 6.12.0."""
    static_file = whitenoise_middleware().files[CSS_URL]

    plain = static_file.get_response("GET", {})
    assert plain.status is HTTPStatus.OK
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in plain.headers)
    with plain.file:
        assert plain.file.read() == CSS
    assert dict(plain.headers)["Content-Length"] == str(len(CSS))

    compressed = static_file.get_response("GET", {"HTTP_ACCEPT_ENCODING": "gzip"})
    assert dict(compressed.headers)["Content-Encoding"] == "gzip"
    with compressed.file:
        assert gzip.decompress(compressed.file.read()) == CSS

    assert static_file.get_response("HEAD", {}).file is None
    assert close(static_file.get_response("POST", {})).status is HTTPStatus.METHOD_NOT_ALLOWED
    etag = dict(plain.headers)["ETag"]
    assert (
        close(static_file.get_response("GET", {"HTTP_IF_NONE_MATCH": etag})).status is HTTPStatus.NOT_MODIFIED
    )
    ranged = static_file.get_response("GET", {"HTTP_RANGE": "bytes=0-3"})
    assert ranged.status is HTTPStatus.PARTIAL_CONTENT
    with ranged.file:
        assert ranged.file.read() == CSS[:4]


class RecordingHeaders(dict):
    """Request headers that note every key read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def test_whitenoise_builds_a_static_file_for_any_path_and_tests_it_for_immutability(static_site):
    """``get_static_file(path, url)`` builds a ``StaticFile`` for a file
    outside the table (its compressed variants found beside it), calling
    ``immutable_file_test(path, url)`` for its Cache-Control; it raises
    ``responders.NotARegularFileError`` for a directory; ``static_root`` and
    ``static_prefix`` are set before ``add_files`` runs.

    Ours: ``servers/static_index.py`` ``sibling_file()`` and
    ``immutable_file_test()`` serve the hashed files of a sibling release
    (``servers/release_static.py``). Checked against WhiteNoise 6.12.0."""
    from whitenoise.responders import NotARegularFileError, StaticFile

    middleware = whitenoise_middleware()
    assert middleware.static_prefix == "/static/"
    assert os.path.samefile(middleware.static_root, static_site)
    asked = []
    original = middleware.immutable_file_test
    middleware.immutable_file_test = lambda path, url: asked.append((path, url)) or original(path, url)
    path = os.path.join(middleware.static_root, "css", "site.css")
    static_file = middleware.get_static_file(path, "/static/elsewhere.0123456789ab.css")
    assert isinstance(static_file, StaticFile)
    assert asked == [(path, "/static/elsewhere.0123456789ab.css")]
    with pytest.raises(NotARegularFileError):
        middleware.get_static_file(os.path.dirname(path), "/static/css/")


def test_whitenoise_reads_no_request_header_the_asgi_front_leaves_out(static_site):
    """The request headers ``StaticFile.get_response()`` reads are those the
    ASGI front passes on: Accept-Encoding, If-None-Match, If-Modified-Since,
    Range. A header WhiteNoise starts reading would be missing under ASGI.

    Ours: ``servers/front.py`` ``WHITENOISE_REQUEST_HEADERS``
    (``asgi_request_headers()``) and ``CONDITIONS`` (the requests whose answer
    is not kept). Checked against WhiteNoise 6.12.0."""
    import whitenoise.responders

    from django_zipserve.servers import front

    passed_on = set(front.WHITENOISE_REQUEST_HEADERS.values())
    static_file = whitenoise_middleware().files[CSS_URL]
    read = set()
    for method in ("GET", "HEAD"):
        for headers in (
            {},
            {"HTTP_ACCEPT_ENCODING": "gzip"},
            {"HTTP_IF_NONE_MATCH": '"other"'},
            {"HTTP_IF_MODIFIED_SINCE": "Thu, 01 Jan 1970 00:00:00 GMT"},
            {"HTTP_RANGE": "bytes=2-5"},
        ):
            recording = RecordingHeaders(headers)
            close(static_file.get_response(method, recording))
            read |= recording.read
    assert read <= passed_on, f"WhiteNoise reads {read - passed_on} too"
    named = set(re.findall(r"HTTP_[A-Z_]+", inspect.getsource(whitenoise.responders)))
    assert named <= passed_on, f"WhiteNoise's responders name {named - passed_on} too"
    assert set(front.CONDITIONS) == passed_on - {"HTTP_ACCEPT_ENCODING"}


def test_whitenoise_answers_a_plain_request_with_the_same_header_list_each_time(static_site):
    """``StaticFile.get_response()`` answers 200, 304 and 405 with the same
    header list object every time (built with the ``StaticFile``), and 206
    and 416 with a new one.

    Ours: ``servers/front.py`` ``AsgiHeaders`` keeps the encoding of each
    list by identity; were a 200's list new each time, the kept encodings
    would grow with every request (``PER_REQUEST`` lists 206 and 416).
    Checked against WhiteNoise 6.12.0."""
    from django_zipserve.servers.front import AsgiHeaders

    static_file = whitenoise_middleware().files[CSS_URL]
    etag = dict(close(static_file.get_response("GET", {})).headers)["ETag"]
    for method, headers in (("GET", {"HTTP_ACCEPT_ENCODING": "gzip"}), ("GET", {"HTTP_IF_NONE_MATCH": etag})):
        first = close(static_file.get_response(method, headers))
        second = close(static_file.get_response(method, headers))
        assert first.headers is second.headers, first.status
    assert (
        close(static_file.get_response("POST", {})).headers
        is close(static_file.get_response("PUT", {})).headers
    )
    for range_header in ("bytes=0-3", "bytes=9999-"):
        first = close(static_file.get_response("GET", {"HTTP_RANGE": range_header}))
        second = close(static_file.get_response("GET", {"HTTP_RANGE": range_header}))
        assert first.status in AsgiHeaders.PER_REQUEST
        assert first.headers is not second.headers


def test_whitenoise_middleware_answers_by_path_info_with_the_responses_headers(static_site):
    """``WhiteNoiseMiddleware.__call__`` looks a request up in ``files`` by
    ``request.path_info`` and answers it through ``serve()``, whose response
    carries exactly ``get_response()``'s headers (no default Content-Type).

    Ours: ``servers/front.py`` looks up ``wsgi_path()``/``asgi_path()`` (the
    path_info) in the same table, and ``probe_static_file()`` takes Django's answer for
    WhiteNoise's response plus the headers of the middleware above.
    Checked against WhiteNoise 6.12.0."""
    middleware = whitenoise_middleware()
    request = RequestFactory().get(CSS_URL, SCRIPT_NAME="/mounted", HTTP_ACCEPT_ENCODING="gzip")
    assert request.path == "/mounted" + CSS_URL and request.path_info == CSS_URL
    response = middleware(request)
    assert response is not None, "answered from files, not by get_response"
    own = close(middleware.files[CSS_URL].get_response("GET", request.META))
    assert sorted(response.items()) == sorted(own.headers)
    assert response.status_code == own.status.value
    response.close()
    assert middleware(RequestFactory().get("/static/css/missing.css")) is None


def test_the_fronts_paths_are_whitenoises_and_djangos_path_info(django_project):
    """WhiteNoise's WSGI ``decode_path_info`` (``whitenoise.string_utils``,
    not exported) and Django's ``path_info`` of a WSGI and of an ASGI
    request: the key of a request in WhiteNoise's table.

    Ours: ``servers/front.py`` ``wsgi_path()`` and ``asgi_path()``.
    Checked against WhiteNoise 6.12.0 and Django 5.2."""
    from django.core.handlers.asgi import ASGIRequest
    from django.core.handlers.wsgi import WSGIRequest
    from whitenoise.string_utils import decode_path_info

    from django_zipserve.servers import front
    from django_zipserve.servers.warmup import build_environ

    for path in ("/static/css/site.css", "/static/caf\u00e9/menu.css", "/"):
        raw = path.encode("utf-8").decode("latin-1")  # as a WSGI server passes it
        environ = {**build_environ("/", "localhost"), "PATH_INFO": raw, "SCRIPT_NAME": "/mounted"}
        assert front.wsgi_path(environ) == decode_path_info(raw) == WSGIRequest(environ).path_info == path
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/mounted" + path,
            "root_path": "/mounted",
            "query_string": b"",
            "headers": [],
        }
        assert front.asgi_path(scope) == ASGIRequest(scope, io.BytesIO()).path_info == path


def test_whitenoise_middleware_calls_add_files_once_its_response_attributes_are_set(static_site, tmp_path):
    """``WhiteNoiseMiddleware.__init__`` sets every attribute a file's
    response depends on, then calls ``add_files(root, prefix=None)`` for
    STATIC_ROOT (with ``prefix=static_prefix``) and for WHITENOISE_ROOT.

    Ours: ``servers/static_index.py`` ``SharedIndexWhiteNoiseMiddleware``
    overrides ``add_files`` and keys the index on those attributes
    (``response_settings()``). Checked against WhiteNoise 6.12.0."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    from django_zipserve.servers.static_index import SharedIndexWhiteNoiseMiddleware

    assert list(inspect.signature(WhiteNoiseMiddleware.add_files).parameters) == ["self", "root", "prefix"]
    assert inspect.signature(WhiteNoiseMiddleware.add_files).parameters["prefix"].default is None
    calls = []

    class Recording(WhiteNoiseMiddleware):
        def add_files(self, root, prefix=None):
            # What the shared index reads, readable already.
            settings = SharedIndexWhiteNoiseMiddleware.response_settings(self)
            calls.append((os.path.normpath(root), prefix, settings is not None, self.autorefresh))
            super().add_files(root, prefix)

    other_root = tmp_path / "root"
    other_root.mkdir()
    with override_settings(WHITENOISE_ROOT=str(other_root)):
        Recording(get_response=lambda request: None)
    assert calls == [
        (os.path.normpath(static_site), "/static/", True, False),
        (os.path.normpath(other_root), None, True, False),
    ]


def test_add_files_only_adds_entries_to_files(static_site):
    """``WhiteNoise.add_files()`` adds its entries to the dict that is
    ``self.files`` when it is called, through ``add_file_to_dictionary``,
    and changes no other attribute.

    Ours: ``servers/static_index.py`` ``index_of()`` gives it an empty
    ``files`` to learn one directory's entries alone. Checked against
    WhiteNoise 6.12.0."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    middleware = whitenoise_middleware()
    before = {name: value for name, value in vars(middleware).items() if name != "files"}
    fresh = middleware.files = {}
    WhiteNoiseMiddleware.add_files(middleware, str(static_site), prefix="/elsewhere/")
    assert middleware.files is fresh
    assert set(fresh) == {"/elsewhere/css/site.css"}
    after = {name: value for name, value in vars(middleware).items() if name != "files"}
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before), "only files changed"


def test_every_whitenoise_setting_is_in_the_shared_index_key_or_said_not_to_shape_answers(static_site):
    """The ``WHITENOISE_*`` settings ``WhiteNoiseMiddleware`` reads, and the
    attributes it resolves them into. A setting WhiteNoise adds could shape
    a file's answer: the shared index must then be keyed on it.

    Ours: ``servers/static_index.py`` ``response_settings()`` and
    ``index_key()``. Checked against WhiteNoise 6.12.0."""
    import whitenoise.middleware

    from django_zipserve.servers.static_index import SharedIndexWhiteNoiseMiddleware

    in_the_key = {
        "WHITENOISE_MAX_AGE": "max_age",
        "WHITENOISE_ALLOW_ALL_ORIGINS": "allow_all_origins",
        "WHITENOISE_CHARSET": "charset",
        "WHITENOISE_MIMETYPES": "media_types",  # its types_map
        "WHITENOISE_ADD_HEADERS_FUNCTION": "add_headers_function",
        "WHITENOISE_INDEX_FILE": "index_file",
        "WHITENOISE_IMMUTABLE_FILE_TEST": "immutable_file_test",  # the setting itself
        "WHITENOISE_STATIC_PREFIX": "static_prefix",
    }
    not_shaping = {
        "WHITENOISE_AUTOREFRESH",  # nothing is shared while it is on
        "WHITENOISE_USE_FINDERS",  # found files are added after the shared ones
        "WHITENOISE_ROOT",  # a directory: its own key
    }
    read = set(re.findall(r"WHITENOISE_[A-Z_]+", inspect.getsource(whitenoise.middleware)))
    assert read == in_the_key.keys() | not_shaping
    middleware = SharedIndexWhiteNoiseMiddleware(get_response=lambda request: None)
    assert all(hasattr(middleware, attribute) for attribute in in_the_key.values())
    assert isinstance(middleware.media_types.types_map, dict)


def test_the_default_immutable_file_test_asks_the_static_files_storage(static_site):
    """``WhiteNoiseMiddleware.immutable_file_test(path, url)`` takes a file
    for immutable when ``get_static_url()`` (``staticfiles_storage.url``)
    maps its name without the hash back to its URL.

    Ours: ``servers/static_index.py`` ``response_settings()`` keys the
    shared index on STATIC_URL and ``STORAGES["staticfiles"]`` for it.
    Checked against WhiteNoise 6.12.0."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from whitenoise.middleware import WhiteNoiseMiddleware

    middleware = whitenoise_middleware()
    assert middleware.get_static_url("css/site.css") == staticfiles_storage.url("css/site.css")
    hashed = "/static/css/site.3f2a1c9e8d7b.css"
    assert not middleware.immutable_file_test("", hashed), "no manifest: plain names"

    class Hashing(WhiteNoiseMiddleware):
        def get_static_url(self, name):
            return hashed if name == "css/site.css" else None

    assert Hashing(get_response=lambda request: None).immutable_file_test("", hashed)


class RecordingStorage:
    """Mixed into a storage class: notes url_converter's matches and what
    each converter raised, and when the manifest is saved."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events = []

    def url_converter(self, name, hashed_files, *args, **kwargs):
        convert = super().url_converter(name, hashed_files, *args, **kwargs)

        def converter(matchobj):
            groups = matchobj.groupdict()
            try:
                converted = convert(matchobj)
            except ValueError:
                self.events.append(("ValueError", groups.get("url"), groups.get("matched")))
                raise
            self.events.append(("converted", groups.get("url"), groups.get("matched")))
            return converted

        return converter

    def save_manifest(self):
        self.events.append(("save_manifest", bool(self.hashed_files), None))
        super().save_manifest()


def post_processed(location, css):
    from whitenoise.storage import CompressedManifestStaticFilesStorage

    class Storage(RecordingStorage, CompressedManifestStaticFilesStorage):
        pass

    (location / "img").mkdir(parents=True)
    (location / "img" / "dot.png").write_bytes(b"\x89PNG")
    (location / "css").mkdir()
    (location / "css" / "site.css").write_text(css)
    storage = Storage(location=str(location), base_url="/static/")
    names = ["css/site.css", "img/dot.png"]
    results = list(storage.post_process({name: (storage, name) for name in names}))
    return storage, results


def test_manifest_storage_converts_through_url_converter_then_saves_through_save_manifest(
    django_project, tmp_path
):
    """WhiteNoise's ``CompressedManifestStaticFilesStorage.post_process``
    runs Django's, which converts each reference through
    ``url_converter(name, hashed_files, ...)`` (a match with the groups
    ``url`` and ``matched``) and then writes the manifest through
    ``save_manifest()``, with ``hashed_files`` filled; not on a dry run.

    Ours: ``storage.py`` ``ZipserveStaticFilesStorage`` reports the missing
    references in ``save_manifest()``, before the manifest is written.
    Checked against WhiteNoise 6.12.0 and Django 5.2."""
    storage, results = post_processed(tmp_path / "collected", 'a { background: url("../img/dot.png") }\n')
    assert not [result for result in results if isinstance(result[2], Exception)]
    assert storage.events[0] == ("converted", "../img/dot.png", 'url("../img/dot.png")')
    assert storage.events[-1] == ("save_manifest", True, None)
    assert storage.exists(storage.manifest_name)


def test_djangos_url_converter_raises_value_error_for_a_missing_file(django_project, tmp_path):
    """The converter Django's ``url_converter()`` returns raises ValueError
    for a reference to a file that is not among the static files, and
    post-processing goes on to save the manifest.

    Ours: ``storage.py`` ``ZipserveStaticFilesStorage.url_converter()``
    catches that ValueError and reads the match's ``url`` and ``matched``
    groups. Checked against WhiteNoise 6.12.0 and Django 5.2."""
    storage, results = post_processed(tmp_path / "collected", 'a { background: url("../img/gone.png") }\n')
    assert ("ValueError", "../img/gone.png", 'url("../img/gone.png")') in storage.events
    assert any(isinstance(result[2], ValueError) for result in results)


# -- gunicorn ------------------------------------------------------------------


@pytest.fixture
def gunicorn_context(monkeypatch, tmp_path):
    """gunicorn loading a configuration from ``tmp_path``: no
    ./gunicorn.conf.py, no GUNICORN_CMD_ARGS, no arguments in ``sys.argv``;
    ``sys.argv`` and ``sys.path`` restored afterwards
    (``Application.chdir()`` adds its directory)."""
    from gunicorn import config as gunicorn_config

    monkeypatch.setattr(gunicorn_config.Chdir, "default", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    monkeypatch.setattr(sys, "argv", ["manage.py"])
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("SERVER_SOFTWARE", "")  # the arbiter sets it


def probe_application(defaults=None):
    """A minimal ``gunicorn.app.base.Application``: what its ``init()`` saw."""
    from gunicorn.app.base import Application

    class Probe(Application):
        def init(self, parser, opts, args):
            self.init_args = args
            return dict(defaults or {})

        def load(self):
            return None

    return Probe("%(prog)s [OPTIONS]", prog="probe")


def test_gunicorn_load_config_parses_sys_argv(gunicorn_context):
    """``Application.load_config()`` parses ``sys.argv[1:]``
    (``parser.parse_args()`` with no arguments: gunicorn takes no argument
    list), and hands the positional arguments to ``init(parser, opts, args)``.

    Ours: ``servers/gunicorn.py`` ``DjangoApplication.load_config()`` puts
    our argument list in ``sys.argv`` around it. Checked against gunicorn
    23.0.0, 24.1.1, 25.0.0, 26.0.0 and 27.0.1."""
    sys.argv = ["manage.py", "--workers", "3", "some.module:app"]
    application = probe_application()
    assert application.cfg.workers == 3
    assert application.init_args == ["some.module:app"]


def test_gunicorn_applies_what_init_returns_below_the_command_line_and_the_environment(
    gunicorn_context, monkeypatch
):
    """The settings ``Application.init()`` returns are applied first, so
    that GUNICORN_CMD_ARGS and the command line (and a config file) win.

    Ours: ``servers/gunicorn.py`` ``DjangoApplication.init()`` returns our
    production defaults. Checked against gunicorn 23.0.0 to 27.0.1."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 60")
    sys.argv = ["manage.py", "--workers", "3"]
    cfg = probe_application({"workers": 9, "timeout": 17, "max_requests": 5000}).cfg
    assert (cfg.workers, cfg.timeout, cfg.max_requests) == (3, 60, 5000)


def test_gunicorn_arbiter_copies_sys_argv_for_usr2(gunicorn_context):
    """``Arbiter(app)`` copies ``sys.argv`` into ``START_CTX["args"]``, the
    command line USR2 re-executes.

    Ours: ``servers/gunicorn.py`` ``DjangoApplication.load_config()`` gives
    ``sys.argv`` back to the operator's list before ``run()`` creates the
    arbiter. Checked against gunicorn 23.0.0 to 27.0.1."""
    from gunicorn.arbiter import Arbiter

    sys.argv = ["project.pyz", "gunicorn", "--bind", "127.0.0.1:1"]
    arbiter = Arbiter(probe_application())
    assert arbiter.START_CTX["args"] == [sys.executable, *sys.argv]


def test_gunicorn_arbiter_looks_its_signal_handlers_up_on_itself(gunicorn_context):
    """The arbiter's main loop calls ``getattr(self, "handle_" + name)`` for
    each signal (``SIG_NAMES``), so an attribute of the arbiter replaces a
    handler; ``Arbiter.handle_int`` stops at once (``stop(False)``),
    ``Arbiter.handle_term`` leaves the stop to ``halt()``, gracefully.

    Ours: ``servers/gunicorn.py`` ``stop_gracefully_on_sigint()`` (the
    ``on_starting`` hook) sets ``arbiter.handle_int = arbiter.handle_term``.
    Checked against gunicorn 23.0.0 to 27.0.1."""
    from gunicorn.arbiter import Arbiter

    from django_zipserve.servers.gunicorn import stop_gracefully_on_sigint

    assert re.search(r"getattr\(self,\s*[\"']handle_%s[\"']\s*%\s*signame", inspect.getsource(Arbiter.run))
    assert Arbiter.SIG_NAMES[signal.SIGINT] == "int" and Arbiter.SIG_NAMES[signal.SIGTERM] == "term"
    arbiter = Arbiter(probe_application())
    with mock.patch.object(arbiter, "stop") as stop:
        with pytest.raises(StopIteration):
            arbiter.handle_int()
        stop.assert_called_once_with(False)
        stop.reset_mock()
        stop_gracefully_on_sigint(arbiter)
        with pytest.raises(StopIteration):
            getattr(arbiter, "handle_" + Arbiter.SIG_NAMES[signal.SIGINT])()
        stop.assert_not_called()


def test_gunicorn_wsgi_application_keeps_app_uri_and_paste(gunicorn_context):
    """``WSGIApplication`` keeps the application to load in ``app_uri``: the
    positional APP_MODULE, else the ``wsgi_app`` setting (after
    ``load_config()``); ``cfg.paste`` is None unless ``--paste``.

    Ours: ``servers/gunicorn.py`` ``DjangoApplication.load()`` serves the
    loaded application when ``app_uri`` is still ours. Checked against
    gunicorn 23.0.0 to 27.0.1."""
    from gunicorn.app.wsgiapp import WSGIApplication

    class Ours(WSGIApplication):
        def init(self, parser, opts, args):
            super().init(parser, opts, args)
            return {"wsgi_app": "ours.wsgi:application"}

    sys.argv = ["manage.py"]
    application = Ours("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn")
    assert application.app_uri == "ours.wsgi:application"
    assert application.cfg.paste is None
    sys.argv = ["manage.py", "theirs.wsgi:application"]
    assert Ours("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").app_uri == "theirs.wsgi:application"


def test_gunicorn_has_every_setting_we_set(gunicorn_context):
    """The gunicorn settings our defaults and hooks set, by name: gunicorn
    refuses to start on a name it does not know.

    Ours: ``servers/gunicorn.py`` ``DEFAULTS``, ``control_socket_settings()``,
    ``DjangoApplication.init()``, ``keep_graceful_sigint()``. Checked against
    gunicorn 27.0.1 (``control_socket`` and ``control_socket_disable`` exist
    since 26.0.0)."""
    from gunicorn.config import Config

    from django_zipserve.servers import gunicorn

    config = Config()
    ours = {default.setting for default in gunicorn.DEFAULTS if default.setting}
    ours |= {"wsgi_app", "on_starting", "worker_class", "paste"}
    ours |= {"control_socket", "control_socket_disable"}
    assert ours - set(config.settings) == set()
    config.set("on_starting", gunicorn.stop_gracefully_on_sigint)  # a hook of one argument
    config.set("on_starting", gunicorn.also_run_operators_hook(lambda arbiter: None))


def test_gunicorn_has_the_option_our_help_shows_for_each_default():
    """The command-line option ``manage.py gunicorn --help`` shows for each
    default is gunicorn's for that setting.

    Ours: ``servers/gunicorn.py`` ``DEFAULTS`` (``Default.option``).
    Checked against gunicorn 27.0.1."""
    from gunicorn.config import Config

    from django_zipserve.servers import gunicorn

    settings = Config().settings
    wrong = {
        default.option: settings[default.setting].cli
        for default in gunicorn.DEFAULTS
        if default.setting and default.option not in (settings[default.setting].cli or ())
    }
    assert wrong == {}


def test_gunicorn_lists_its_asgi_worker_in_supported_workers():
    """``gunicorn.workers.SUPPORTED_WORKERS`` (a dict of worker name ->
    class path) has ``asgi`` from gunicorn 24 on.

    Ours: ``servers/gunicorn.py`` ``asgi_refusal()``. Checked against
    gunicorn 23.0.0 (without) and 24.1.1 to 27.0.1 (with)."""
    import gunicorn
    from gunicorn.workers import SUPPORTED_WORKERS

    from django_zipserve.servers.gunicorn import asgi_refusal

    assert isinstance(SUPPORTED_WORKERS, dict) and "sync" in SUPPORTED_WORKERS
    if int(gunicorn.__version__.split(".")[0]) >= 24:
        assert "asgi" in SUPPORTED_WORKERS
        assert asgi_refusal() == ""


# -- pyuwsgi -------------------------------------------------------------------

UWSGI_TIMEOUT = 60
#: uWSGI's SSL options: in our lists for a uWSGI built with OpenSSL, absent
#: from pyuwsgi's build.
UWSGI_SSL_OPTIONS = {"https", "https-socket", "ssl-socket"}


def run_pyuwsgi(args, cwd, pythonpath=()):
    """``pyuwsgi.run(args)`` in a process of its own; its output."""
    code = f"import pyuwsgi; pyuwsgi.run({list(args)!r})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), str(REPO)])}
    for name in [name for name in env if name.startswith("UWSGI_")]:
        del env[name]
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=UWSGI_TIMEOUT,
        start_new_session=True,
    )
    return result.stdout + result.stderr


def uwsgi_options(help_text):
    """uWSGI's ``--help``: each long option, and each one-letter option with
    the long options it stands for."""
    long_options, letters = set(), {}
    for letter, name in re.findall(r"^\s+(?:-(\w)\|)?--([\w-]+)", help_text, re.MULTILINE):
        long_options.add(name)
        if letter:
            letters.setdefault(letter, set()).add(name)
    return long_options, letters


def test_pyuwsgi_run_takes_an_argument_list_and_uwsgi_knows_our_option_names(tmp_path):
    """``pyuwsgi.run(args)`` runs uWSGI on an argument list (``--help``
    prints its options); every option name and alias we read from an
    operator's command line, config file or environment is uWSGI's.

    Ours: ``servers/uwsgi.py`` ``run()``, ``show_help()``, ``ALIASES``,
    ``SOCKET_OPTIONS``, ``APP_OPTIONS``, ``CONFIG_FILE_OPTIONS`` and the
    ``replaced_by`` of ``DEFAULTS``. Checked against pyuwsgi 2.0.30.post1."""
    from django_zipserve.servers import uwsgi

    long_options, letters = uwsgi_options(run_pyuwsgi(["--help"], tmp_path))
    assert len(long_options) > 500, "uWSGI's --help"
    for alias, name in uwsgi.ALIASES.items():
        assert name in long_options, name
        if len(alias) == 1:
            assert {uwsgi.canonical(option) for option in letters.get(alias, ())} == {name}, alias
        else:
            assert alias in long_options, alias
    named = uwsgi.SOCKET_OPTIONS | uwsgi.APP_OPTIONS | uwsgi.CONFIG_FILE_OPTIONS
    named |= {name for default in uwsgi.DEFAULTS for name in default.replaced_by}
    assert named - UWSGI_SSL_OPTIONS - long_options == set()


UWSGI_PROBE = """
import json
import os

import uwsgi
from uwsgidecorators import postfork

print("PROBE " + json.dumps({
    "worker_id": uwsgi.worker_id(),
    "mule_id": uwsgi.mule_id(),
    "postfork": callable(postfork),
    "options": sorted(key.decode() if isinstance(key, bytes) else key for key in uwsgi.opt),
}), flush=True)
os._exit(0)
"""


def test_uwsgi_takes_every_default_strictly_and_offers_its_python_api_in_the_master(tmp_path):
    """uWSGI under ``--strict`` accepts every option of our defaults, and a
    module it imports in the master (``--import``) finds ``uwsgi.worker_id()``
    and ``uwsgi.mule_id()`` (0 in the master) and ``uwsgidecorators.postfork``.

    Ours: ``servers/uwsgi.py`` ``DEFAULTS`` (``build_args()``) and
    ``servers/uwsgi_titles.py``. Checked against pyuwsgi 2.0.30.post1."""
    from django_zipserve.servers import uwsgi

    conf = types.SimpleNamespace(
        ZIPSERVE_BIND="127.0.0.1:0",
        ZIPSERVE_WORKERS=1,
        ZIPSERVE_THREADS=1,
        ZIPSERVE_TIMEOUT=5,
        ZIPSERVE_NAME="probe",
        WSGI_APPLICATION="probe_project.wsgi.application",
    )
    # The probe is imported first and ends uWSGI before it serves.
    args = ["--import", "uwsgi_probe"]
    for default in uwsgi.defaults(conf):
        args += default.arguments(conf, {})
    (tmp_path / "uwsgi_probe.py").write_text(textwrap.dedent(UWSGI_PROBE))
    output = run_pyuwsgi(args, tmp_path, pythonpath=[tmp_path])
    found = re.search(r"^PROBE (.*)$", output, re.MULTILINE)
    assert found, output[-3000:]
    probe = json.loads(found.group(1))
    assert probe["worker_id"] == 0 and probe["mule_id"] == 0 and probe["postfork"]
    assert {default.name for default in uwsgi.DEFAULTS} <= set(probe["options"])


def test_uwsgi_still_names_its_bookkeeping_variables_and_our_hook_actions():
    """uWSGI's own environment variables, which are not options, and the
    hook actions our defaults name, as the strings of pyuwsgi's binary
    (uWSGI resolves hook actions only when the hook runs).

    Ours: ``servers/uwsgi.py`` ``INTERNAL_ENV`` (``options_in_environ()``)
    and the ``--hook-master-start`` defaults. Checked against pyuwsgi
    2.0.30.post1."""
    from django_zipserve.servers import uwsgi

    binary = Path(importlib.util.find_spec("pyuwsgi").origin).read_bytes()
    hooks = [default.value for default in uwsgi.DEFAULTS if default.option == "--hook-master-start"]
    assert hooks, "our graceful stop hooks"
    words = {word for hook in hooks for word in re.split(r"[ :]", hook) if not word.isdigit()}
    assert words == {"unix_signal", "gracefully_kill_them_all"}
    for name in sorted(uwsgi.INTERNAL_ENV | words):
        assert name.encode() in binary, name


# -- goodconf and the configuration's other libraries --------------------------


def test_goodconf_initial_for_field_gives_the_initial_factorys_value_else_the_default():
    """``goodconf.initial_for_field(name, field)`` (not in goodconf's
    ``__all__``): the value of ``Field(initial=...)``'s factory, else the
    field's default.

    Ours: ``conf/documents.py`` ``initial_values()`` (the starting files:
    a fresh SECRET_KEY). Checked against goodconf 7.1.0."""
    from goodconf import Field, GoodConf, initial_for_field

    class Probe(GoodConf):
        SECRET: str = Field(initial=lambda: "fresh")
        COUNT: int = Field(default=3)
        MAYBE: str | None = None

    fields = Probe.model_fields
    assert initial_for_field("SECRET", fields["SECRET"]) == "fresh"
    assert initial_for_field("COUNT", fields["COUNT"]) == 3
    assert initial_for_field("MAYBE", fields["MAYBE"]) is None


def test_goodconf_init_with_load_validates_the_values_given(monkeypatch):
    """``GoodConf(load=True, **values)`` validates ``values`` through
    pydantic-settings' sources (ours: the values alone), and
    ``GoodConf()`` validates nothing.

    Ours: ``conf/config.py`` ``ZipserveConfig.__init__()`` and
    ``settings_customise_sources()``. Checked against goodconf 7.1.0."""
    from goodconf import GoodConf
    from pydantic import ValidationError

    class Probe(GoodConf):
        COUNT: int

        @classmethod
        def settings_customise_sources(
            cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        ):
            return (init_settings,)

    monkeypatch.setenv("COUNT", "7")
    assert Probe(load=True, COUNT="5").COUNT == 5
    with pytest.raises(ValidationError):
        Probe(load=True)
    Probe()  # nothing validated, nothing read


def test_ruamel_reports_a_duplicate_key_as_duplicate_key_error():
    """``ruamel.yaml.constructor.DuplicateKeyError`` is what the safe, pure
    loader raises for a repeated key, a ``MarkedYAMLError`` with the line.

    Ours: ``conf/sources.py`` ``_parse_yaml()`` (a message that quotes no
    value). Checked against ruamel.yaml 0.19.1."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    with pytest.raises(DuplicateKeyError) as raised:
        YAML(typ="safe", pure=True).load("SECRET_KEY: one\nSECRET_KEY: two\n")
    assert isinstance(raised.value, MarkedYAMLError)
    assert raised.value.problem_mark.line == 1


def test_dj_database_url_names_its_schemes_and_refuses_others():
    """``dj_database_url.ENGINE_SCHEMES`` (the schemes it knows) and
    ``UnknownSchemeError``.

    Ours: ``conf/django_settings.py`` ``database_problem()``. Checked
    against dj-database-url 3.1.2."""
    import dj_database_url

    assert {"postgres", "sqlite", "mysql"} <= set(dj_database_url.ENGINE_SCHEMES)
    with pytest.raises(dj_database_url.UnknownSchemeError):
        dj_database_url.parse("nosuchdb://host/name")


# -- Django's undocumented API -------------------------------------------------


def test_django_get_internal_wsgi_application_loads_wsgi_application(static_site):
    """``django.core.servers.basehttp.get_internal_wsgi_application()``
    (runserver's): the WSGI_APPLICATION object, or ImproperlyConfigured
    with the import error as its cause.

    Ours: ``management/server_command.py`` ``load_application()``.
    Checked against Django 5.2."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.servers.basehttp import get_internal_wsgi_application

    from tests.testproject import wsgi

    assert get_internal_wsgi_application() is wsgi.application
    missing = override_settings(WSGI_APPLICATION="tests.no_such_module.application")
    with missing, pytest.raises(ImproperlyConfigured) as raised:
        get_internal_wsgi_application()
    assert isinstance(raised.value.__cause__, ImportError)


def test_django_adds_base_options_through_add_base_argument(django_project):
    """``BaseCommand.create_parser(prog_name, subcommand, **kwargs)`` passes
    ``kwargs`` to ``CommandParser`` (``called_from_command_line`` kept as an
    attribute) and adds the base options through ``add_base_argument()``.

    Ours: ``management/server_command.py`` ``ServerCommand.create_parser()``
    and ``add_base_argument()``. Checked against Django 5.2."""
    from django.core.management.base import BaseCommand, CommandParser

    added = []

    class Command(BaseCommand):
        def add_base_argument(self, parser, *args, **kwargs):
            added.extend(args)
            super().add_base_argument(parser, *args, **kwargs)

    parser = Command().create_parser("manage.py", "probe", add_help=False)
    assert isinstance(parser, CommandParser)
    assert not parser.called_from_command_line  # not run from the command line
    assert {"--settings", "--pythonpath", "--traceback"} <= set(added)
    assert parser.add_help is False
    CommandParser(called_from_command_line=True, add_help=False, allow_abbrev=False)


def test_django_handle_default_options_applies_settings_and_pythonpath(monkeypatch, tmp_path):
    """``django.core.management.base.handle_default_options(options)``:
    ``--settings`` into DJANGO_SETTINGS_MODULE, ``--pythonpath`` onto
    ``sys.path``.

    Ours: ``entrypoint.py`` ``run_own_test_command()``. Checked against
    Django 5.2."""
    from django.core.management.base import handle_default_options

    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "before")
    handle_default_options(types.SimpleNamespace(settings="probe.settings", pythonpath=str(tmp_path)))
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "probe.settings"
    assert sys.path[0] == str(tmp_path)


def test_django_finds_and_loads_commands_by_name(django_project):
    """``django.core.management.get_commands()`` (name -> app name, or a
    command instance) and ``load_command_class(app_name, name)``.

    Ours: ``management/commands/run.py`` ``load_command()``. Checked
    against Django 5.2."""
    from django.core.management import BaseCommand, get_commands, load_command_class

    commands = get_commands()
    assert commands["check"] == "django.core"
    assert isinstance(load_command_class(commands["pyuwsgi"], "pyuwsgi"), BaseCommand)


def test_django_url_resolvers_expose_their_patterns(django_project):
    """``URLResolver.url_patterns`` and ``.pattern``, ``URLPattern.pattern``
    and ``.callback``, each pattern's ``regex``, and ``RegexPattern`` for
    ``re_path()``.

    Ours: ``media.py`` ``url_endpoints()`` and ``level_alternatives()``.
    Checked against Django 5.2."""
    from django.urls import include, path, re_path
    from django.urls.resolvers import RegexPattern, RoutePattern, URLPattern, URLResolver

    def view(request):
        return None

    inner = types.SimpleNamespace(urlpatterns=[path("<path:name>", view), re_path(r"^old/(.*)$", view)])
    resolver = URLResolver(
        RegexPattern(r"^/"), types.SimpleNamespace(urlpatterns=[path("media/", include(inner))])
    )
    (included,) = resolver.url_patterns
    assert isinstance(included, URLResolver) and isinstance(included.pattern, RoutePattern)
    assert included.pattern.regex.pattern == "^media/"
    first, second = included.url_patterns
    assert isinstance(first, URLPattern) and first.callback is view
    assert isinstance(second.pattern, RegexPattern) and second.pattern.regex.pattern == r"^old/(.*)$"


def test_djangos_test_command_names_its_runner_options(django_project):
    """Django's ``test`` command: the ``testrunner`` option (a dotted path
    to a runner class) and the runner's ``top_level``.

    Ours: ``management/commands/test.py`` ``Command.handle()``. Checked
    against Django 5.2."""
    from django.core.management.commands import test

    options = test.Command().create_parser("manage.py", "test").parse_args([])
    assert options.testrunner is None
    assert "top_level" in vars(options)
