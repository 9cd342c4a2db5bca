"""Showing and applying a plan."""

import os
import stat

from django_zipserve.adopt.plan import Change
from django_zipserve.adopt.write import apply, describe, diff, write_file


def test_describe():
    assert describe(Change("a/__main__.py", "create", None, "x\n")) == "create a/__main__.py"
    assert (
        describe(Change("pyproject.toml", "merge", "a", "b", "add [tool.django-zipserve]"))
        == "merge pyproject.toml: add [tool.django-zipserve]"
    )
    assert describe(Change("a/urls.py", "keep", "x", "x", "exists")) == "keep a/urls.py (exists)"


def test_diff_of_a_new_and_a_merged_file():
    created = diff(Change("a/b.py", "create", None, "one\ntwo\n"))
    assert created.splitlines()[:3] == ["--- /dev/null", "+++ b/a/b.py", "@@ -0,0 +1,2 @@"]
    merged = diff(Change("p.toml", "merge", "[a]\nx = 1\n", "[a]\nx = 1\ny = 2\n"))
    assert merged.splitlines()[:2] == ["--- a/p.toml", "+++ b/p.toml"]
    assert "+y = 2" in merged.splitlines()
    assert diff(Change("p.toml", "keep", "same", "same")) == ""


def test_apply_writes_only_what_changes(tmp_path):
    (tmp_path / "kept.py").write_text("mine\n")
    apply(
        tmp_path,
        [
            Change("pkg/new.py", "create", None, "new\n"),
            Change("kept.py", "keep", "mine\n", "mine\n"),
        ],
    )
    assert (tmp_path / "pkg" / "new.py").read_text() == "new\n"
    assert (tmp_path / "kept.py").read_text() == "mine\n"


def test_a_rewritten_file_keeps_its_mode_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_file(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["pyproject.toml"]


def test_a_new_file_follows_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        write_file(tmp_path / "new.py", "x\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.py").stat().st_mode) == 0o640
