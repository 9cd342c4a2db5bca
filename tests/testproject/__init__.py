"""A minimal project for the server tests: slow and introspection views."""

__version__ = "0.0.1"
