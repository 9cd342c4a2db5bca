"""Projects shaped like real ones, from checkout to served upload.

Each project of ``tests/projects`` is copied, adopted with ``python -m
django_zipserve init`` (plus only what a user declares by hand: a build
step), built, made to run its own tests from inside the artifact from two
working directories, served by both servers, and sent an upload that must
land under the state directory, never inside the extraction.
"""

import http.cookiejar
import re
import shutil
import subprocess
import sys
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.adopt.util import checkout
from tests.helpers import (
    REPO,
    SERVERS,
    TEST_SECRET_KEY,
    build_artifact,
    clean_environ,
    run_pyz,
    serve,
    write_site_config,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Adopted:
    """What the tests know of a test project."""

    name: str
    pages: tuple  # paths that answer 200 once served
    upload_form: str  # the page with the upload form
    upload_fields: dict  # the form's other fields
    file_field: str
    upload_to: str  # the FileField's upload_to
    min_tests: int  # at least this many of its own tests run
    by_hand: str = ""  # what a user adds to [tool.django-zipserve] after init
    environment: tuple = ()  # (variable, value) the project's settings require, given to every command
    checkout: bool = False  # adopted as a git checkout: what its .gitignore names is left out


PROJECTS = (
    Adopted("settings_package", ("/",), "/upload/", {"title": "Note"}, "file", "documents", 3),
    Adopted("catchall", ("/", "/shop/add/"), "/shop/add/", {"name": "Mug"}, "picture", "products", 4),
    Adopted(
        "many_apps",
        ("/",),
        "/accounts/profile/",
        {"email": "a@example.com"},
        "avatar",
        "avatars",
        3,
        by_hand='manage-steps = ["bundle"]\n',
    ),
    Adopted("src_layout", ("/",), "/attach/", {"label": "Slides"}, "file", "attachments", 2),
    # uv.lock, a pytest suite, development settings set by its task app on import, and variables
    # its settings require at import (the database's included).
    Adopted(
        "cookiecutter_shaped",
        ("/", "/about/"),
        "/books/add/",
        {"title": "Dune"},
        "cover",
        "covers",
        4,
        environment=(
            ("DJANGO_ADMIN_URL", "manage/"),
            ("DATABASE_URL", "sqlite:///{state}/bookshelf.sqlite3"),
        ),
    ),
    # Baby Buddy's front end: the app's whole static folder is what `npm run build` writes,
    # git-ignored; init writes the shell steps.
    Adopted(
        "frontend_build",
        ("/", "/upload/"),
        "/upload/",
        {"note": "Bottle"},
        "photo",
        "photos",
        3,
        checkout=True,
    ),
)


def adopt(project, workdir):
    source = workdir / project.name
    shutil.copytree(REPO / "tests" / "projects" / project.name, source)
    if project.checkout:
        checkout(source)
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "init"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if project.by_hand:
        pyproject = source / "pyproject.toml"
        text = pyproject.read_text()
        assert "[tool.django-zipserve]\n" in text
        pyproject.write_text(
            text.replace("[tool.django-zipserve]\n", "[tool.django-zipserve]\n" + project.by_hand)
        )
    return source


@pytest.fixture(scope="module", params=PROJECTS, ids=[project.name for project in PROJECTS])
def built(request, tmp_path_factory, shiv_root):
    project = request.param
    workdir = tmp_path_factory.mktemp(project.name)
    source = adopt(project, workdir)
    pyz = build_artifact(source, workdir / "dist")
    home = workdir / "home"
    home.mkdir()
    config = write_site_config(home / "site.yml", home / "state")
    required = {name: value.format(state=home / "state") for name, value in project.environment}
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=home, PYTHONUNBUFFERED=1, **required)
    migrate = run_pyz(pyz, env, "--config", config, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return {
        "project": project,
        "source": source,
        "pyz": pyz,
        "config": config,
        "env": env,
        "cwd": home,
        "state": home / "state",
    }


@pytest.mark.parametrize("where", ["beside the artifact", "the source checkout"])
def test_its_own_tests_run_from_inside_the_artifact(built, tmp_path, where):
    env = dict(built["env"], DEBUG="true", STATE_DIR=str(tmp_path / "state"))
    cwd = built["source"] if where == "the source checkout" else built["pyz"].parent
    result = run_pyz(built["pyz"], env, "test", "--noinput", cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    # Django's runner says "Ran 3 tests", pytest "4 passed".
    ran = re.search(r"Ran (\d+) tests?", result.stderr) or re.search(r"(\d+) passed", result.stdout)
    assert ran and int(ran.group(1)) >= built["project"].min_tests, (
        result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert "incorrectly imported" not in result.stderr


@pytest.mark.parametrize("server", SERVERS)
def test_served_and_an_upload_lands_under_the_state_directory(built, servers, server):
    site = {key: built[key] for key in ("pyz", "config", "env", "cwd")}
    _, base = serve(servers, site, server)
    browser = Browser(base)
    for page in built["project"].pages:
        assert browser.get(page)[0] == 200, page
    content = f"upload through {server} {uuid.uuid4()}".encode()
    status = browser.post_form(built["project"], content)
    assert status in (200, 302), status
    stored = [
        path
        for path in (built["state"] / "media").rglob("*")
        if path.is_file() and path.read_bytes() == content
    ]
    assert stored and stored[0].parent.name == built["project"].upload_to, list((built["state"]).rglob("*"))
    extraction = Path(site["env"]["SHIV_ROOT"])
    assert not [path for path in extraction.rglob("*") if path.is_file() and path.read_bytes() == content]


class Browser:
    """Cookies kept, CSRF token sent back: enough of a browser for a form."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        handlers = (urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def get(self, path):
        return self.request(urllib.request.Request(self.base + path))

    def request(self, request):
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post_form(self, project, content):
        status, page = self.get(project.upload_form)
        assert status == 200, page[:500]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        fields = {**project.upload_fields, "csrfmiddlewaretoken": token}
        body, content_type = multipart(fields, project.file_field, "upload.txt", content)
        request = urllib.request.Request(
            self.base + project.upload_form,
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Referer": self.base + "/"},
        )
        return self.request(request)[0]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def multipart(fields, file_field, file_name, content):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
        "Content-Type: text/plain\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_secret_key_is_not_the_projects_development_key(built):
    # config.apply() sets SECRET_KEY from the configuration, over the project's own default.
    result = run_pyz(
        built["pyz"],
        built["env"],
        "--config",
        built["config"],
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == TEST_SECRET_KEY


def test_a_health_view_shadowed_by_a_catch_all_stops_the_build(tmp_path):
    project = next(project for project in PROJECTS if project.name == "catchall")
    source = adopt(project, tmp_path)
    urls = source / "config" / "zipserve_urls.py"
    text = urls.read_text()
    health = '    path("", include("django_zipserve.urls")),\n'
    assert health in text
    # The project's URLconf (with its catch-all) first, then the health view.
    urls.write_text(
        text.replace(health, "")
        .replace("urlpatterns = [\n", "urlpatterns = [\n", 1)
        .rstrip()
        .removesuffix("]")
        + health
        + "]\n"
    )
    command = [
        sys.executable,
        "-m",
        "django_zipserve",
        "build",
        "--require",
        str(REPO),
        "--output-dir",
        str(tmp_path / "dist"),
    ]
    result = subprocess.run(command, cwd=source, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode != 0
    assert "build failed at step run the system checks" in result.stderr
    assert "zipserve.E006" in result.stderr
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.pyz"))


def test_a_local_configuration_module_comes_from_the_configuration_file(tmp_path, shiv_root):
    """A NetBox-shaped project: its settings import netbox/configuration.py,
    which each machine writes for itself (git-ignored). The artifact holds
    none; the build imports the settings with the example's values, and the
    site runs with the configuration file's."""
    fixture = REPO / "tests" / "projects" / "local_configuration"
    root = checkout(shutil.copytree(fixture, tmp_path / "checkout"))
    source = root / "netbox"
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "init"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pyz = build_artifact(source, tmp_path / "dist")
    packaged = zipfile.ZipFile(pyz).namelist()
    assert "site-packages/netbox/configuration_example.py" in packaged
    assert not [name for name in packaged if name.endswith("netbox/configuration.py")]
    home = tmp_path / "home"
    home.mkdir()
    password = "db-password-given-to-the-artifact-4b4b"
    config = write_site_config(
        home / "site.yml",
        home / "state",
        ALLOWED_HOSTS=["inventory.example.com"],
        DATABASE={"ENGINE": "django.db.backends.sqlite3", "NAME": "inventory", "PASSWORD": password},
        API_TOKEN_PEPPERS={"1": "pepper-given-to-the-artifact-" + "r" * 30},
        BANNER_BOTTOM="Served from the artifact",
    )
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=home, PYTHONUNBUFFERED=1)
    check = run_pyz(pyz, env, "--config", config, "config", "check")
    assert check.returncode == 0, check.stderr[-3000:]
    assert "configuration OK" in check.stdout
    assert password not in check.stdout + check.stderr
    shell = run_pyz(
        pyz,
        env,
        "--config",
        config,
        "shell",
        "-c",
        "from django.conf import settings; print(repr((settings.BANNER_TOP, settings.BANNER_BOTTOM)))",
    )
    assert shell.returncode == 0, shell.stderr[-3000:]
    assert shell.stdout.strip().splitlines()[-1] == "('', 'Served from the artifact')"


def test_a_front_end_builds_output_is_packaged_and_a_stale_local_one_is_not(tmp_path):
    """The app's static folder is what the front-end build writes, and git
    ignores it. A checkout that built it once keeps stale files there: the
    artifact holds what the build's own shell steps wrote, and only that."""
    project = next(project for project in PROJECTS if project.name == "frontend_build")
    source = adopt(project, tmp_path)
    stale = source / "tracker" / "static" / "tracker"
    stale.mkdir(parents=True)
    (stale / "app.css").write_text("/* stale */")
    (stale / "removed.css").write_text("/* stale */")
    pyz = build_artifact(source, tmp_path / "dist")
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
        assert archive.read("site-packages/tracker/static/tracker/app.css").startswith(b"/* base.css */")
    assert "site-packages/tracker/static/tracker/app.js" in names
    assert not [name for name in names if name.endswith("removed.css")]
