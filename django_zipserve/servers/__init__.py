"""The web servers a project can start from its own entry point."""
