"""``python -m django_zipserve init [--dry-run] [--project-dir DIR] [--settings MODULE]``."""

import argparse
import sys

from . import AdoptError
from .detect import detect
from .plan import make_plan
from .write import apply, describe, diff


def parser():
    result = argparse.ArgumentParser(
        prog="python -m django_zipserve init",
        description="Adopt an existing Django project: write its entry point, production settings, "
        "a URLconf with the health view first, and merge its pyproject.toml. An existing file is "
        "never overwritten (pyproject.toml is merged); running it again changes nothing.",
    )
    result.add_argument(
        "--project-dir", default=".", help="the project's directory (default: the current one)"
    )
    result.add_argument(
        "--settings",
        metavar="MODULE",
        help="the project's settings module (default: the DJANGO_SETTINGS_MODULE manage.py sets)",
    )
    result.add_argument(
        "--dry-run", action="store_true", help="change nothing; print what would change, with diffs"
    )
    result.add_argument(
        "--force", action="store_true", help="replace the Python files init writes when they exist"
    )
    return result


def summary(layout, plan):
    """What init found, one line a topic."""
    variables = [f"{v.name} (secret)" if v.secret else v.name for v in layout.variables]
    lock = f" ({', '.join(layout.other_lock_files)} noted)" if layout.other_lock_files else ""
    python = f"{layout.python} ({layout.python_origin})" if layout.python else "not given"
    rows = [
        ("settings", f"{layout.settings} (from {layout.settings_origin}), package {layout.package}"),
        ("layout", "src/" if layout.src else "packages at the root"),
        ("packages", ", ".join(layout.packages)),
        ("package data", ", ".join(layout.package_dirs) or "none"),
        ("data dirs", ", ".join(layout.data_dirs) or "none"),
        ("WSGI", layout.wsgi_application or "not found"),
        ("ASGI", layout.asgi_application or "none"),
        ("URLconf", layout.root_urlconf or "not found"),
        ("requirements", (layout.requirements or "none") + lock),
        ("Python", python),
        ("version", f"{layout.version} ({layout.version_origin})" if layout.version else "not given"),
        ("variables", ", ".join(variables) or "none"),
        ("local modules", ", ".join(local_module(module) for module in layout.local_modules) or "none"),
    ]
    return ["found:", *(f"  {label:<13} {value}" for label, value in rows)]


def local_module(module):
    """``netbox.configuration (netbox/configuration.py, git-ignored: 27 values)``."""
    state = "git-ignored" if module.present else "not in the source"
    return f"{module.name} ({module.path}, {state}: {len(module.values)} values)"


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        layout = detect(args.project_dir, args.settings)
        plan = make_plan(layout, force=args.force)
    except AdoptError as exc:
        print(f"init: {exc}", file=sys.stderr)
        return exc.exit_status
    lines = summary(layout, plan)
    lines.append("would change:" if args.dry_run and plan.pending else "changes:")
    lines += [f"  {describe(change)}" for change in plan.changes]
    print("\n".join(lines))
    if args.dry_run:
        for change in plan.pending:
            print(diff(change), end="")
    else:
        try:
            apply(layout.root, plan.pending)
        except OSError as exc:
            print(f"init: cannot write: {exc}", file=sys.stderr)
            return 1
    if plan.review:
        print("review:")
        print("\n".join(f"  - {item}" for item in plan.review))
    if not plan.pending:
        print("nothing to do")
    elif args.dry_run:
        print("dry run: nothing was written")
    return 0
