"""Serve a Django project from one file: server commands, config, static files."""

__version__ = "0.1.0"
