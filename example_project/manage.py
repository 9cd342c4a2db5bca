#!/usr/bin/env python
"""Django's command-line utility for the example project."""

from example_project.__main__ import main

if __name__ == "__main__":
    main()
