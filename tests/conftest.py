"""Session-wide fixtures: real servers, started once per test run."""

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.store",
    "tests.fixtures.browser",
    "tests.fixtures.mail",
]
