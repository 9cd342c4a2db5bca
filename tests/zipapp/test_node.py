"""Node.js for the shell steps: npm's version ranges, and the check the build
runs before any step (this machine's ``node``, Node 20, against
``engines.node`` of a real package.json)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from django_zipserve.zipapp import node
from tests.zipapp.flat_project import write_flat_project

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def node_here():
    return subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def package_json(folder, engines=None, **extra):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"name": "front", "version": "1.0.0", "private": True, **extra}
    if engines is not None:
        data["engines"] = {"node": engines}
    (folder / "package.json").write_text(json.dumps(data, indent=2) + "\n")
    return folder / "package.json"


class TestRanges:
    @pytest.mark.parametrize(
        ("version", "declared", "expected"),
        [
            ("v20.19.0", "^24", False),
            ("v24.0.0", "^24", True),
            ("v24.11.1", "^24", True),
            ("v25.0.0", "^24", False),
            ("v20.19.0", ">=18", True),
            ("v16.20.2", ">=18", False),
            ("v20.19.0", ">=18 <21", True),
            ("v21.0.0", ">=18 <21", False),
            ("v20.19.0", ">= 18.0.0  < 21", True),
            ("v20.19.0", "20.x", True),
            ("v20.19.0", "20.*", True),
            ("v20.19.0", "20", True),
            ("v22.1.0", "20.x", False),
            ("v20.1.9", "~20.1", True),
            ("v20.2.0", "~20.1", False),
            ("v20.1.3", "~20.1.4", False),
            ("v20.9.0", "~20", True),
            ("v18.20.0", "^18 || ^20", True),
            ("v19.0.0", "^18 || ^20", False),
            ("v20.19.0", "^18.17.0 || >=20.5.0", True),
            ("v20.18.0", ">=20.19 <21 || >=22.12", False),
            ("v22.12.0", ">=20.19 <21 || >=22.12", True),
            ("v20.0.0", "18 - 20", True),
            ("v21.0.0", "18 - 20", False),
            ("v20.3.0", "18.1 - 20.2", False),
            ("v20.19.0", "<=20", True),
            ("v21.0.0", "<=20", False),
            ("v20.19.0", ">20", False),
            ("v21.0.0", ">20", True),
            ("v20.1.0", ">20.0", True),
            ("v20.19.0", "<20.19.1", True),
            ("v20.19.0", "=20.19.0", True),
            ("v20.19.1", "v20.19.0", False),
            ("v0.2.9", "^0.2.3", True),
            ("v0.3.0", "^0.2.3", False),
            ("v0.0.4", "^0.0.3", False),
            ("v20.0.0", ">=20.0.0-rc.1", True),
            ("v20.0.0", ">20.0.0-rc.1", True),
            ("v20.0.0", "<20.0.0-rc.1", False),
            ("v20.19.0", "*", True),
            ("v20.19.0", "", True),
            ("v20.19.0", "x", True),
            ("v20.19.0", ">*", False),
        ],
    )
    def test_npm_ranges(self, version, declared, expected):
        assert node.satisfies(version, declared) is expected

    @pytest.mark.parametrize("declared", ["latest", ">=", "^a", "20.1.2.3", "node 20", ">=18 <", "20-22"])
    def test_what_is_not_a_range_is_an_error(self, declared):
        with pytest.raises(node.RangeError):
            node.parse_range(declared)

    def test_a_version_node_does_not_print_is_an_error(self):
        with pytest.raises(node.RangeError):
            node.satisfies("twenty", ">=18")


class TestWhatTheStepsRun:
    @pytest.mark.parametrize(
        ("step", "expected"),
        [
            ("npm ci", [("npm", None)]),
            ("npx gulp build", [("npx", None)]),
            ("NODE_ENV=production npm run build", [("npm", None)]),
            ("env CI=1 yarn install --frozen-lockfile", [("yarn", None)]),
            ("cd frontend && npm ci && npm run build", [("npm", "frontend"), ("npm", "frontend")]),
            ("npm --prefix web ci", [("npm", "web")]),
            ("pnpm -C web install --frozen-lockfile", [("pnpm", "web")]),
            ("./node_modules/.bin/webpack; make assets", [("webpack", None), ("make", None)]),
        ],
    )
    def test_commands_and_where_they_run(self, step, expected):
        assert node.commands_run(step) == expected

    def test_only_node_programs_count(self):
        programs, folders = node.node_steps(["make assets", "cd web && npm ci", "npx vite build"])
        assert programs == {"npm": "cd web && npm ci", "npx": "npx vite build"}
        assert folders == ["web", "."]


@needs_node
class TestProblems:
    def test_a_node_the_engines_exclude_is_refused_in_one_line(self, tmp_path):
        package_json(tmp_path, engines="^99")
        [problem] = node.problems(tmp_path, ["npm ci", "npm run build"])
        assert problem == (
            f"package.json requires Node ^99 (engines.node) but this machine has {node_here()} "
            f"({NODE} --version): build with a Node in that range (nvm, fnm, the distribution's package), "
            "which the shell steps run on"
        )

    @pytest.mark.parametrize("declared", [">=18", "^20 || ^22 || >=24", "20.x", "*"])
    def test_a_node_in_range_passes(self, tmp_path, declared):
        package_json(tmp_path, engines=declared)
        assert node.problems(tmp_path, ["npm ci", "npm run build"]) == []

    @pytest.mark.parametrize("runtime", [{"name": "node", "version": "^99.0.0", "onFail": "error"}, None])
    def test_npm_devengines_runtime_as_baby_buddy_declares_it(self, tmp_path, runtime):
        runtime = runtime or [{"name": "bun", "version": "1"}, {"name": "node", "version": "^99.0.0"}]
        package_json(tmp_path, devEngines={"runtime": runtime, "packageManager": {"name": "npm"}})
        [problem] = node.problems(tmp_path, ["npm ci", "npx gulp build"])
        assert problem.startswith(
            "package.json requires Node ^99.0.0 (devEngines.runtime) but this machine has"
        )

    def test_no_engines_no_package_json_or_no_node_step_is_no_problem(self, tmp_path):
        assert node.problems(tmp_path, ["npm ci"]) == []
        package_json(tmp_path)
        assert node.problems(tmp_path, ["npm ci"]) == []
        package_json(tmp_path, engines="^99")
        assert node.problems(tmp_path, ["make assets", "sh build.sh"]) == []
        assert node.problems(tmp_path, []) == []

    def test_the_package_json_of_the_folder_the_step_goes_to(self, tmp_path):
        package_json(tmp_path / "frontend", engines="^99")
        [problem] = node.problems(tmp_path, ["cd frontend && npm ci"])
        assert problem.startswith(
            "frontend/package.json requires Node ^99 (engines.node) but this machine has"
        )

    def test_an_engines_range_npm_cannot_read_is_named(self, tmp_path):
        package_json(tmp_path, engines="latest")
        assert node.problems(tmp_path, ["npm ci"]) == [
            "package.json: engines.node 'latest' is not an npm version range such as ^24 or >=18 <21 "
            "('latest' is not a version)"
        ]

    def test_an_unreadable_package_json_is_named(self, tmp_path):
        (tmp_path / "package.json").write_text("{not json")
        [problem] = node.problems(tmp_path, ["npm ci"])
        assert problem.startswith("package.json: engines.node cannot be checked: it cannot be read: ")

    def test_missing_programs_are_named(self, tmp_path, monkeypatch):
        package_json(tmp_path, engines="^99")
        empty = tmp_path / "bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        assert node.problems(tmp_path, ["yarn install --frozen-lockfile", "npx gulp build"]) == [
            "shell-steps need node ('yarn install --frozen-lockfile'), which is not on PATH: "
            "install Node.js (with npm) on the build machine",
            "shell-steps need yarn ('yarn install --frozen-lockfile'), which is not on PATH: "
            "install yarn (corepack enable, or npm install --global yarn)",
            "shell-steps need npx ('npx gulp build'), which is not on PATH: "
            "install Node.js with npm on the build machine",
        ]

    def test_the_build_refuses_before_any_step(self, tmp_path):
        """A real build: one line naming package.json, the range and the Node
        found; no step ran (nor pip)."""
        marker = tmp_path / "a-step-ran"
        project = write_flat_project(
            tmp_path / "p", tool={"shell-steps": ["npm ci", f"touch {marker}"]}, with_tests=False
        )
        package_json(project, engines=">=99 <100")
        (project / "package-lock.json").write_text("{}\n")
        result = subprocess.run(
            [sys.executable, "-m", "django_zipserve", "build", "--output-dir", tmp_path / "dist"],
            cwd=project,
            env=dict(os.environ, COLUMNS="1000"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            "build failed at step check prerequisites: package.json requires Node >=99 <100 (engines.node) "
            f"but this machine has {node_here()} ({NODE} --version): build with a Node in that range (nvm, "
            "fnm, the distribution's package), which the shell steps run on"
        ]
        assert "==>" not in result.stdout + result.stderr
        assert not marker.exists()
        assert not (tmp_path / "dist").exists()
