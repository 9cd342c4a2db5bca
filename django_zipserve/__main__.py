"""``python -m django_zipserve COMMAND``: tools that run outside a project's
settings: ``init``, which adopts an existing project, and ``build``, which
builds a project into one zipapp."""

import sys
from importlib import import_module

#: Command name: (module with a ``main(argv)``, one line of help).
COMMANDS = {
    "init": ("django_zipserve.adopt.cli", "adopt an existing Django project (run in its directory)"),
    "build": ("django_zipserve.zipapp.build", "build a Django project into one zipapp"),
}
USAGE = "usage: python -m django_zipserve COMMAND [--help] [OPTIONS]"


def usage():
    lines = [USAGE, "", "commands:"]
    lines += [f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        print(usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        problem = f"unknown command {argv[0]!r}" if argv else "a command is required"
        print(f"{problem}\n{usage()}", file=sys.stderr)
        return 2
    module, _ = COMMANDS[argv[0]]
    return import_module(module).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
