"""Helpers shared by tests: put every function, constant or fixture that more than one test module
uses here, in a module named after what it holds, never in a `test_*.py` file (no test module
imports another). Pytest fixtures shared by the whole suite are registered once, in
tests/conftest.py's `pytest_plugins`; a test module imports plain helpers from here.

- `wait.py`: the one way to wait for something (`wait_until`, async `until`); never a fixed sleep.
- `databases.py`: the real PostgreSQL and Redis, each fixture written once.
- `reference.py`: what `event-router transform` prints for the same events (the expected output).
- `traffic.py`: events and tracking-log lines the end-to-end tests feed a router, and its consumer.
- the other modules hold helpers of one area (sources, translate, web, ui).

The stand-in processes (LRS receiver, Ralph, Kafka, S3, the router itself) stay in tests/peers/:
they are started as `python -m tests.peers.…`, and tests/tiers.py marks tests by those names.
"""
