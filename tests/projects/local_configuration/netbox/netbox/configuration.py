# This machine's configuration, copied from configuration_example.py and filled
# in. It is git-ignored: its values are this machine's and must never be packaged.

ALLOWED_HOSTS = ["inventory.fixture.test"]

DATABASE = {
    "NAME": "netbox",
    "USER": "netbox",
    "PASSWORD": "local-file-db-password-q8w7e6",
    "HOST": "db.fixture.test",
    "PORT": "",
    "CONN_MAX_AGE": 300,
}

SECRET_KEY = "local-file-secret-key-that-must-never-be-packaged-0123456789abcdef"

API_TOKEN_PEPPERS = {
    1: "local-file-pepper-that-must-never-be-packaged-0123456789abcdefghij",
}

BANNER_TOP = "Fixture machine"

# A parameter this machine sets that the example does not name.
RACK_ELEVATION_DEFAULT_UNIT_HEIGHT = 22
