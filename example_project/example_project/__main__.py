"""Command-line entry point of the example project."""

from django_zipserve.entrypoint import make_main

main = make_main("example_project.settings")

if __name__ == "__main__":
    main()
