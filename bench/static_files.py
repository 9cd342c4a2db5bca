"""The file comparisons: a static file (the hashed stylesheet) and an
uploaded one (media), their request headers, and the checks of each
server's answer before any load.

The static file is requested three ways, as browsers and other clients
do; every answer of an application server, with our static front or
without, must carry exactly the headers of Django's WhiteNoise middleware's
answer to the same request (the reference), the transport's aside. The
runs load it the first way (gzip), and nginx only that way."""

import http.client
import urllib.parse

# The requests for the static file: label -> request headers.
ENCODINGS = {
    "gzip": ("Accept-Encoding: gzip",),
    "br": ("Accept-Encoding: br",),
    "none": (),  # no Accept-Encoding at all (not even identity)
}
# wrk's request headers for the static runs.
STATIC_HEADERS = ENCODINGS["gzip"]
# The Content-Encoding each answer must have (None: none).
EXPECTED_ENCODING = {"gzip": "gzip", "br": "br", "none": None}
# Headers that legitimately differ between servers answering the same
# file: the connection's and the server's, not the file's. Every other
# header (ETag and Last-Modified too: all serve the same extraction) must
# be identical.
TRANSPORT = ("date", "server", "connection", "keep-alive")
# The uploaded file of the media runs: a 48 KiB photo in MEDIA_ROOT, at MEDIA_URL.
MEDIA_FILE = "guestbook/photo.jpg"
MEDIA_PATH = f"/media/{MEDIA_FILE}"
UPLOAD_BYTES = 48 * 1024
# Headers an upload must be served with, whoever serves it.
MEDIA_SAFETY = ("x-content-type-options", "content-security-policy", "content-disposition")
# Headers whose presence differs between nginx and ours for no consequence.
INCIDENTAL = {*TRANSPORT, "accept-ranges"}
# Headers that differ from answer to answer: left out of the results.
VOLATILE = ("date",)


def headers_of(url, request_headers=STATIC_HEADERS):
    """The (lower-case) headers of the answer to a file request with exactly
    `request_headers` (urllib would add ``Accept-Encoding: identity``); a
    header sent twice has its values joined as HTTP allows. Fails on
    anything but a 200."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.putrequest("GET", parts.path, skip_accept_encoding=True)
        for header in request_headers:
            connection.putheader(*header.split(": ", 1))
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} ({', '.join(request_headers) or 'no header'}): {response.status}")
        headers = {}
        for name, value in response.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return {name: ", ".join(values) for name, values in headers.items()}
    finally:
        connection.close()


def static_answers(url):
    """The headers of the answers to each request of ENCODINGS, by label."""
    return {label: headers_of(url, request_headers) for label, request_headers in ENCODINGS.items()}


def check_static_headers(name, headers, reference=None, label="gzip"):
    """Problems with a static file response: no immutable Cache-Control, not
    the encoding asked for, a Content-Type or Cache-Control differing from
    the reference's (nginx is held to these only)."""
    problems = []
    if "immutable" not in headers.get("cache-control", ""):
        problems.append(f"{name}: Cache-Control without immutable: {headers.get('cache-control')!r}")
    if headers.get("content-encoding") != EXPECTED_ENCODING[label]:
        problems.append(
            f"{name}: asked for {label}, answered with Content-Encoding {headers.get('content-encoding')!r}"
        )
    if reference is not None:
        for key in ("content-type", "cache-control"):
            if headers.get(key) != reference.get(key):
                problems.append(f"{name}: {key} {headers.get(key)!r} differs from {reference.get(key)!r}")
    return problems


def differences(headers, reference):
    """{header: (this answer's value, the reference's)} for every header but
    the transport's whose value (or presence) differs."""
    names = (set(headers) | set(reference)) - set(TRANSPORT)
    return {
        name: (headers.get(name), reference.get(name))
        for name in sorted(names)
        if headers.get(name) != reference.get(name)
    }


def compare_static_answers(path, answers, reference_name, nginx=None):
    """Problems, and the results' section, from each application server's
    answers (name -> label -> headers): each identical to the reference's
    for every request, the transport's headers aside, and encoded as asked;
    and from nginx's answer to the gzip request (None without nginx), held
    to Cache-Control, Content-Type and gzip."""
    reference = answers.get(reference_name) or {}
    problems = []
    for name, by_label in answers.items():
        for label, headers in by_label.items():
            problems += check_static_headers(name, headers, label=label)
            if name == reference_name:
                continue
            problems += [
                difference(name, reference_name, label, header, values)
                for header, values in differences(headers, reference[label]).items()
            ]
    gzip_answers = {name: by_label["gzip"] for name, by_label in answers.items()}
    if nginx is not None:
        problems += check_static_headers("nginx", nginx, reference.get("gzip"))
        gzip_answers["nginx"] = nginx
    section = {
        "path": path,
        "header_check": header_check(answers, reference_name),
        "headers": {name: recorded(headers) for name, headers in gzip_answers.items()},
        **name_differences(gzip_answers, reference.get("gzip") or {}),
        "problems": problems,
    }
    return problems, section


def difference(name, reference_name, label, header, values):
    theirs, expected = values
    if theirs is None:
        return f"{name}: no {header} ({label}); {reference_name} sends {expected!r}"
    if expected is None:
        return f"{name}: sends {header}: {theirs!r} ({label}); {reference_name} does not"
    return f"{name}: {header} {theirs!r} differs from {reference_name}'s {expected!r} ({label})"


def header_check(answers, reference_name):
    """What the check compared: the requests, the reference's answers, the
    headers compared and ignored, and the servers, for each request."""
    return {
        "reference": reference_name,
        "servers": sorted(set(answers) - {reference_name}),
        "ignored": list(TRANSPORT),
        "requests": {label: list(request) for label, request in ENCODINGS.items()},
        "compared": {
            label: sorted({h for by_label in answers.values() for h in by_label[label]} - set(TRANSPORT))
            for label in ENCODINGS
        },
        "reference_headers": {
            label: recorded(headers) for label, headers in (answers.get(reference_name) or {}).items()
        },
    }


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


def compare_media_answers(path, answers):
    """Problems, and the results' section, from the headers of each
    server's answer for the upload (by name); the first is the reference."""
    reference = next(iter(answers.values()), None)
    problems = [p for name, headers in answers.items() for p in check_media_headers(name, headers, reference)]
    section = {
        "path": path,
        "headers": {name: recorded(headers) for name, headers in answers.items()},
        **name_differences(answers, reference or {}),
        "problems": problems,
    }
    return problems, section


def name_differences(answers, reference):
    """The header names each answer has beyond the reference's, and lacks,
    the incidental ones aside."""
    return {
        "header_names_only_in": {
            name: sorted(set(headers) - set(reference) - INCIDENTAL) for name, headers in answers.items()
        },
        "header_names_missing_from": {
            name: sorted(set(reference) - set(headers) - INCIDENTAL) for name, headers in answers.items()
        },
    }


def recorded(headers):
    return {k: v for k, v in headers.items() if k not in VOLATILE}
