"""The file comparisons: a static file (the hashed stylesheet, gzip) and an
uploaded one (media), their request headers, and the checks of each
server's answer before any load."""

import urllib.request

# wrk's request headers for the static runs.
STATIC_HEADERS = ("Accept-Encoding: gzip",)
# The uploaded file of the media runs: a 48 KiB photo in MEDIA_ROOT, at MEDIA_URL.
MEDIA_FILE = "guestbook/photo.jpg"
MEDIA_PATH = f"/media/{MEDIA_FILE}"
UPLOAD_BYTES = 48 * 1024
# Headers an upload must be served with, whoever serves it.
MEDIA_SAFETY = ("x-content-type-options", "content-security-policy", "content-disposition")
# Headers whose presence differs between servers for no consequence.
INCIDENTAL = {"date", "server", "connection", "keep-alive", "accept-ranges"}
# Headers that differ from answer to answer: left out of the results.
VOLATILE = ("date", "last-modified", "etag")


def headers_of(url, request_headers=STATIC_HEADERS):
    """The (lower-case) headers of the answer to a file request."""
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in request_headers))
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
        return {k.lower(): v for k, v in response.headers.items()}


def check_static_headers(name, headers, reference=None):
    """Problems with a static file response: no immutable Cache-Control, no
    gzip, a Content-Type differing from the reference's."""
    problems = []
    if "immutable" not in headers.get("cache-control", ""):
        problems.append(f"{name}: Cache-Control without immutable: {headers.get('cache-control')!r}")
    if headers.get("content-encoding") != "gzip":
        problems.append(f"{name}: not gzip-encoded: {headers.get('content-encoding')!r}")
    if reference is not None:
        for key in ("content-type", "cache-control"):
            if headers.get(key) != reference.get(key):
                problems.append(f"{name}: {key} {headers.get(key)!r} differs from {reference.get(key)!r}")
    return problems


def check_media_headers(name, headers, reference=None):
    """Problems with an upload's response: a safety header missing, or a
    header differing from the reference's."""
    problems = [f"{name}: upload served without {key}" for key in MEDIA_SAFETY if key not in headers]
    if reference is not None:
        for key in ("content-type", "cache-control", *MEDIA_SAFETY):
            if headers.get(key) != reference.get(key):
                problems.append(
                    f"{name}: upload {key} {headers.get(key)!r} differs from {reference.get(key)!r}"
                )
    return problems


def compare_answers(css_path, answers, check=check_static_headers):
    """Problems, and the results' section, from the headers of each
    server's answer (by name); the first answer is the reference."""
    reference = next(iter(answers.values()), None)
    problems = [p for name, headers in answers.items() for p in check(name, headers, reference)]
    section = {
        "path": css_path,
        "headers": {
            name: {k: v for k, v in headers.items() if k not in VOLATILE} for name, headers in answers.items()
        },
        "header_names_only_in": {
            name: sorted(set(headers) - set(reference) - INCIDENTAL) for name, headers in answers.items()
        },
        "header_names_missing_from": {
            name: sorted(set(reference) - set(headers) - INCIDENTAL) for name, headers in answers.items()
        },
    }
    return problems, section
