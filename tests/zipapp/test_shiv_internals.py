"""What the start-up module (``boot``) and the extraction store
(``extractions``) rely on of shiv's private conventions, one test each,
against the installed shiv: checked with shiv 1.0.8 (``pip show shiv``).

None of it is shiv's documented API. The start-up module answers commands
and runs the site from an existing extraction without shiv's bootstrap,
re-implementing its end; it names the extraction directory itself, sets
``SHIV_ROOT`` and refuses the other variables that change what runs; the
store lists and prunes extractions by shiv's directory names, skips the
``.tmp`` directory of one in progress and removes shiv's lock file with an
extraction. A shiv release that changes any of these fails the test named
after it.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from shiv.bootstrap import extract_site_packages
from shiv.bootstrap.environment import Environment

from django_zipserve.zipapp import boot, extractions
from django_zipserve.zipapp.build import PREAMBLE_NAME
from tests.helpers import clean_environ

BUILD_ID = "0123456789abcdef"
NAME = "tiny.pyz"
PROBE = """import json
import sys


def main():
    print(json.dumps({"entry point": sys.path}))
    return 3
"""
PREAMBLE = """import json

print(json.dumps({"preamble": str(site_packages), "name": __name__}))
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A zipapp built by shiv as the build calls it (``--site-packages``,
    ``--entry-point``, ``--build-id``, ``--preamble``), of one package,
    ``probe``, and a ``.pth`` file that names a directory beside it."""
    folder = tmp_path_factory.mktemp("shiv")
    site = folder / "site-packages"
    (site / "probe").mkdir(parents=True)
    (site / "probe" / "__init__.py").write_text(PROBE)
    (site / "from_pth").mkdir()
    (site / "from_pth" / "module.py").write_text("")  # shiv archives files, not empty directories
    (site / "probe.pth").write_text("from_pth\n")
    preamble = folder / PREAMBLE_NAME
    preamble.write_text(PREAMBLE)
    pyz = folder / NAME
    subprocess.run(
        [
            *(sys.executable, "-m", "shiv", "--site-packages", site, "--entry-point", "probe:main"),
            *("--output-file", pyz, "--build-id", BUILD_ID, "--reproducible"),
            *("--preamble", preamble, "--python", sys.executable),
        ],
        check=True,
        capture_output=True,
    )
    return pyz


def run_shiv(pyz, root, **extra):
    """Run the zipapp through shiv's own ``__main__`` and bootstrap."""
    return subprocess.run(
        [sys.executable, str(pyz)],
        env=clean_environ(SHIV_ROOT=root, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def printed(result):
    """The JSON lines the preamble and the entry point printed, in order."""
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_shiv_extracts_into_the_resolved_file_name_and_build_id_under_shiv_root(tiny, tmp_path):
    """boot.main names the extraction ``<file name>_<build id>`` (the file
    name of the artifact with links resolved), looks for it under the root
    it chose, and hands that root to shiv as ``SHIV_ROOT``; the store takes
    the file name back from the directory name (Extraction.file_name)."""
    link = tmp_path / "renamed-link.pyz"
    link.symlink_to(tiny)
    root = tmp_path / "root"
    result = run_shiv(link, root)
    assert result.returncode == 3, result.stderr
    expected = root / f"{os.path.basename(os.path.realpath(link))}_{BUILD_ID}"
    assert (expected / "site-packages" / "probe" / "__init__.py").is_file()
    found = extractions.extractions(root, current=expected)
    assert [(item.path, item.file_name, item.current) for item in found] == [(str(expected), NAME, True)]


def test_shiv_extracts_into_a_tmp_directory_and_renames_it_into_place(tiny, tmp_path, monkeypatch):
    """boot runs from an extraction that exists without asking shiv (it is
    whole: shiv moves it into place finished), and the store lists no
    ``<name>.tmp`` directory (an extraction in progress)."""
    target = tmp_path / "root" / f"{NAME}_{BUILD_ID}"
    moves = []
    move = shutil.move

    def watched_move(source, destination, *args, **kwargs):
        moves.append(
            (source, destination, os.path.isfile(os.path.join(source, "site-packages", "probe.pth")))
        )
        assert extractions.extractions(target.parent) == [], "an extraction in progress is listed"
        return move(source, destination, *args, **kwargs)

    monkeypatch.setattr(shutil, "move", watched_move)
    with zipfile.ZipFile(tiny) as archive:
        extract_site_packages(archive, target)
    assert moves == [(f"{target}.tmp", str(target), True)]
    assert [item.path for item in extractions.extractions(target.parent)] == [str(target)]


def test_shiv_locks_an_extraction_with_a_dot_name_lock_file_that_prune_removes(tiny, tmp_path):
    """shiv leaves ``.<name>_lock`` beside the extraction; the store removes
    it with the extraction (extractions._remove)."""
    root = tmp_path / "root"
    target = root / f"{NAME}_{BUILD_ID}"
    with zipfile.ZipFile(tiny) as archive:
        extract_site_packages(archive, target)
    assert sorted(os.listdir(root)) == [f".{NAME}_{BUILD_ID}_lock", f"{NAME}_{BUILD_ID}"]
    removed, kept = extractions.prune(root, keep=0, name=NAME)
    assert ([item.path for item in removed], kept) == ([str(target)], [])
    assert os.listdir(root) == []


def test_a_forced_extraction_removes_the_old_tree_before_moving_the_new_one_in(tiny, tmp_path, monkeypatch):
    """Under ``SHIV_FORCE_EXTRACT`` shiv removes the existing extraction (as
    its owner): boot.main first gives its read-only directories their
    write bits back (extractions.restore_write_bits)."""
    target = tmp_path / "root" / f"{NAME}_{BUILD_ID}"
    with zipfile.ZipFile(tiny) as archive:
        extract_site_packages(archive, target)
    calls = []
    rmtree, move = shutil.rmtree, shutil.move

    def watched_rmtree(path, *args, **kwargs):
        calls.append(("rmtree", path))
        return rmtree(path, *args, **kwargs)

    def watched_move(source, destination, *args, **kwargs):
        calls.append(("move", source))
        return move(source, destination, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", watched_rmtree)
    monkeypatch.setattr(shutil, "move", watched_move)
    with zipfile.ZipFile(tiny) as archive:
        extract_site_packages(archive, target, force=True)
    assert calls == [("rmtree", str(target)), ("move", f"{target}.tmp")]


def test_shivs_environment_variables_are_set_refused_or_harmless(tiny, monkeypatch):
    """boot sets SHIV_ROOT, reads SHIV_FORCE_EXTRACT, and refuses every
    variable that changes what runs (REFUSED_VARIABLES); the others only
    change how the first extraction is compiled. A variable shiv adds fails
    here, to be sorted into one of these."""
    variables = {
        value for key, value in vars(Environment).items() if key.isupper() and isinstance(value, str)
    }
    harmless = {"SHIV_COMPILE_PYC", "SHIV_COMPILE_WORKERS"}
    assert variables == {"SHIV_ROOT", "SHIV_FORCE_EXTRACT", *boot.REFUSED_VARIABLES, *harmless}
    for variable in variables:
        monkeypatch.delenv(variable, raising=False)
    with zipfile.ZipFile(tiny) as archive:
        built = archive.read("environment.json").decode()
    properties = ("root", "force_extract", "entry_point", "script", "interpreter")
    properties += ("extend_pythonpath", "prepend_pythonpath")
    before = {name: getattr(Environment.from_json(built), name) for name in properties}
    for variable in ("SHIV_ROOT", "SHIV_FORCE_EXTRACT", *boot.REFUSED_VARIABLES):
        with monkeypatch.context() as patched:
            patched.setenv(variable, "1")
            after = {name: getattr(Environment.from_json(built), name) for name in properties}
        assert after != before, f"shiv no longer reads {variable}"


def test_shivs_environment_json_holds_the_build_id_and_the_entry_point(tiny):
    """boot.main reads them from the archive before anything is extracted."""
    environment = boot.read_environment(str(tiny))
    assert (environment["build_id"], environment["entry_point"]) == (BUILD_ID, "probe:main")


def test_shivs_bootstrap_is_the_top_level_package__bootstrap_that_main_calls(tiny):
    """The build replaces shiv's ``__main__.py``; boot.main calls what it
    called, ``_bootstrap.bootstrap()``, for a first extraction."""
    with zipfile.ZipFile(tiny) as archive:
        main = ast.parse(archive.read("__main__.py"))
        bootstrap = ast.parse(archive.read("_bootstrap/__init__.py"))
    assert [ast.unparse(statement) for statement in main.body] == [
        "import _bootstrap",
        "_bootstrap.bootstrap()",
    ]
    functions = {node.name: node for node in bootstrap.body if isinstance(node, ast.FunctionDef)}
    assert not functions["bootstrap"].args.args, "bootstrap() takes no argument"


def test_shiv_runs_the_preamble_as_main_with_site_packages_before_the_entry_point(tiny, tmp_path):
    """The build's preamble (``site-packages/bin/zipserve_preamble.py``) calls
    boot.preamble with the ``site_packages`` shiv gives it, before shiv runs
    the entry point."""
    root = tmp_path / "root"
    with zipfile.ZipFile(tiny) as archive:
        assert f"site-packages/bin/{PREAMBLE_NAME}" in archive.namelist()
    for attempt in ("first start", "later start"):
        result = run_shiv(tiny, root)
        assert result.returncode == 3, (attempt, result.stderr)
        preamble, entry_point = printed(result)
        site_packages = str(root / f"{NAME}_{BUILD_ID}" / "site-packages")
        assert preamble == {"preamble": site_packages, "name": "__main__"}, attempt
        assert "entry point" in entry_point, attempt


def test_the_end_of_shivs_bootstrap_is_what_run_extracted_does(tiny, tmp_path):
    """Once extracted, shiv's bootstrap adds site-packages as a site
    directory (its ``.pth`` files processed) and exits with what the entry
    point returns; boot.run_extracted does the same without shiv."""
    root = tmp_path / "root"
    by_shiv = run_shiv(tiny, root)
    assert by_shiv.returncode == 3, by_shiv.stderr
    extraction = str(root / f"{NAME}_{BUILD_ID}")
    code = (
        "import sys; from django_zipserve.zipapp import boot; boot.run_extracted(sys.argv[1], 'probe:main')"
    )
    by_boot = subprocess.run(
        [sys.executable, "-c", code, os.path.join(extraction, "site-packages")],
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert by_boot.returncode == by_shiv.returncode, by_boot.stderr

    def extracted_paths(result):
        return [path for path in printed(result)[-1]["entry point"] if path.startswith(extraction)]

    assert extracted_paths(by_shiv) == [f"{extraction}/site-packages", f"{extraction}/site-packages/from_pth"]
    assert extracted_paths(by_boot) == extracted_paths(by_shiv)
