"""The static file comparison: its request headers, and the checks of each
server's answer before any load (long caching, gzip, the same type)."""

import urllib.request

# wrk's request headers for the static runs.
STATIC_HEADERS = ("Accept-Encoding: gzip",)
# Headers whose presence differs between servers for no consequence.
INCIDENTAL = {"date", "server", "connection", "keep-alive", "accept-ranges"}
# Headers that differ from answer to answer: left out of the results.
VOLATILE = ("date", "last-modified", "etag")


def headers_of(url):
    """The (lower-case) headers of the answer to a static file request."""
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in STATIC_HEADERS))
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


def compare_answers(css_path, answers):
    """Problems, and the results' "static" section, from the headers of each
    server's answer (by name); the first answer is the reference."""
    reference = next(iter(answers.values()), None)
    problems = [
        p for name, headers in answers.items() for p in check_static_headers(name, headers, reference)
    ]
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
