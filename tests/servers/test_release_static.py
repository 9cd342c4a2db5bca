"""The hashed static files of the other releases extracted beside this one
(``django_zipserve.servers.release_static``), served through WhiteNoise's
middleware during a rolling deploy.

Real extractions in a temporary extraction root: release A (``site_aaa``)
and release B (``site_bbb``) of the project ``site``, each with its build
record, its collected files and its manifest, and release C of another
project (``other_ccc``). The running process is B's: ``current_extraction``
is the seam, patched."""

import gzip
import json
import os
import shutil

import pytest
from django.test import Client, override_settings

from django_zipserve.servers import release_static
from django_zipserve.servers.release_static import SiblingStatic
from django_zipserve.servers.static_index import SharedIndexWhiteNoiseMiddleware

STATIC = "site-packages/site/static"
A_CSS = b"body { color: #aaaaaa; }\n" * 40
B_CSS = b"body { color: #bbbbbb; }\n" * 40
OTHER_CSS = b"body { color: #cccccc; }\n" * 40
A_HASHED = "css/app.aaaaaaaaaaaa.css"
B_HASHED = "css/app.bbbbbbbbbbbb.css"
OTHER_HASHED = "css/app.cccccccccccc.css"
IMMUTABLE = f"max-age={10 * 365 * 24 * 60 * 60}, public, immutable"
#: Extraction root modification times set by the tests (nanoseconds, long
#: past): a root just changed is read again anyway (see RACY_SECONDS).
PAST = 1_600_000_000 * 10**9


def extract(root, entry, project, css, hashed, extra=None):
    """A finished extraction ``root/entry``: build record, STATIC_ROOT with
    ``css/app.css``, its hashed copy (and gzip variant), and the manifest."""
    site_packages = root / entry / "site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "zipserve_build.json").write_text(json.dumps({"name": project}))
    static = root / entry / STATIC
    (static / "css").mkdir(parents=True)
    paths = {"css/app.css": hashed, **(extra or {})}
    for name in ("css/app.css", hashed):
        (static / name).write_bytes(css)
        (static / f"{name}.gz").write_bytes(gzip.compress(css, mtime=0))
    (static / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "x"}))
    return root / entry


def set_root_time(root, step=0):
    """Give the extraction root a modification time of its own."""
    os.utime(root, ns=(PAST + step, PAST + step))


@pytest.fixture
def extraction_root(tmp_path):
    root = tmp_path / "shiv"
    extract(root, "site_aaa", "site", A_CSS, A_HASHED)
    extract(root, "site_bbb", "site", B_CSS, B_HASHED)
    extract(root, "other_ccc", "other", OTHER_CSS, OTHER_HASHED)
    set_root_time(root)
    return root


@pytest.fixture
def finder(extraction_root):
    return SiblingStatic(extraction_root / "site_bbb", STATIC, "site", "/static/")


def a_file(root, name):
    return os.path.realpath(root / "site_aaa" / STATIC / name)


# The finder ---------------------------------------------------------------


def test_a_hashed_name_of_a_sibling_is_found(finder, extraction_root):
    assert finder.find(f"/static/{A_HASHED}") == a_file(extraction_root, A_HASHED)


def test_an_unhashed_name_never_comes_from_a_sibling(finder):
    assert finder.find("/static/css/app.css") is None
    assert finder.find("/static/staticfiles.json") is None


def test_only_paths_under_the_static_prefix_are_looked_up(finder):
    assert finder.find(f"/{A_HASHED}") is None
    assert finder.find(f"/assets/{A_HASHED}") is None


def test_another_projects_files_are_never_served(finder):
    assert finder.find(f"/static/{OTHER_HASHED}") is None


def test_this_releases_own_files_are_not_the_finders(finder):
    assert finder.find(f"/static/{B_HASHED}") is None


def test_unfinished_extractions_are_never_looked_at(tmp_path):
    root = tmp_path / "shiv"
    extract(root, "site_bbb", "site", B_CSS, B_HASHED)
    extract(root, "site_aaa.tmp", "site", A_CSS, A_HASHED)
    extract(root, ".site_ddd.removing-12", "site", A_CSS, "css/app.dddddddddddd.css")
    set_root_time(root)
    finder = SiblingStatic(root / "site_bbb", STATIC, "site", "/static/")
    assert finder.find(f"/static/{A_HASHED}") is None
    assert finder.find("/static/css/app.dddddddddddd.css") is None


def test_a_path_out_of_the_static_root_is_refused(tmp_path):
    root = tmp_path / "shiv"
    extract(root, "site_bbb", "site", B_CSS, B_HASHED)
    # A manifest that lists a name leading out of its STATIC_ROOT.
    secret = root / "site_aaa" / "site-packages" / "site" / "secret.111111111111.txt"
    extract(root, "site_aaa", "site", A_CSS, A_HASHED, {"secret.txt": "../secret.111111111111.txt"})
    secret.write_text("secret")
    set_root_time(root)
    finder = SiblingStatic(root / "site_bbb", STATIC, "site", "/static/")
    assert finder.find("/static/../secret.111111111111.txt") is None
    assert finder.find(f"/static/css/../{A_HASHED}") is None
    assert finder.find(f"/static/{A_HASHED}") == a_file(root, A_HASHED)


def test_a_symlink_leading_out_of_the_static_root_is_refused(tmp_path):
    root = tmp_path / "shiv"
    outside = tmp_path / "outside.css"
    outside.write_text("p {}")
    extract(root, "site_bbb", "site", B_CSS, B_HASHED)
    linked = "css/link.222222222222.css"
    variant = "css/variant.333333333333.css"
    extract(root, "site_aaa", "site", A_CSS, A_HASHED, {"css/link.css": linked, "css/variant.css": variant})
    static = root / "site_aaa" / STATIC
    (static / linked).symlink_to(outside)
    # The file inside, its compressed variant outside.
    (static / variant).write_text("p {}")
    (static / f"{variant}.gz").symlink_to(outside)
    set_root_time(root)
    finder = SiblingStatic(root / "site_bbb", STATIC, "site", "/static/")
    assert finder.find(f"/static/{linked}") is None
    assert finder.find(f"/static/{variant}") is None
    assert finder.find(f"/static/{A_HASHED}") == a_file(root, A_HASHED)


def test_the_newest_sibling_that_has_the_file_wins(extraction_root):
    newer = extract(extraction_root, "site_ddd", "site", b"p { color: red; }\n", A_HASHED)
    older = extraction_root / "site_aaa"
    os.utime(older, ns=(PAST, PAST))
    os.utime(newer, ns=(PAST + 10**9, PAST + 10**9))
    set_root_time(extraction_root, 1)
    finder = SiblingStatic(extraction_root / "site_bbb", STATIC, "site", "/static/")
    assert finder.find(f"/static/{A_HASHED}") == os.path.realpath(newer / STATIC / A_HASHED)


def test_a_sibling_extracted_later_is_found_once_the_root_changed(tmp_path):
    root = tmp_path / "shiv"
    extract(root, "site_bbb", "site", B_CSS, B_HASHED)
    set_root_time(root)
    finder = SiblingStatic(root / "site_bbb", STATIC, "site", "/static/")
    assert finder.find(f"/static/{A_HASHED}") is None
    extract(root, "site_aaa", "site", A_CSS, A_HASHED)
    set_root_time(root)  # the same time: what was read stands
    assert finder.find(f"/static/{A_HASHED}") is None
    set_root_time(root, 1)
    assert finder.find(f"/static/{A_HASHED}") == a_file(root, A_HASHED)


def test_a_pruned_sibling_is_no_longer_served(finder, extraction_root):
    assert finder.find(f"/static/{A_HASHED}") is not None
    shutil.rmtree(extraction_root / "site_aaa")
    set_root_time(extraction_root, 1)
    assert finder.find(f"/static/{A_HASHED}") is None


def test_a_root_changed_just_before_it_was_read_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr(release_static, "RECHECK_SECONDS", 0.0)
    root = tmp_path / "shiv"
    extract(root, "site_bbb", "site", B_CSS, B_HASHED)
    now = os.stat(root).st_mtime_ns
    finder = SiblingStatic(root / "site_bbb", STATIC, "site", "/static/")
    assert finder.find(f"/static/{A_HASHED}") is None
    extract(root, "site_aaa", "site", A_CSS, A_HASHED)
    os.utime(root, ns=(now, now))  # a change within the same timestamp tick
    assert finder.find(f"/static/{A_HASHED}") == a_file(root, A_HASHED)


def test_manifests_are_read_once_while_the_root_is_unchanged(finder, monkeypatch):
    reads = []
    read = finder.read
    monkeypatch.setattr(finder, "read", lambda: reads.append(1) or read())
    for _ in range(100):
        assert finder.find("/static/css/unknown.444444444444.css") is None
        assert finder.find(f"/static/{A_HASHED}") is not None
    assert len(reads) == 1


def test_a_listed_file_that_is_missing_is_remembered_as_a_miss(finder, extraction_root, monkeypatch):
    (extraction_root / "site_aaa" / STATIC / A_HASHED).unlink()
    assert finder.find(f"/static/{A_HASHED}") is None
    monkeypatch.setattr(release_static, "locate", lambda *args: pytest.fail("looked again"))
    assert finder.find(f"/static/{A_HASHED}") is None


def test_misses_are_bounded(finder, extraction_root, monkeypatch):
    monkeypatch.setattr(release_static, "KEPT_MISSES", 3)
    names = [f"css/gone.{index:012d}.css" for index in range(5)]
    monkeypatch.setattr(release_static, "hashed_names", lambda manifest: frozenset(names))
    for name in names:
        assert finder.find(f"/static/{name}") is None
    assert list(finder.siblings.misses) == names[-3:]


# Through Django: the middleware, under the test project's settings ------------


@pytest.fixture
def running_b(django_project, extraction_root, monkeypatch):
    """The test project as release B, its STATIC_ROOT inside its extraction."""
    monkeypatch.setattr(release_static, "current_extraction", lambda: extraction_root / "site_bbb")
    static_root = extraction_root / "site_bbb" / STATIC
    with override_settings(
        DEBUG=False, STATIC_ROOT=str(static_root), STATIC_URL="/static/", ALLOWED_HOSTS=["testserver"]
    ):
        yield


def get(path, **headers):
    response = Client().get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response, body


def test_a_siblings_hashed_file_is_served_as_whitenoise_serves_hashed_files(running_b):
    own, own_body = get(f"/static/{B_HASHED}")
    response, body = get(f"/static/{A_HASHED}")
    assert (own.status_code, own_body) == (200, B_CSS)
    assert (response.status_code, body) == (200, A_CSS)
    assert response["Cache-Control"] == own["Cache-Control"] == IMMUTABLE
    assert response["Content-Type"] == own["Content-Type"]
    assert response["ETag"]


def test_a_siblings_compressed_variant_is_served(running_b):
    response, body = get(f"/static/{A_HASHED}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == A_CSS


def test_unhashed_and_unknown_names_are_not_found(running_b):
    response, body = get("/static/css/app.css")
    assert (response.status_code, body) == (200, B_CSS)  # this release's own
    for path in (f"/static/{OTHER_HASHED}", "/static/css/app.999999999999.css", f"/static/../{STATIC}"):
        assert get(path)[0].status_code == 404, path


def test_the_file_is_built_once_per_middleware(running_b):
    middleware = SharedIndexWhiteNoiseMiddleware(get_response=lambda request: None)
    first = middleware.sibling_file(f"/static/{A_HASHED}")
    assert middleware.sibling_file(f"/static/{A_HASHED}") is first
    assert middleware.sibling_file(f"/static/{B_HASHED}") is None  # its own: in its table


def test_a_pruned_sibling_is_no_longer_served_by_the_middleware(running_b, extraction_root):
    assert get(f"/static/{A_HASHED}")[0].status_code == 200
    shutil.rmtree(extraction_root / "site_aaa")
    set_root_time(extraction_root, 1)
    assert get(f"/static/{A_HASHED}")[0].status_code == 404


@pytest.mark.parametrize(
    "overrides",
    [
        {"ZIPSERVE_SIBLING_STATIC": False},
        {"DEBUG": True, "WHITENOISE_AUTOREFRESH": False},
        {"WHITENOISE_AUTOREFRESH": True},
    ],
    ids=["ZIPSERVE_SIBLING_STATIC", "DEBUG", "WHITENOISE_AUTOREFRESH"],
)
def test_nothing_comes_from_a_sibling_when_turned_off(running_b, overrides, monkeypatch):
    monkeypatch.setattr(SiblingStatic, "find", lambda *args: pytest.fail("looked up"))
    with override_settings(**overrides):
        assert SharedIndexWhiteNoiseMiddleware(get_response=lambda request: None).siblings is None
        assert get(f"/static/{A_HASHED}")[0].status_code == 404


def test_nothing_is_looked_up_outside_an_artifact(running_b, monkeypatch):
    monkeypatch.setattr(release_static, "current_extraction", lambda: None)
    assert SharedIndexWhiteNoiseMiddleware(get_response=lambda request: None).siblings is None
    assert get(f"/static/{A_HASHED}")[0].status_code == 404


def test_nothing_is_looked_up_when_static_root_is_outside_the_extraction(running_b, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    with override_settings(STATIC_ROOT=str(tmp_path / "elsewhere")):
        assert SharedIndexWhiteNoiseMiddleware(get_response=lambda request: None).siblings is None
