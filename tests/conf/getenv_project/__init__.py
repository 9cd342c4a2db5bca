"""A project whose own settings read ``os.getenv``, as many real ones do,
made configurable from django-zipserve's configuration file."""
