"""The installed tree: which of its top-level entries releases share."""

from django_zipserve.zipapp.tree import shared_entries


def install(site, name, version, files):
    """Write a distribution's files and its .dist-info (METADATA, RECORD listing them all)."""
    info = f"{name}-{version}.dist-info"
    listed = [*files, f"{info}/METADATA", f"{info}/RECORD"]
    for path in files:
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(f"# {path}\n")
    (site / info).mkdir(parents=True, exist_ok=True)
    (site / info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (site / info / "RECORD").write_text("".join(f"{path},,\n" for path in listed))


def test_only_what_dependencies_alone_installed_is_shared(tmp_path):
    site = tmp_path / "site-packages"
    install(site, "numpy", "2.0", ["numpy/__init__.py", "numpy/core/_multiarray.so", "numpy.libs/libblas.so"])
    install(site, "six", "1.0", ["six.py"])
    install(site, "mysite", "1.0", ["mysite/__init__.py", "mysite/settings.py"])
    # A namespace package the project and a dependency both install into.
    install(site, "acme-tools", "1.0", ["acme/tools/__init__.py"])
    (site / "acme" / "mysite_plugin.py").write_text("")  # written by the project's build step
    # A dependency's folder that the build wrote into (collected static files).
    install(site, "thirdparty", "1.0", ["thirdparty/__init__.py"])
    (site / "thirdparty" / "collected.css").write_text("")
    # What the build writes: static files, the record, the bytecode of top-level modules.
    (site / "staticfiles").mkdir()
    (site / "staticfiles" / "app.css").write_text("")
    (site / "zipserve_build.json").write_text("{}")
    (site / "numpy" / "__pycache__").mkdir()
    (site / "numpy" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"")
    (site / "__pycache__").mkdir()
    (site / "__pycache__" / "six.cpython-311.pyc").write_bytes(b"")

    assert shared_entries(site, "MySite") == [
        "acme-tools-1.0.dist-info",
        "numpy",
        "numpy-2.0.dist-info",
        "numpy.libs",
        "six-1.0.dist-info",
        "six.py",
        "thirdparty-1.0.dist-info",
    ]


def test_the_settings_package_is_never_shared_whoever_installed_it(tmp_path):
    """A project split in distributions: its settings come with a dependency
    of the project's own, and their BASE_DIR must be the release's folder."""
    site = tmp_path / "site-packages"
    install(site, "mysite-core", "1.0", ["core/__init__.py", "core/settings.py"])
    install(site, "mysite", "1.0", ["mysite/__init__.py"])
    assert shared_entries(site, "mysite", {"mysite", "core"}) == ["mysite-core-1.0.dist-info"]


def test_a_symbolic_link_keeps_an_entry_out(tmp_path):
    site = tmp_path / "site-packages"
    install(site, "tool", "1.0", ["tool/__init__.py"])
    (site / "tool" / "data").symlink_to("/etc")
    assert shared_entries(site, None) == ["tool-1.0.dist-info"]
