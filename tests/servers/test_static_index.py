"""WhiteNoise's file index, built once per process
(``django_zipserve.servers.static_index``): a second test ``Client`` does not walk
STATIC_ROOT again, and a changed setting gets an index of its own whose
answers are those of WhiteNoise's own middleware.

Walks are observed as they happen: Python's audit hook reports every
``os.scandir`` with its path (WhiteNoise lists a directory with nothing
else)."""

import gzip
import os
import sys
import threading

import pytest
from django.test import Client, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

from django_zipserve.servers.static_index import SharedIndexWhiteNoiseMiddleware

CSS = b"body { color: #123456; }\n" * 40
APP_CSS = "/static/site/app.css"


class Scans:
    """The directories ``os.scandir`` lists while :meth:`recording`, in
    this thread. An audit hook cannot be removed: one is added for the
    process and records only when asked."""

    installed = None

    def __init__(self):
        self.local = threading.local()

    @classmethod
    def observer(cls):
        if cls.installed is None:
            cls.installed = cls()
            sys.addaudithook(cls.installed.hook)
        return cls.installed

    def hook(self, event, args):
        found = getattr(self.local, "found", None)
        if found is not None and event == "os.scandir" and isinstance(args[0], (str, bytes)):
            found.append(os.path.normpath(os.fsdecode(args[0])))

    def recording(self, action):
        """The directories listed while ``action()`` runs."""
        self.local.found = []
        try:
            action()
            return self.local.found
        finally:
            self.local.found = None


@pytest.fixture
def static_root(tmp_path):
    root = tmp_path / "static"
    (root / "site").mkdir(parents=True)
    for name in ("app.css", "app.3f2a1c9e8d7b.css"):
        (root / "site" / name).write_bytes(CSS)
        (root / "site" / f"{name}.gz").write_bytes(gzip.compress(CSS, mtime=0))
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<p>docs</p>")
    return root


@pytest.fixture
def site(django_project, static_root):
    """The test project serving ``static_root`` at /static/, as in production."""
    with override_settings(DEBUG=False, STATIC_ROOT=str(static_root), STATIC_URL="/static/"):
        yield


def below(root, directories):
    return [directory for directory in directories if directory.startswith(str(root))]


def get_static(path=APP_CSS):
    response = Client().get(path, HTTP_ACCEPT_ENCODING="gzip")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response, body


def middleware(cls=SharedIndexWhiteNoiseMiddleware):
    return cls(get_response=lambda request: None)


def answers(files):
    """Every URL of a file index with the headers of its answer (each file's
    compressed variant too)."""
    found = {}
    for url, entry in files.items():
        for encoding in ("", "gzip"):
            response = entry.get_response("GET", {"HTTP_ACCEPT_ENCODING": encoding})
            if response.file is not None:
                response.file.close()
            found[url, encoding] = (response.status, sorted(response.headers))
    return found


def test_the_project_uses_the_shared_index(django_project):
    assert "django_zipserve.servers.static_index.SharedIndexWhiteNoiseMiddleware" in django_project.MIDDLEWARE
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in django_project.MIDDLEWARE


def test_a_second_client_does_not_walk_static_root_again(site, static_root):
    scans = Scans.observer()
    first = scans.recording(get_static)
    assert sorted(below(static_root, first)) == sorted(
        str(path) for path in (static_root, static_root / "site", static_root / "docs")
    )
    answered = []
    second = scans.recording(lambda: answered.append(get_static()))
    assert below(static_root, second) == []
    response, body = answered[0]
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == CSS


def test_middleware_built_under_the_same_settings_share_the_same_entries(site):
    first, second = middleware(), middleware()
    assert first.files is not second.files
    assert first.files.keys() == second.files.keys()
    assert all(second.files[url] is entry for url, entry in first.files.items())
    assert answers(second.files) == answers(middleware(WhiteNoiseMiddleware).files)


def add_test_header(headers, path, url):
    headers["X-Static-Test"] = url


@pytest.mark.parametrize(
    "overrides",
    [
        {"WHITENOISE_MAX_AGE": 123},
        {"WHITENOISE_ALLOW_ALL_ORIGINS": False},
        {"WHITENOISE_CHARSET": "latin-1"},
        {"WHITENOISE_MIMETYPES": {".css": "text/x-test"}},
        {"WHITENOISE_ADD_HEADERS_FUNCTION": add_test_header},
        {"WHITENOISE_INDEX_FILE": True},
        {"WHITENOISE_IMMUTABLE_FILE_TEST": r"\.[0-9a-f]{12}\."},
        {"WHITENOISE_STATIC_PREFIX": "/assets/"},
        {"STATIC_URL": "/assets/"},
    ],
    ids=lambda overrides: next(iter(overrides)),
)
def test_a_changed_setting_gets_a_fresh_index_with_whitenoises_answers(site, overrides):
    shared = middleware()
    with override_settings(**overrides):
        changed = middleware()
        own = middleware(WhiteNoiseMiddleware)
    assert not set(map(id, changed.files.values())) & set(map(id, shared.files.values()))
    assert answers(changed.files) == answers(own.files)
    assert answers(changed.files) != answers(shared.files)


def test_a_client_under_override_settings_answers_with_the_changed_setting(site):
    before, _ = get_static()
    with override_settings(WHITENOISE_MAX_AGE=123):
        changed, _ = get_static()
    after, _ = get_static()
    assert before["Cache-Control"] == after["Cache-Control"] == "max-age=60, public"
    assert changed["Cache-Control"] == "max-age=123, public"


def test_another_static_root_gets_its_own_index(site, tmp_path):
    other = tmp_path / "other"
    (other / "site").mkdir(parents=True)
    (other / "site" / "app.css").write_bytes(b"p {}\n")
    middleware()
    with override_settings(STATIC_ROOT=str(other)):
        response, body = get_static()
    assert (response.status_code, body) == (200, b"p {}\n")


def test_a_file_added_to_static_root_gets_a_fresh_index(site, static_root):
    # What collectstatic does: it writes the manifest at the top of STATIC_ROOT.
    assert "/static/staticfiles.json" not in middleware().files
    (static_root / "staticfiles.json").write_text("{}")
    assert "/static/staticfiles.json" in middleware().files


@pytest.mark.parametrize(
    "overrides",
    [{"DEBUG": True, "WHITENOISE_AUTOREFRESH": False}, {"WHITENOISE_AUTOREFRESH": True}],
    ids=["DEBUG", "WHITENOISE_AUTOREFRESH"],
)
def test_nothing_is_shared_while_whitenoise_may_look_for_files(site, static_root, overrides):
    scans = Scans.observer()
    with override_settings(**overrides):
        first, second = middleware(), middleware()
        assert not set(map(id, first.files.values())) & set(map(id, second.files.values()))
        (static_root / "site" / "new.css").write_text("p {}\n")
        if overrides["WHITENOISE_AUTOREFRESH"]:
            response, body = get_static("/static/site/new.css")
            assert (response.status_code, body) == (200, b"p {}\n")
        else:
            assert str(static_root / "site") in scans.recording(middleware)
