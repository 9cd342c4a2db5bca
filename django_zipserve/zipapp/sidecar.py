"""The test sidecar: the packages only the tests need, beside the artifact.

The artifact that is tested must be the artifact that is shipped, so test
tools are not bundled into it. They go into ``<name>-<version>.tests.zip``,
built in the same run: installed with the artifact's own versions as
constraints (so they agree with what they test), without the distributions
the artifact already has, normalised and zipped reproducibly. A record
inside (``zipserve_tests.json``) names the build id of the artifact it
belongs to; the artifact's ``test`` command (and no other) puts the sidecar
it finds beside itself on ``sys.path`` after its own packages, and refuses
one of another build (see ``boot.use_test_sidecar``).
"""

import json
import os

from .boot import TESTS_RECORD_NAME, TESTS_SUFFIX
from .prerequisites import requirement_arguments
from .steps import run_command
from .tree import distributions, normalise, remove_distribution, write_zip


def sidecar_name(stem):
    return f"{stem}{TESTS_SUFFIX}"


def constraints(site, path):
    """The artifact's versions, as pip constraints."""
    pins = [f"{distribution.name}=={distribution.version}" for distribution in distributions(site)]
    path.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
    return path


def install_test_requirements(options, site, target, work, env):
    """The installer, in the build's copy of the source: relative paths mean the
    project's, and a local package's build writes nothing into the project."""
    chosen = options.chosen_installer
    command = chosen.command(target, options.quiet)
    command += ["--constraint", str(constraints(site, work / "artifact-constraints.txt"))]
    for item in options.test_requirements:
        command += requirement_arguments(item)
    run_command(command, options.quiet, env=chosen.env(env), cwd=work / "src")


def build_sidecar(options, site, work, env, epoch, build_id, stem):
    """Build the sidecar into ``work``; ``(path, description for the record)``."""
    target = work / "tests-site"
    install_test_requirements(options, site, target, work, env)
    bundled = {distribution.key for distribution in distributions(site)}
    for distribution in distributions(target):
        if distribution.key in bundled:
            remove_distribution(target, distribution)
    packages = {distribution.name: distribution.version for distribution in distributions(target)}
    target.mkdir(exist_ok=True)
    record = {"build_id": build_id, "artifact": f"{stem}.pyz", "packages": packages}
    (target / TESTS_RECORD_NAME).write_text(
        json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    normalise(target, epoch)
    path = write_zip(target, work / sidecar_name(stem), epoch)
    os.utime(path, (epoch, epoch))
    return path, {"file": path.name, "packages": packages}
