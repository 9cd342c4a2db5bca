# The configuration of this site. Copy this file to configuration.py, which
# is never committed (it holds this machine's secrets), and fill it in.

#########################
#                       #
#   Required settings   #
#                       #
#########################

# The host names this site answers to; a request for any other is refused.
# Example: ALLOWED_HOSTS = ["inventory.example.com", "inventory.internal"]
ALLOWED_HOSTS = []

# The PostgreSQL database. Its password is this machine's own secret.
DATABASE = {
    "NAME": "netbox",  # database name
    "USER": "",  # PostgreSQL user name
    "PASSWORD": "",  # PostgreSQL password
    "HOST": "localhost",  # database server
    "PORT": "",  # empty for the default port
    "CONN_MAX_AGE": 300,  # seconds a connection stays open
}

# Signs sessions and password reset links: at least 50 random characters,
# e.g. from python3 -c "import secrets; print(secrets.token_urlsafe(50))".
SECRET_KEY = ""

# Peppers that API tokens are hashed with, by number, each at least 50 random
# characters. Keep every pepper that tokens still in use were made with.
API_TOKEN_PEPPERS = {
    # 1: "<at least 50 random characters>",
}

#########################
#                       #
#   Optional settings   #
#                       #
#########################

# Text shown at the top of every page.
BANNER_TOP = ""
BANNER_BOTTOM = ""  # text shown at the bottom of every page

# Origins allowed to call the API from a browser on another site.
CORS_ORIGIN_WHITELIST = ["https://inventory.example.com"]

# Never true in production: it shows source code and settings on errors.
DEBUG = False

# The mail server that sends notifications.
EMAIL = {
    "SERVER": "localhost",
    "PORT": 25,
    "USERNAME": "",
    "PASSWORD": "",
    "USE_TLS": False,
    "FROM_EMAIL": "",
}

# Anonymous visitors see nothing but the login page.
LOGIN_REQUIRED = True

# Show a maintenance banner and keep changes out.
MAINTENANCE_MODE = False

# Where uploads are stored (default: media/ beside the code).
MEDIA_ROOT = None

# Objects per page of a list.
PAGINATE_COUNT = 50

# Redis for background tasks and for caching; each may need a password.
REDIS = {
    "tasks": {"HOST": "localhost", "PORT": 6379, "USERNAME": "", "PASSWORD": "", "DATABASE": 0},
    "caching": {"HOST": "localhost", "PORT": 6379, "USERNAME": "", "PASSWORD": "", "DATABASE": 1},
}

TIME_ZONE = "UTC"
