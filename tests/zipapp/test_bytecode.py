import marshal
import os
import subprocess
import sys

from django_zipserve.zipapp import bytecode
from tests.helpers import REPO

MODULE = "".join(
    f"def f{number}(x):\n    return x in {{'alpha', 'beta', 'gamma', 'delta'}} and 'alpha' * {number}\n"
    for number in range(40)
)


def test_bytecode_is_compiled_without_the_dependencies_warnings(tmp_path, capfd):
    site = tmp_path / "site"
    (site / "dependency" / "examples").mkdir(parents=True)
    (site / "dependency" / "__init__.py").write_text("")
    for number in range(4):
        (site / "dependency" / "examples" / f"demo{number}.py").write_text("x = 1\nif x is 1:\n    pass\n")
    compiled = bytecode.compile_bytecode(site, dict(os.environ))
    assert len(compiled) == 5
    captured = capfd.readouterr()
    assert "SyntaxWarning" not in captured.err + captured.out


def test_a_module_that_does_not_compile_is_left_as_source(tmp_path):
    site = tmp_path / "site"
    (site / "dependency").mkdir(parents=True)
    (site / "dependency" / "__init__.py").write_text("VALUE = 1\n")
    (site / "dependency" / "old.py").write_text("print 'python 2'\n")
    compiled = bytecode.compile_bytecode(site, dict(os.environ))
    assert [path.name.split(".")[0] for path in compiled] == ["__init__"]


def test_code_objects_name_their_file_under_site_packages(tmp_path):
    """The name is fixed whatever folder the build ran in (the import system
    points it at the real file when it loads the module)."""
    site = tmp_path / "build-folder" / "site"
    (site / "package" / "inner").mkdir(parents=True)
    (site / "package" / "inner" / "module.py").write_text("VALUE = 1\n")
    (compiled,) = bytecode.compile_bytecode(site, dict(os.environ))
    code = marshal.loads(compiled.read_bytes()[16:])
    assert code.co_filename == "site-packages/package/inner/module.py"


def test_shares_are_runs_of_neighbours_of_about_equal_size(tmp_path):
    paths = []
    for number, size in enumerate([100, 100, 100, 100, 400, 100, 100]):
        path = tmp_path / f"m{number}.py"
        path.write_text("#" * size)
        paths.append(path)
    cut = bytecode.shares(paths, 4)
    assert [path for share in cut for path in share] == paths, "every module once, in order"
    assert [[path.name for path in share] for share in cut] == [
        ["m0.py", "m1.py"],
        ["m2.py", "m3.py"],
        ["m4.py"],
        ["m5.py", "m6.py"],
    ]
    assert bytecode.shares(paths[:1], 4) == [paths[:1]], "no empty share"


def compile_in_a_process(site, seed, cores=None):
    pin = f"os.sched_setaffinity(0, {set(cores)!r}); " if cores else ""
    code = (
        f"import os, sys; {pin}from django_zipserve.zipapp import bytecode; "
        "from pathlib import Path; bytecode.compile_bytecode(Path(sys.argv[1]), os.environ)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(site)],
        env=dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(REPO)),
        check=True,
        timeout=120,
    )
    return {path.relative_to(site): path.read_bytes() for path in sorted(site.rglob("*.pyc"))}


def small_site(folder):
    site = folder / "site-packages"
    for package in range(6):
        (site / f"package{package}").mkdir(parents=True)
        (site / f"package{package}" / "__init__.py").write_text(MODULE)
    return site


def test_bytecode_is_the_same_whatever_the_building_process_and_its_cores(tmp_path):
    """Two builds run by different processes (here with different hash
    seeds), one of them on a single core (its shares then compile one after
    the other), give the same bytecode. A guard: the difference adopting a
    public project found (one .pyc of pycparser, from a pool of processes)
    does not show on files this small."""
    first = compile_in_a_process(small_site(tmp_path / "1"), "1")
    second = compile_in_a_process(small_site(tmp_path / "2"), "2", cores=[min(os.sched_getaffinity(0))])
    assert len(first) == 6
    assert first == second
