"""Uploads (media) served by ``django_zipserve.media.MediaMiddleware``: through
the test project with Django's test client, and through both real servers."""

import os
import socket
from email.utils import formatdate
from types import SimpleNamespace

import django
import pytest
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.files.storage import FileSystemStorage
from django.test import Client, override_settings
from django.urls import clear_url_caches, include, path, re_path

from django_zipserve import media
from django_zipserve.conf import django_settings as ds
from tests.helpers import SERVERS, bind_args, free_port, project_command, raw_get, wait_for_http

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # 1032 bytes; only the name and the bytes matter
SECRET = b"SECRET-OUTSIDE-MEDIA-ROOT"
SAFETY = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


@pytest.fixture
def uploads(django_project, tmp_path):
    """A media root with a few uploads, a secret file beside it and a
    directory outside it: the test project serving them at /media/."""
    root = tmp_path / "media"
    (root / "photos").mkdir(parents=True)
    (root / "photos" / "cat.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(SECRET)
    with override_settings(MEDIA_ROOT=str(root)):
        yield root


def client():
    """A new client loads the middleware again, under the settings of the moment."""
    return Client(HTTP_HOST="localhost")


def get(path, **headers):
    """The response, its body read (``.body``) and the file closed, as a server would."""
    return read(client().get(path, headers=headers))


def read(response):
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response


def assert_safe(response):
    for header, value in SAFETY.items():
        assert response[header] == value, header


# -- where it sits and when it is on ------------------------------------------


def test_the_contract_puts_it_right_after_whitenoise(django_project):
    middleware = list(settings.MIDDLEWARE)
    assert middleware.index(ds.MEDIA_MIDDLEWARE) == middleware.index(ds.WHITENOISE_MIDDLEWARE) + 1
    assert settings.MEDIA_URL == "/media/"


@pytest.mark.parametrize(
    "given, expected",
    [
        (
            [ds.SECURITY_MIDDLEWARE, ds.WHITENOISE_MIDDLEWARE, "s"],
            [ds.SECURITY_MIDDLEWARE, ds.WHITENOISE_MIDDLEWARE, ds.MEDIA_MIDDLEWARE, "s"],
        ),
        (
            ["s", ds.MEDIA_MIDDLEWARE, ds.WHITENOISE_MIDDLEWARE],
            ["s", ds.WHITENOISE_MIDDLEWARE, ds.MEDIA_MIDDLEWARE],
        ),
        (
            [ds.SECURITY_MIDDLEWARE, ds.WHITENOISE_OWN_MIDDLEWARE, "s"],
            [ds.SECURITY_MIDDLEWARE, ds.WHITENOISE_OWN_MIDDLEWARE, ds.MEDIA_MIDDLEWARE, "s"],
        ),
        (["s"], [ds.MEDIA_MIDDLEWARE, "s"]),
    ],
)
def test_placed_once_right_after_whitenoise(given, expected):
    assert ds.with_media_middleware(given) == expected


def test_a_projects_own_media_url_is_kept(tmp_path):
    from tests.testproject.config import Config

    config = Config.from_sources(environ={"SECRET_KEY": "x" * 50, "STATE_DIR": str(tmp_path)})
    namespace = {"MEDIA_URL": "/uploads/"}
    ds.apply_config(config, namespace)
    assert namespace["MEDIA_URL"] == "/uploads/"
    namespace = {}
    ds.apply_config(config, namespace)
    assert namespace["MEDIA_URL"] == "media/"


REMOTE = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
STATIC = {"staticfiles": {"BACKEND": ds.STATIC_STORAGE}}


@pytest.mark.parametrize(
    "overrides",
    [
        {"STORAGES": {**REMOTE, **STATIC}},
        {"MEDIA_URL": "https://cdn.example/media/"},
        {"MEDIA_URL": "//cdn.example/media/"},
        {"MEDIA_URL": "/"},
        {"MEDIA_URL": ""},
    ],
    ids=["object-storage", "absolute-url", "scheme-relative-url", "site-root", "empty"],
)
def test_off_unless_the_default_storage_is_local_and_its_url_a_local_path(uploads, overrides):
    assert get("/media/photos/cat.png").status_code == 200
    with override_settings(**overrides):
        assert media.served_storage() is None
        response = get("/media/photos/cat.png")
    # The request went on to URL resolution: the test project has no such page.
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response


@pytest.mark.skipif(django.VERSION >= (5, 1), reason="DEFAULT_FILE_STORAGE is gone since Django 5.1")
def test_off_with_a_legacy_remote_default_file_storage(uploads):
    with override_settings(DEFAULT_FILE_STORAGE="django.core.files.storage.InMemoryStorage"):
        assert media.served_storage() is None
        assert get("/media/photos/cat.png").status_code == 404


class UploadsElsewhere(FileSystemStorage):
    """A project's own subclass, with a directory and a URL of its own."""

    directory = ""

    def __init__(self, **options):
        super().__init__(location=self.directory, base_url="/up/", **options)


def test_a_file_system_storage_subclass_with_its_own_directory_and_url(uploads, tmp_path, monkeypatch):
    monkeypatch.setattr(UploadsElsewhere, "directory", str(tmp_path / "other"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "dog.png").write_bytes(PNG)
    backend = {"BACKEND": f"{__name__}.UploadsElsewhere"}
    with override_settings(STORAGES={"default": backend, **STATIC}):
        assert isinstance(media.served_storage(), UploadsElsewhere)
        assert get("/up/dog.png").body == PNG
        assert get("/media/photos/cat.png").status_code == 404


def test_a_default_storage_that_cannot_be_imported_is_not_served(uploads):
    backend = {"BACKEND": "no_such_package.Storage"}
    with override_settings(STORAGES={"default": backend, **STATIC}):
        assert media.served_storage() is None


def test_answers_before_a_catch_all_url_pattern(uploads):
    with override_settings(ROOT_URLCONF="tests.testproject.urls_catch_all"):
        found = get("/media/photos/cat.png")
        missing = get("/media/photos/dog.png")
    assert found.status_code == 200 and found.body == PNG
    # Our own 404, not the catch-all page's.
    assert missing.status_code == 404 and missing["Content-Type"] == "text/plain"
    assert_safe(missing)


# -- the project's own access control wins ------------------------------------

PRIVATE_URLS = "tests.testproject.urls_private_media"  # media/<path:path> behind a login
PART_URLS = "tests.testproject.urls_private_part"  # media/private/<path:path> behind a login


def site_that_checks_users(urlconf):
    """The test project with the user from a session (kept in a signed
    cookie: no table) and the URLs ``urlconf``."""
    return override_settings(
        ROOT_URLCONF=urlconf,
        MIDDLEWARE=[
            *settings.MIDDLEWARE,
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    )


@pytest.fixture(scope="module")
def test_database(django_project):
    """Django's test database (users), made for these tests and removed after them."""
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(databases, verbosity=0)


@pytest.fixture
def reader(test_database):
    from django.contrib.auth.models import User

    return User.objects.get_or_create(username="reader")[0]


def assert_sent_to_login(response, path):
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"
    assert PNG not in response.body and b"%PDF" not in response.body
    assert "Content-Security-Policy" not in response  # nothing of ours answered


def test_uploads_the_projects_url_pattern_guards_are_not_served_to_anyone(uploads):
    with site_that_checks_users(PRIVATE_URLS):
        assert_sent_to_login(get("/media/photos/cat.png"), "/media/photos/cat.png")
        assert_sent_to_login(read(client().head("/media/photos/cat.png")), "/media/photos/cat.png")


def test_uploads_the_projects_url_pattern_guards_are_served_by_it_to_a_user(uploads, reader):
    with site_that_checks_users(PRIVATE_URLS):
        browser = client()
        browser.force_login(reader)
        response = read(browser.get("/media/photos/cat.png"))
    assert response.status_code == 200 and response.body == PNG
    # The project's view answered, not the middleware, whose answers are public.
    assert "Content-Security-Policy" not in response
    assert "public" not in response.get("Cache-Control", "")


def test_the_middleware_is_not_used_when_the_project_routes_its_uploads(uploads):
    with override_settings(ROOT_URLCONF=PRIVATE_URLS), pytest.raises(MiddlewareNotUsed):
        media.MediaMiddleware(lambda request: None)


def test_a_part_the_project_routes_is_its_own_and_the_rest_is_served(uploads, reader):
    (uploads / "private").mkdir()
    (uploads / "private" / "invoice.pdf").write_bytes(b"%PDF-1.4 private")
    with site_that_checks_users(PART_URLS):
        assert_sent_to_login(get("/media/private/invoice.pdf"), "/media/private/invoice.pdf")
        # Decoded before it is compared, as before it is resolved.
        assert_sent_to_login(get("/media/%70rivate/invoice.pdf"), "/media/private/invoice.pdf")
        public = get("/media/photos/cat.png")
        browser = client()
        browser.force_login(reader)
        private = read(browser.get("/media/private/invoice.pdf"))
    assert public.status_code == 200 and public.body == PNG
    assert_safe(public)
    assert private.status_code == 200 and private.body == b"%PDF-1.4 private"


def test_declared_private_uploads_are_not_served(uploads):
    with override_settings(ZIPSERVE_MEDIA_PRIVATE=True):
        with pytest.raises(MiddlewareNotUsed):
            media.MediaMiddleware(lambda request: None)
        response = get("/media/photos/cat.png")
    # The request went on to URL resolution: the test project has no such page.
    assert response.status_code == 404 and PNG not in response.body
    assert "Content-Security-Policy" not in response
    with override_settings(ZIPSERVE_MEDIA_PRIVATE=True), site_that_checks_users(PRIVATE_URLS):
        assert_sent_to_login(get("/media/photos/cat.png"), "/media/photos/cat.png")


def test_a_folder_an_applications_view_serves_is_never_served(uploads):
    """Wagtail's documents/: its own view enforces private collections, so a
    direct link to the file must not get around it."""
    (uploads / "documents").mkdir()
    (uploads / "documents" / "board-minutes.pdf").write_bytes(SECRET)
    assert get("/media/documents/board-minutes.pdf").status_code == 200  # no such application: public
    with override_settings(ZIPSERVE_MEDIA_PRIVATE_FOLDERS=["documents"]):
        for path in ("/media/documents/board-minutes.pdf", "/media/documents/missing.pdf"):
            response = get(path)
            assert response.status_code == 404 and SECRET not in response.body
            assert_safe(response)
        assert get("/media/photos/cat.png").body == PNG  # the rest is served
        assert get("/media/documents-public/x.png").status_code == 404  # a missing file, not a prefix match


@pytest.mark.parametrize(
    ("installed", "serve_method", "expected"),
    [
        (["wagtail.documents"], None, ["documents/"]),
        (["wagtail.documents.apps.WagtailDocsAppConfig"], "serve_view", ["documents/"]),
        (["wagtail.documents"], "redirect", ["documents/"]),
        (["wagtail.documents"], "direct", []),  # the project links the files themselves
        (["wagtail", "wagtail.images"], None, []),
    ],
)
def test_the_private_folders_of_installed_applications(installed, serve_method, expected):
    settings = SimpleNamespace(INSTALLED_APPS=installed)
    if serve_method:
        settings.WAGTAILDOCS_SERVE_METHOD = serve_method
    assert media.private_folders(settings) == expected
    settings.ZIPSERVE_MEDIA_PRIVATE_FOLDERS = ["/scans/", "contracts"]  # the setting replaces the default
    assert media.private_folders(settings) == ["scans/", "contracts/"]


def test_a_catch_all_url_pattern_does_not_take_uploads_from_the_middleware(uploads):
    with override_settings(ROOT_URLCONF="tests.testproject.urls_catch_all"):
        serving = media.media_serving(media.served_storage())
        media.MediaMiddleware(lambda request: None)  # used
    assert serving.routes == () and not serving.stands_aside


def view(request, **kwargs):
    """A project's view for uploads: what it does does not matter here."""


def page(request, **kwargs):
    """A CMS page tree's view."""


class URLconf:
    """A URL configuration of the given patterns, for project_routes()."""

    def __init__(self, *patterns):
        self.urlpatterns = list(patterns)


@pytest.mark.parametrize(
    "prefix, urlconf, expected",
    [
        ("/media/", URLconf(path("media/<path:path>", view)), ["/media/"]),
        # django.conf.urls.static.static(), as some projects keep it.
        ("/media/", URLconf(re_path(r"^media/(?P<path>.*)$", view)), ["/media/"]),
        ("/media/", URLconf(path("", include([path("media/<path:path>", view)]))), ["/media/"]),
        (
            "/media/",
            URLconf(path("media/", include([path("private/<path:path>", view)]))),
            ["/media/private/"],
        ),
        ("/media/", URLconf(re_path(r"^exports/|^media/private/", view)), ["/media/private/"]),
        # Any pattern under the prefix, even one that matches only some paths.
        ("/media/", URLconf(re_path(r"^media/(?P<path>.*\.pdf)$", view)), ["/media/"]),
        ("/media/", URLconf(path("media/<slug:name>/", view)), ["/media/"]),
        # Found by resolving a path under the prefix: the pattern starts with no fixed text.
        ("/media/", URLconf(re_path(r"^(?P<area>media|files)/(?P<path>.+)$", view)), ["/media/"]),
        ("/media/", URLconf(re_path(r"media/(?P<path>.+)", view)), ["/media/"]),
        ("/media/", URLconf(path("<path:path>", page), path("media/<path:path>", view)), ["/media/"]),
        # Catch-alls answer any path: not routes for uploads.
        ("/media/", URLconf(re_path(r"^(?P<slug>.*)$", page)), []),
        ("/media/", URLconf(path("<slug:section>/<path:rest>", page)), []),
        ("/site/media/", URLconf(path("<slug:a>/<slug:b>/<path:rest>", page)), []),
        # Near misses.
        ("/media/", URLconf(path("medias/<path:path>", view), path("static/<path:path>", view)), []),
        ("/media/", URLconf(path("en/media/<path:path>", view)), []),
    ],
)
def test_project_routes(django_project, prefix, urlconf, expected):
    routes = media.project_routes(prefix, urlconf)
    assert [route.prefix for route in routes] == expected
    assert all(route.view == f"{__name__}.view" for route in routes)


def test_the_routes_are_found_once_per_url_resolver(django_project):
    """Each test client loads the middleware again: a large URLconf is not
    walked again, until Django makes a new resolver (its URL caches cleared,
    as a changed ROOT_URLCONF does)."""
    urlconf = URLconf(path("media/<path:path>", view))
    first = media.project_routes("/media/", urlconf)
    assert media.project_routes("/media/", urlconf) is first
    clear_url_caches()
    again = media.project_routes("/media/", urlconf)
    assert again == first and again is not first


# -- the answer ---------------------------------------------------------------


def test_an_image_is_shown_with_safe_headers(uploads):
    response = get("/media/photos/cat.png")
    assert response.status_code == 200
    assert response.body == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="cat.png"'
    assert response["Content-Length"] == str(len(PNG))
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Accept-Ranges"] == "bytes"
    mtime = os.stat(uploads / "photos" / "cat.png").st_mtime
    assert response["Last-Modified"] == formatdate(int(mtime), usegmt=True)
    assert response["ETag"].startswith('"') and response["ETag"].endswith(f'-{len(PNG):x}"')
    assert_safe(response)


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("page.html", "text/html"),
        ("drawing.svg", "image/svg+xml"),
        ("report.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
        ("backup.tar.gz", "application/octet-stream"),
        ("data.no-such-extension", "application/octet-stream"),
        ("README", "application/octet-stream"),
    ],
)
def test_anything_but_a_raster_image_is_an_attachment(uploads, name, content_type):
    (uploads / name).write_bytes(b"<script>alert(document.cookie)</script>")
    response = get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert_safe(response)


@pytest.mark.parametrize("name", ["a.PNG", "b.jpg", "c.JPEG", "d.gif", "e.webp", "f.avif"])
def test_raster_images_are_inline_whatever_the_hosts_mime_types(uploads, name):
    (uploads / name).write_bytes(PNG)
    response = get(f"/media/{name}")
    assert response["Content-Type"].startswith("image/")
    assert response["Content-Disposition"].startswith("inline;")


def test_a_name_beyond_ascii_is_kept(uploads):
    (uploads / "café menu.pdf").write_bytes(b"%PDF-1.4")
    response = get("/media/caf%C3%A9%20menu.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''caf%C3%A9%20menu.pdf"


def test_head_has_the_headers_and_no_body(uploads):
    response = client().head("/media/photos/cat.png")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(len(PNG))
    assert response["Content-Disposition"] == 'inline; filename="cat.png"'
    assert response["ETag"] == get("/media/photos/cat.png")["ETag"]
    assert_safe(response)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", ["/media/photos/cat.png", "/media/photos/missing.png"])
def test_only_get_and_head(uploads, method, path):
    response = getattr(client(), method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert_safe(response)
    assert (uploads / "photos" / "cat.png").read_bytes() == PNG


# -- ranges -------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-3", 0, 3),
        ("bytes=100-", 100, len(PNG) - 1),
        ("bytes=-10", len(PNG) - 10, len(PNG) - 1),
        ("bytes=1000-5000", 1000, len(PNG) - 1),
        ("bytes=-5000", 0, len(PNG) - 1),
        ("BYTES = 7-7", 7, 7),
    ],
)
def test_one_byte_range_is_206(uploads, header, start, end):
    response = get("/media/photos/cat.png", Range=header)
    assert response.status_code == 206
    assert response.body == PNG[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(PNG)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert_safe(response)


@pytest.mark.parametrize(
    "header", [f"bytes={len(PNG)}-", f"bytes={len(PNG) + 10}-{len(PNG) + 20}", "bytes=-0"]
)
def test_an_unsatisfiable_range_is_416(uploads, header):
    response = get("/media/photos/cat.png", Range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(PNG)}"
    assert_safe(response)


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "bytes=9-3", "items=0-3", "bytes=a-b", "bytes=-", "bytes"]
)
def test_several_or_invalid_ranges_get_the_whole_file(uploads, header):
    response = get("/media/photos/cat.png", Range=header)
    assert response.status_code == 200
    assert response.body == PNG


def test_head_of_a_range(uploads):
    response = client().head("/media/photos/cat.png", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-9/{len(PNG)}"
    assert response["Content-Length"] == "10"


def test_if_range_applies_the_range_only_to_the_same_version(uploads):
    first = get("/media/photos/cat.png")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert get("/media/photos/cat.png", Range="bytes=0-3", If_Range=etag).status_code == 206
    assert get("/media/photos/cat.png", Range="bytes=0-3", If_Range=modified).status_code == 206
    stale = {"If_Range": '"0-0"'}
    response = get("/media/photos/cat.png", Range="bytes=0-3", **stale)
    assert response.status_code == 200 and response.body == PNG
    older = formatdate(os.stat(uploads / "photos" / "cat.png").st_mtime - 3600, usegmt=True)
    assert get("/media/photos/cat.png", Range="bytes=0-3", If_Range=older).status_code == 200
    assert get("/media/photos/cat.png", Range="bytes=0-3", If_Range=f"W/{etag}").status_code == 200


# -- conditional requests -----------------------------------------------------


def test_if_none_match_and_if_modified_since_answer_304(uploads):
    first = get("/media/photos/cat.png")
    not_modified = get("/media/photos/cat.png", If_None_Match=first["ETag"])
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == first["ETag"]
    assert get("/media/photos/cat.png", If_Modified_Since=first["Last-Modified"]).status_code == 304
    assert get("/media/photos/cat.png", If_None_Match='"other"').status_code == 200
    older = formatdate(os.stat(uploads / "photos" / "cat.png").st_mtime - 3600, usegmt=True)
    assert get("/media/photos/cat.png", If_Modified_Since=older).status_code == 200
    assert get("/media/photos/cat.png", If_Match='"other"').status_code == 412


def test_a_replaced_upload_has_new_validators(uploads):
    before = get("/media/photos/cat.png")
    path = uploads / "photos" / "cat.png"
    path.write_bytes(PNG + b"more")
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    after = get(
        "/media/photos/cat.png", If_None_Match=before["ETag"], If_Modified_Since=before["Last-Modified"]
    )
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"] and after["Last-Modified"] != before["Last-Modified"]


# -- nothing outside the media root -------------------------------------------


@pytest.fixture
def links(uploads, tmp_path):
    (uploads / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (uploads / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)
    (uploads / "alias.png").symlink_to(uploads / "photos" / "cat.png")
    return uploads


TRAVERSALS = [
    "/media/../secret.txt",
    "/media/photos/../../secret.txt",
    "/media/%2e%2e/secret.txt",
    "/media/%2E%2E/secret.txt",
    "/media/photos/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/media/..%2fsecret.txt",
    "/media/%252e%252e/secret.txt",
    "/media/%252e%252e%252fsecret.txt",
    "/media/..%5csecret.txt",
    "/media/photos\\..\\..\\secret.txt",
    "/media/%2e%2e%5csecret.txt",
    "/media/%00../secret.txt",
    "/media/photos/cat.png%00.txt",
    "/media//etc/passwd",
    "/media/%2fetc%2fpasswd",
    "/media/leak.txt",
    "/media/elsewhere/secret.txt",
    "/media/./photos/cat.png",
    "/media/photos//cat.png",
    "/media/",
    "/media/photos",
    "/media/photos/",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_the_media_root_and_no_odd_path_is_served(links, path):
    response = get(path)
    assert response.status_code == 404
    assert SECRET not in response.body
    assert response["Content-Type"] == "text/plain"
    assert_safe(response)


def test_a_link_that_stays_inside_the_media_root_is_followed(links):
    assert get("/media/alias.png").body == PNG


def test_a_fifo_is_refused_without_blocking(uploads):
    os.mkfifo(uploads / "pipe.png")
    assert get("/media/pipe.png").status_code == 404


@pytest.mark.parametrize(
    "name, expected",
    [
        ("photos/cat.png", "photos/cat.png"),
        ("../secret.txt", None),
        ("photos/../photos/cat.png", None),
        ("", None),
        ("a\\b", None),
        ("a\x00b", None),
        ("/etc/passwd", None),
    ],
)
def test_upload_path(uploads, name, expected):
    found = media.upload_path(str(uploads), name)
    assert found == (str(uploads / expected) if expected else None)


# -- through the real servers -------------------------------------------------


def raw_request(port, method, target, headers=()):
    """``(status, head, body)`` of one request sent exactly as given."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close", *headers]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    fields = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields, rest


SERVER_TRAVERSALS = (
    "/media/../secret.txt",
    "/media/%2e%2e/secret.txt",
    "/media/..%2fsecret.txt",
    "/media/%2e%2e%2fsecret.txt",
    "/media/%252e%252e/secret.txt",
    "/media/..%5csecret.txt",
    "/media/%00/../secret.txt",
    "/media//etc/passwd",
    "/media/%2fetc%2fpasswd",
)


@pytest.mark.parametrize("server", SERVERS)
def test_served_by_each_server(servers, project_env, tmp_path, server):
    media_root = tmp_path / "state" / "media"  # STATE_DIR/media: where the contract puts uploads
    (media_root / "photos").mkdir(parents=True)
    (media_root / "photos" / "cat.png").write_bytes(PNG)
    (media_root / "page.html").write_bytes(b"<script>alert(1)</script>")
    (tmp_path / "state" / "secret.txt").write_bytes(SECRET)
    port = free_port()
    process = servers.start(project_command(server, *bind_args(server, port)), project_env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)

    status, headers, content = raw_request(port, "GET", "/media/photos/cat.png")
    assert (status, content) == (200, PNG), process.output()[-2000:]
    assert headers["content-type"] == "image/png"
    assert headers["content-length"] == str(len(PNG))
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == SAFETY["Content-Security-Policy"]
    assert headers["cache-control"] == "public, max-age=3600"

    status, page, _ = raw_request(port, "GET", "/media/page.html")
    assert status == 200 and page["content-disposition"] == 'attachment; filename="page.html"'

    status, head, content = raw_request(port, "HEAD", "/media/photos/cat.png")
    assert (status, content) == (200, b"")
    assert head["content-length"] == str(len(PNG)) and head["etag"] == headers["etag"]

    status, part, content = raw_request(port, "GET", "/media/photos/cat.png", ["Range: bytes=10-19"])
    assert (status, content) == (206, PNG[10:20])
    assert part["content-range"] == f"bytes 10-19/{len(PNG)}"

    status, _, content = raw_request(
        port, "GET", "/media/photos/cat.png", [f"If-None-Match: {headers['etag']}"]
    )
    assert (status, content) == (304, b"")

    assert raw_request(port, "POST", "/media/photos/cat.png", ["Content-Length: 0"])[0] == 405
    # Sent as they are: no client-side normalisation of .. or of the encodings.
    for target in SERVER_TRAVERSALS:
        status, answer = raw_get(port, target)
        assert status == 404, target
        assert SECRET not in answer, target


@pytest.mark.parametrize("server", SERVERS)
def test_uploads_the_project_guards_are_not_served_by_a_server(servers, project_env, tmp_path, server):
    media_root = tmp_path / "state" / "media"
    (media_root / "photos").mkdir(parents=True)
    (media_root / "photos" / "cat.png").write_bytes(PNG)
    env = dict(project_env, DJANGO_SETTINGS_MODULE="tests.testproject.settings_private_media")
    port = free_port()
    process = servers.start(project_command(server, *bind_args(server, port)), env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)

    status, headers, content = raw_request(port, "GET", "/media/photos/cat.png")
    assert status == 302, process.output()[-2000:]
    assert headers["location"] == "/accounts/login/?next=/media/photos/cat.png"
    assert PNG not in content and "public" not in headers.get("cache-control", "")
    # The deployment checks the server ran say who serves uploads, and why.
    assert "zipserve.I002" in process.output() and "zipserve.I001" not in process.output()
