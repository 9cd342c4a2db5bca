"""The documentation site: its pages link each other so that the build can
check the links, and its examples of generated output come from the code.

``make docs`` (in ``make lint``) builds the site with warnings as errors and
checks its links; these tests keep to what needs no Sphinx, so that they run
across the whole tox matrix.
"""

import re
import sys

import pytest

from tests.helpers import REPO

sys.path.insert(0, str(REPO / "docs"))
import examples  # noqa: E402  (docs/examples.py, the `generated` directive)

DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.rst"))
#: ``.. generated:: ARGUMENT`` and its options, as written in a page.
DIRECTIVE = re.compile(r"^\.\. generated::(?P<argument>.*)\n(?P<options>(?:[ \t]+:.*\n)*)", re.M)


def directives():
    for page in PAGES:
        for match in DIRECTIVE.finditer(page.read_text()):
            options = dict(re.findall(r"^\s+:([\w-]+):[ \t]*(.*)$", match.group("options"), re.M))
            yield page.name, match.group("argument").strip(), options


def test_every_page_is_in_the_site():
    index = (DOCS / "index.rst").read_text()
    listed = set(re.findall(r"^   ([\w/]+)$", index, re.M))
    pages = {page.stem for page in PAGES} - {"index"}
    pages |= {f"reference/{path.stem}" for path in (DOCS / "reference").glob("*.md")}
    assert pages == listed


@pytest.mark.parametrize("page", [page.name for page in PAGES])
def test_pages_link_each_other_with_references_sphinx_checks(page):
    """A link written as a file (``<servers.rst>`_``) works on a code host
    but not on the site, where the page is HTML: ``:doc:`` is resolved, and
    checked, by the build."""
    text = (DOCS / page).read_text()
    assert not re.findall(r"<[\w./-]+\.(?:md|rst)>`_", text)


def test_generated_examples_name_what_exists():
    found = list(directives())
    assert len(found) >= 15
    for page, argument, options in found:
        where = f"{page}: .. generated:: {argument}"
        if "message" in options:
            assert options["message"] in examples.MESSAGES, where
            continue
        assert argument.startswith("python -m "), where
        if "project" in options:
            assert (examples.PROJECTS / options["project"]).is_dir(), where
            if "cwd" in options:
                assert (examples.PROJECTS / options["project"] / options["cwd"]).is_dir(), where


def test_no_output_is_pasted_where_the_code_can_produce_it():
    """What init prints and the messages below are produced when the site is
    built; a pasted copy would drift from the code unnoticed."""
    pasted = re.compile(
        r"^ +(found:|review:|\S+: invalid configuration|CommandError: refusing to start|build failed at"
        r"|wrote \S+\.(?:socket|service|timer)$|current -> releases/\S+ \(was "
        r"|.*installed \d{4}-\d\d-\d\d .* commit |extraction root: |\d+ extractions?, "
        r"|static front: \d+|the web switched, but)",
        re.M,
    )
    for page in [*PAGES, REPO / "README.rst"]:
        assert not pasted.findall(page.read_text()), f"{page.name} pastes output"


@pytest.mark.parametrize("name", sorted(examples.MESSAGES))
def test_each_message_is_worded_by_the_code(name):
    """Each one-line message comes from the function that words it; a
    function renamed or reworded fails here, by name, before the site build."""
    text = examples.MESSAGES[name]()
    assert text.strip()
    assert examples.CHECKOUT not in text and str(REPO) not in text


def test_an_example_reads_without_this_machine_paths(tmp_path):
    directory = tmp_path / "many_apps"
    text = f"no manage.py in {directory}; wrote {directory}/hc/zipserve_settings.py from {REPO}"
    assert examples.without_machine_paths(text, directory) == (
        f"no manage.py in ~/many_apps; wrote hc/zipserve_settings.py from {examples.CHECKOUT}"
    )


def test_a_command_that_exits_otherwise_stops_the_build():
    with pytest.raises(examples.ExampleError, match="exited with status 2, not 0"):
        examples.run("python -m django_zipserve init", project="local_configuration")
