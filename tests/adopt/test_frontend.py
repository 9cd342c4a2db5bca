"""init finds a front-end build (package.json, a gulpfile, a bundler's
configuration), the static files only it writes, and writes the shell
steps that run it in the build."""

import json
import shutil
import subprocess

import pytest

from django_zipserve.adopt.detect import detect, load_toml
from django_zipserve.adopt.frontend import GULP_BUILD_TASK
from django_zipserve.adopt.plan import make_plan
from tests.adopt.util import PROJECTS, checkout, make_project, manage_py, run_init

NODE = shutil.which("node")

SETTINGS = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTALLED_APPS = ["django.contrib.staticfiles", "site.app"]
ROOT_URLCONF = "site.urls"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "collected"
"""
BASE_HTML = (
    '{% load static %}<link href="{% static "app/app.css" %}"><script src="{% static \'app/app.js\' %}">'
)


def project(root, package=None, settings=SETTINGS, git=False, **files):
    """A site with an app whose template uses app/app.css and app/app.js,
    which nothing in the source holds; ``package`` is package.json's content."""
    files = {
        "manage.py": manage_py("site.settings"),
        "site/__init__.py": "",
        "site/settings.py": settings,
        "site/urls.py": "urlpatterns = []\n",
        "site/app/__init__.py": "",
        "site/app/apps.py": "",
        "site/app/templates/app/base.html": BASE_HTML,
        **files,
    }
    if package is not None:
        files["package.json"] = json.dumps(package, indent=2)
    root = make_project(root, files)
    if git:
        checkout(root)
    return root


def pyproject_of(plan):
    import tomlkit

    merged = next(item for item in plan.changes if item.path == "pyproject.toml")
    return tomlkit.parse(merged.new).unwrap()


def zipserve_table(plan):
    return pyproject_of(plan)["tool"]["django-zipserve"]


BUILD_SCRIPT = {"name": "site", "scripts": {"build": "node build.js"}, "devDependencies": {"sass": "^1"}}


class TestPackageManager:
    @pytest.mark.parametrize(
        ("lock", "text", "expected"),
        [
            ("package-lock.json", "{}", ("npm ci", "npm run build")),
            ("npm-shrinkwrap.json", "{}", ("npm ci", "npm run build")),
            ("yarn.lock", "# yarn lockfile v1\n", ("yarn install --frozen-lockfile", "yarn run build")),
            ("yarn.lock", "__metadata:\n  version: 8\n", ("yarn install --immutable", "yarn run build")),
            (
                "pnpm-lock.yaml",
                "lockfileVersion: '9.0'\n",
                ("pnpm install --frozen-lockfile", "pnpm run build"),
            ),
        ],
    )
    def test_the_lock_files_tool_installs_exactly_the_locked_versions(self, tmp_path, lock, text, expected):
        root = project(tmp_path, BUILD_SCRIPT, **{lock: text})
        frontend = detect(root).frontend
        assert frontend.steps == expected
        assert frontend.lock_file == lock
        assert frontend.found == "scripts.build of package.json"

    def test_without_a_lock_file_npm_install_and_the_review_says_so(self, tmp_path):
        root = project(tmp_path, BUILD_SCRIPT)
        plan = make_plan(detect(root))
        assert zipserve_table(plan)["shell-steps"] == ["npm install", "npm run build"]
        [line] = [item for item in plan.review if item.startswith("front-end build")]
        assert "(no lock file: each build resolves the versions again; commit npm's lock file)" in line

    def test_package_manager_field_without_a_lock(self, tmp_path):
        root = project(tmp_path, {**BUILD_SCRIPT, "packageManager": "pnpm@9.1.0"})
        assert detect(root).frontend.steps == ("pnpm install", "pnpm run build")

    def test_nothing_to_install_only_builds(self, tmp_path):
        root = project(tmp_path, {"name": "site", "scripts": {"build": "node build.js"}})
        assert detect(root).frontend.steps == ("npm run build",)


class TestBuildCommand:
    @pytest.mark.parametrize(
        "gulpfile",
        [
            "gulp.task('build', gulp.parallel('extras', 'scripts', 'styles'));\n",
            "exports.build = gulp.series(clean, styles);\n",
            "module.exports.build = build;\n",
            "export const build = series(styles, scripts);\n",
            "export default series(watch);\nexport { styles, build as build };\n",
            "module.exports = {\n  styles,\n  build: parallel(styles, scripts),\n};\n",
        ],
    )
    def test_a_gulp_task_named_build(self, tmp_path, gulpfile):
        assert GULP_BUILD_TASK.search(gulpfile)
        root = project(
            tmp_path, {"name": "site", "devDependencies": {"gulp": "^4"}}, **{"gulpfile.js": gulpfile}
        )
        (root / "package-lock.json").write_text("{}")
        frontend = detect(root).frontend
        assert frontend.steps == ("npm ci", "npx gulp build")
        assert frontend.found == "the gulp task build of gulpfile.js"
        assert frontend.configs == ("gulpfile.js",)

    def test_the_gulpfile_beside_a_gulpfile_config(self, tmp_path):
        """Baby Buddy keeps gulpfile.config.js beside gulpfile.js."""
        root = project(
            tmp_path,
            {"name": "site", "devDependencies": {"gulp": "^5"}},
            **{
                "gulpfile.config.js": "export default { scriptsConfig: {} };\n",
                "gulpfile.js": 'gulp.task("build", gulp.parallel("extras", "scripts", "styles"));\n',
            },
        )
        (root / "package-lock.json").write_text("{}")
        frontend = detect(root).frontend
        assert frontend.steps == ("npm ci", "npx gulp build")
        assert frontend.configs == ("gulpfile.js",)

    def test_a_gulp_task_with_yarn(self, tmp_path):
        root = project(
            tmp_path,
            {"name": "site", "devDependencies": {"gulp": "^4"}},
            **{"gulpfile.js": "exports.build = build;\n", "yarn.lock": "# yarn lockfile v1\n"},
        )
        assert detect(root).frontend.steps == ("yarn install --frozen-lockfile", "yarn gulp build")

    def test_a_gulpfile_without_a_build_task_is_not_guessed(self, tmp_path):
        gulpfile = "exports.default = series(styles, watch);\nexports.styles = styles;\n"
        assert not GULP_BUILD_TASK.search(gulpfile)
        root = project(
            tmp_path, {"name": "site", "devDependencies": {"gulp": "^4"}}, **{"gulpfile.js": gulpfile}
        )
        plan = make_plan(detect(root))
        assert "shell-steps" not in zipserve_table(plan)
        assert [item for item in plan.review if item.startswith("package.json has no build")] == [
            "package.json has no build init can run (scripts.build, a gulp task named build, a vite, "
            "webpack, rollup, esbuild or parcel configuration): put the commands that build it in "
            "shell-steps in [tool.django-zipserve]"
        ]

    def test_scripts_build_comes_before_a_bundler_configuration(self, tmp_path):
        root = project(tmp_path, BUILD_SCRIPT, **{"gulpfile.js": "exports.build = b;\n", "yarn.lock": ""})
        assert detect(root).frontend.steps == ("yarn install --frozen-lockfile", "yarn run build")

    @pytest.mark.parametrize(
        ("config", "command"),
        [
            ("vite.config.ts", "npx vite build"),
            ("webpack.config.js", "npx webpack"),
            ("rollup.config.mjs", "npx rollup -c"),
            ("esbuild.config.mjs", "node esbuild.config.mjs"),
            (".parcelrc", "npx parcel build"),
        ],
    )
    def test_a_bundlers_configuration(self, tmp_path, config, command):
        root = project(tmp_path, {"name": "site", "devDependencies": {"x": "1"}}, **{config: "{}\n"})
        (root / "package-lock.json").write_text("{}")
        assert detect(root).frontend.steps == ("npm ci", command)

    def test_no_package_json_no_front_end(self, tmp_path):
        root = project(tmp_path, None, **{"webpack.config.js": "{}"})
        assert detect(root).frontend is None

    def test_a_package_json_for_tools_only_says_nothing(self, tmp_path):
        root = project(
            tmp_path,
            {"name": "site", "scripts": {"lint": "eslint ."}},
            **{"site/app/static/app/app.css": "", "site/app/static/app/app.js": ""},
        )
        plan = make_plan(detect(root))
        assert "shell-steps" not in zipserve_table(plan)
        assert not [item for item in plan.review if "package.json" in item or "front-end" in item]

    def test_an_unreadable_package_json_is_named(self, tmp_path):
        root = project(tmp_path, None, **{"package.json": "{oops"})
        plan = make_plan(detect(root))
        [line] = [item for item in plan.review if item.startswith("package.json cannot be read")]
        assert line.endswith(": init cannot tell the front-end build; name it in shell-steps")


class TestBuiltStaticFiles:
    def test_a_git_ignored_static_folder_absent_from_the_checkout(self, tmp_path):
        """Baby Buddy's shape: the app's whole static folder is the build's
        output, git-ignored, absent from a fresh checkout."""
        root = project(tmp_path, BUILD_SCRIPT, git=True, **{".gitignore": "/site/app/static/\n"})
        layout = detect(root)
        assert layout.missing_static == ()  # no static folder to judge by
        assert layout.frontend.built == (
            ("app/app.css", "site/app/templates/app/base.html"),
            ("app/app.js", "site/app/templates/app/base.html"),
        )
        assert layout.frontend.ignored == ("site/app/static",)
        assert layout.frontend.output_dirs == ()  # inside the package: its package data

    def test_outside_a_git_checkout_the_steps_are_written_all_the_same(self, tmp_path):
        root = project(tmp_path, BUILD_SCRIPT, **{".gitignore": "/site/app/static/\n"})
        frontend = detect(root).frontend
        assert frontend.built == ()
        assert frontend.steps == ("npm install", "npm run build")

    def test_a_stale_local_build_and_a_file_it_lacks(self, tmp_path):
        root = project(
            tmp_path,
            BUILD_SCRIPT,
            git=True,
            **{".gitignore": "/site/app/static/\n", "site/app/static/app/app.css": "stale"},
        )
        layout = detect(root)
        assert layout.missing_static == (("app/app.js", "site/app/templates/app/base.html"),)
        assert layout.frontend.built == (("app/app.js", "site/app/templates/app/base.html"),)

    def test_a_static_folder_outside_the_packages_goes_into_data_dirs(self, tmp_path):
        settings = SETTINGS + 'STATICFILES_DIRS = [BASE_DIR / "assets" / "dist"]\n'
        root = project(
            tmp_path,
            {"name": "site", "scripts": {"build": "webpack"}},
            settings=settings,
            git=True,
            **{
                ".gitignore": "/assets/dist/\n",
                "webpack.config.js": "module.exports = {output: {path: 'assets/dist'}};\n",
                "site/app/templates/app/base.html": '{% load static %}{% static "bundle.js" %}',
            },
        )
        layout = detect(root)
        assert layout.frontend.built == (("bundle.js", "site/app/templates/app/base.html"),)
        assert layout.frontend.output_dirs == ("assets/dist",)
        plan = make_plan(layout)
        assert zipserve_table(plan)["data-dirs"] == ["assets/dist"]
        assert zipserve_table(plan)["shell-steps"] == ["npm run build"]

    def test_a_static_folder_the_build_names_even_without_git(self, tmp_path):
        settings = SETTINGS + 'STATICFILES_DIRS = [BASE_DIR / "frontend" / "build", BASE_DIR / "other"]\n'
        root = project(
            tmp_path,
            {"name": "site", "scripts": {"build": "vite build --outDir frontend/build"}},
            settings=settings,
        )
        assert detect(root).frontend.output_dirs == ("frontend/build",)

    def test_data_dirs_already_set_without_the_output_is_reviewed(self, tmp_path):
        settings = SETTINGS + 'STATICFILES_DIRS = [BASE_DIR / "assets" / "dist"]\n'
        root = project(
            tmp_path,
            {"name": "site", "scripts": {"build": "webpack --output-path assets/dist"}},
            settings=settings,
            **{
                "pyproject.toml": '[tool.django-zipserve]\ndata-dirs = ["templates"]\n',
                "templates/x.html": "",
            },
        )
        plan = make_plan(detect(root))
        assert (
            "data-dirs does not name assets/dist, which the front-end build writes and STATICFILES_DIRS "
            "serves: add it"
        ) in plan.review


class TestPlan:
    def test_the_shell_steps_and_the_review(self, tmp_path):
        root = project(
            tmp_path,
            {**BUILD_SCRIPT, "engines": {"node": ">=18"}},
            git=True,
            **{".gitignore": "/site/app/static/\n", "package-lock.json": "{}"},
        )
        plan = make_plan(detect(root))
        assert zipserve_table(plan)["shell-steps"] == ["npm ci", "npm run build"]
        front = [item for item in plan.review if "front-end" in item or "Node" in item]
        assert front[0] == (
            'front-end build: scripts.build of package.json (package-lock.json); shell-steps = ["npm ci", '
            '"npm run build"] run it in the build\'s copy of the source before the install, so what it '
            "writes is packaged, git-ignored or not (site/app/static); the templates use what it writes: "
            "app/app.css (site/app/templates/app/base.html), app/app.js (site/app/templates/app/base.html)"
        )
        expected = (
            "the build machine needs Node >=18 (engines.node, checked before the build starts) "
            "and npm on PATH"
        )
        if NODE is not None:
            assert front[1] == expected
        # The files are named once, by the front-end line.
        assert not [item for item in plan.review if item.startswith("templates use static files")]

    @pytest.mark.skipif(NODE is None, reason="node is not installed")
    def test_a_node_the_engines_exclude_is_said_at_init(self, tmp_path):
        root = project(tmp_path, {**BUILD_SCRIPT, "engines": {"node": "^99"}}, **{"package-lock.json": "{}"})
        plan = make_plan(detect(root))
        [line] = [item for item in plan.review if item.startswith("the build machine needs")]
        assert line.startswith(
            "the build machine needs Node ^99 (engines.node, checked before the build starts) and npm on "
            "PATH; here the build refuses: package.json requires Node ^99 (engines.node) but this machine "
            "has v"
        )

    def test_shell_steps_of_the_project_are_kept_and_nothing_is_said(self, tmp_path):
        root = project(
            tmp_path,
            BUILD_SCRIPT,
            **{"pyproject.toml": '[tool.django-zipserve]\nshell-steps = ["make assets"]\n'},
        )
        plan = make_plan(detect(root))
        assert zipserve_table(plan)["shell-steps"] == ["make assets"]
        assert not [item for item in plan.review if "front-end" in item or "Node" in item]


def test_the_fixture_is_adopted_by_init_alone(tmp_path):
    """tests/projects/frontend_build, as a fresh git checkout: init writes
    the shell steps and says so once; a second run says nothing of it."""
    root = checkout(shutil.copytree(PROJECTS / "frontend_build", tmp_path / "frontend_build"))
    result = run_init(root)
    assert result.returncode == 0, result.stderr
    table = load_toml(root / "pyproject.toml")["tool"]["django-zipserve"]
    assert table["shell-steps"] == ["npm ci", "npm run build"]
    assert "data-dirs" not in table
    assert (
        '  - front-end build: scripts.build of package.json (package-lock.json); shell-steps = ["npm ci", '
        '"npm run build"] run it in the build\'s copy of the source before the install, so what it writes '
        "is packaged, git-ignored or not (tracker/static); the templates use what it writes: tracker/app.css "
        "(tracker/templates/tracker/base.html), tracker/app.js (tracker/templates/tracker/base.html)\n"
    ) in result.stdout
    again = run_init(root)
    assert again.returncode == 0, again.stderr
    assert "front-end" not in again.stdout and "Node" not in again.stdout
    assert again.stdout.rstrip().endswith("nothing to do")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_fixtures_build_runs_offline_with_its_empty_lock(tmp_path):
    """npm ci and the build script of the fixture need no network: what the
    build's shell steps run, in a copy of the source."""
    root = shutil.copytree(PROJECTS / "frontend_build", tmp_path / "copy")
    for step in (["npm", "ci", "--offline"], ["npm", "run", "build"]):
        subprocess.run(step, cwd=root, check=True, capture_output=True, timeout=120)
    assert (root / "tracker" / "static" / "tracker" / "app.css").read_text().startswith("/* base.css */")
    assert (root / "tracker" / "static" / "tracker" / "app.js").is_file()
