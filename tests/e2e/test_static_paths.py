"""Path traversal and source exposure through the static files prefix: the
settings, the artifact and the configuration are never served.
"""

import json

import pytest

from tests.helpers import TEST_SECRET_KEY, raw_get


def hostile_paths(pyz_name, config_name):
    return [
        "/static/../settings.py",
        "/static/%2e%2e/%2e%2e/example_project/settings.py",
        "/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "/static/..%2fsettings.py",
        "/static/..%2f..%2fexample_project%2fsettings.py",
        "/static/..%5c..%5cexample_project%5csettings.py",
        "/static/..\\..\\example_project\\settings.py",
        "/static/example_project/../../../../etc/passwd",
        "/static/example_project/../../settings.py",
        "/static/example_project/%2e%2e/%2e%2e/settings.py",
        "/static/example_project/settings.py",
        "/static/example_project/__init__.py",
        "/static/example_project/settings.pyc",
        "/static/settings.py",
        "/static/%00",
        "/static/example_project/site.css%00.py",
        "//etc/passwd",
        "/../../../../etc/passwd",
        "/example_project/settings.py",
        "/settings.py",
        "/__main__.py",
        "/environment.json",
        "/static/environment.json",
        f"/{config_name}",
        f"/static/{config_name}",
        f"/static/../{config_name}",
        f"/{pyz_name}",
        f"/static/{pyz_name}",
        f"/static/../{pyz_name}",
        f"/static/../../{pyz_name}",
    ]


def assert_nothing_leaked(target, raw):
    body = raw.partition(b"\r\n\r\n")[2]
    for fragment in (
        TEST_SECRET_KEY.encode(),
        b"SECRET_KEY",
        b"root:x:0:0",
        b"PK\x03\x04",
        b"import ",
        b"def ",
        b"ZipserveConfig",
        b"Served from one file",
    ):
        assert fragment not in body, f"{target!r} answered with {fragment!r}: {raw[:300]!r}"


@pytest.mark.e2e
def test_static_prefix_serves_no_source_config_or_artifact(artifact_server):
    """Traversal and source exposure, sent byte for byte over a socket: each
    path answers 404 (or 400 when a server rejects it as malformed), never
    200, and no answer carries the secret key, Python source, the config
    file or the zipapp. ``example.yml`` and the ``.pyz`` sit in the servers'
    working directory, the sources in the extraction under SHIV_ROOT."""
    site = artifact_server.site
    assert (site.cwd / site.config.name).is_file() and (site.cwd / site.pyz.name).is_file()
    answers = {}
    for target in hostile_paths(site.pyz.name, site.config.name):
        status, raw = raw_get(artifact_server.port, target)
        answers[target] = status
        assert_nothing_leaked(target, raw)
    print(f"{artifact_server.name}: {answers}")
    wrong = {target: status for target, status in answers.items() if status not in (400, 404)}
    assert not wrong, f"{artifact_server.name}: expected 404 (or 400) for each, got {wrong}"

    # Control: the prefix does serve collected files, so the 404s above are
    # not just a dead prefix.
    status, raw = raw_get(artifact_server.port, "/static/example_project/site.css")
    assert status == 200 and b"text/css" in raw.partition(b"\r\n\r\n")[0]

    # The manifest collectstatic writes is served by WhiteNoise like any
    # collected file. It is public by design (it maps each static name to
    # its hashed name, all of them public already), holds no secret and no
    # source; noted here so that a change is noticed.
    status, raw = raw_get(artifact_server.port, "/static/staticfiles.json")
    assert status == 200, status
    assert_nothing_leaked("/static/staticfiles.json", raw)
    manifest = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert "example_project/site.css" in manifest["paths"]
    assert not [name for name in manifest["paths"] if name.endswith((".py", ".pyc", ".yml", ".pyz"))]
