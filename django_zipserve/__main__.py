"""``python -m django_zipserve build``: build a project into one zipapp."""

import sys

COMMANDS = {"build": "django_zipserve.zipapp.build"}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m django_zipserve build [--help] [OPTIONS]", file=sys.stderr)
        return 2
    from importlib import import_module

    return import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
