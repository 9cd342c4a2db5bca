"""Uploads through the built example artifact, under both servers: signed
into the guestbook with a file, stored in the state directory (not in the
extraction), served back with the safety headers, nothing outside the media
root reachable, and still served by the next release."""

import http.cookiejar
import re
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.helpers import bind_args, free_port, raw_get, run_pyz, wait_for_http

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
SCRIPT = b"<script>document.title = 'owned'</script>"
CSP = "default-src 'none'; sandbox"
SQLITE_HEADER = b"SQLite format 3"


def multipart(fields, files):
    """A multipart/form-data body and its Content-Type; ``files`` maps a
    field to ``(file name, bytes, type)``."""
    boundary = f"zipserve-{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (file_name, content, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def sign_guestbook(base, text, file_name, content, content_type):
    """Sign the example's guestbook as a browser does (its form, its CSRF
    token and cookie) with a file; the URL of the upload on the page the
    form redirects to."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = browser.open(f"{base}/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body, form_type = multipart(
        {"csrfmiddlewaretoken": token, "text": text}, {"attachment": (file_name, content, content_type)}
    )
    request = urllib.request.Request(f"{base}/", data=body, headers={"Content-Type": form_type})
    with browser.open(request, timeout=30) as response:
        assert response.url == f"{base}/", "the form redirects home once signed"
        page = response.read().decode()
    found = re.search(re.escape(text) + r'.*?class="attachment" href="([^"]+)"', page, re.DOTALL)
    assert found, f"no attachment for {text!r} on the page"
    return found.group(1)


def fetch(base, path, **headers):
    request = urllib.request.Request(f"{base}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def base_of(artifact_server):
    return f"http://127.0.0.1:{artifact_server.port}"


def test_an_upload_is_kept_in_the_state_directory_and_served_back(artifact_server):
    base, name = base_of(artifact_server), artifact_server.name
    url = sign_guestbook(base, f"A photo through {name}", f"photo-{name}.png", PNG, "image/png")
    assert re.fullmatch(rf"/media/guestbook/\d{{4}}/\d{{2}}/photo-{name}\.png", url), url
    stored = artifact_server.site.cwd / "state" / url.lstrip("/")  # STATE_DIR/media/...
    assert stored.read_bytes() == PNG
    extractions = Path(artifact_server.site.env["SHIV_ROOT"])
    assert not list(extractions.rglob(f"photo-{name}.png")), (
        "an upload in the extraction dies with the release"
    )

    status, headers, content = fetch(base, url)
    assert (status, content) == (200, PNG)
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == f'inline; filename="photo-{name}.png"'
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == CSP
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert headers["ETag"] and headers["Last-Modified"]

    status, part, content = fetch(base, url, Range="bytes=8-15")
    assert (status, content, part["Content-Range"]) == (206, PNG[8:16], f"bytes 8-15/{len(PNG)}")
    assert fetch(base, url, **{"If-None-Match": headers["ETag"]})[0] == 304


@pytest.mark.parametrize(
    "file_name, content_type",
    [("page.html", "text/html"), ("drawing.svg", "image/svg+xml")],
)
def test_an_uploaded_page_or_drawing_is_a_sandboxed_download(artifact_server, file_name, content_type):
    base = base_of(artifact_server)
    url = sign_guestbook(
        base, f"Script in {file_name} via {artifact_server.name}", file_name, SCRIPT, content_type
    )
    status, headers, content = fetch(base, url)
    assert (status, content) == (200, SCRIPT)
    assert headers["Content-Type"] == content_type
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"


#: The state directory holds the database beside media/, and the site's
#: directory (two levels up) the configuration with the secret key.
TRAVERSALS = (
    "/media/../db.sqlite3",
    "/media/guestbook/../../db.sqlite3",
    "/media/%2e%2e/db.sqlite3",
    "/media/%2E%2E/db.sqlite3",
    "/media/..%2fdb.sqlite3",
    "/media/%2e%2e%2fdb.sqlite3",
    "/media/%252e%252e/db.sqlite3",
    "/media/%252e%252e%252fdb.sqlite3",
    "/media/..%5cdb.sqlite3",
    "/media/%00/../db.sqlite3",
    "/media/../../example.yml",
    "/media/%2e%2e/%2e%2e/example.yml",
    "/media//etc/passwd",
    "/media/%2fetc%2fpasswd",
)


@pytest.mark.parametrize("target", TRAVERSALS)
def test_nothing_outside_the_media_root_is_served(artifact_server, target):
    # Sent exactly as written: no client-side normalisation of .. or of the encodings.
    status, answer = raw_get(artifact_server.port, target)
    assert status == 404, target
    assert SQLITE_HEADER not in answer
    assert b"SECRET_KEY" not in answer and b"root:" not in answer


def test_the_next_release_serves_the_uploads_of_the_previous_one(artifact_server, example_pyz_next, servers):
    site, name = artifact_server.site, artifact_server.name
    url = sign_guestbook(
        base_of(artifact_server), f"Before the upgrade, {name}", f"before-{name}.png", PNG, "image/png"
    )
    migrate = run_pyz(
        example_pyz_next, site.env, "--config", site.config, "migrate", "--noinput", cwd=site.cwd
    )
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    command = [sys.executable, example_pyz_next, "--config", site.config, name, *bind_args(name, port)]
    process = servers.start(command, site.env, cwd=site.cwd)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=process.process)
    status, _, page = fetch(base, "/")
    assert status == 200 and b"example-project 1.0.1" in page, "the next release answers"
    status, headers, content = fetch(base, url)
    assert (status, content) == (200, PNG)
    assert headers["Content-Security-Policy"] == CSP
