"""The server fixtures of tests/server, for the probe tests here."""

from tests.server.conftest import api  # noqa: F401  (a fixture)
