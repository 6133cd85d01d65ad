"""Helpers shared by tests. WHERE HELPERS GO: a function, constant or fixture that more than one
test module uses belongs here, in the module named after what it holds, never in a `test_*.py`
file: no test module imports another. Fixtures the whole suite shares are registered once in
tests/conftest.py's `pytest_plugins`; test modules import plain helpers from here.

- `wait.py`: the one way to wait (`wait_until`, async `until`, `clock_moves_on`); never a sleep.
- `databases.py`: the real PostgreSQL and Redis, each fixture written once, and `store` (the
  control plane on them).
- `reference.py`: what `event-router transform` prints for the same events (the expected output).
- `traffic.py`: events and tracking-log lines fed to a router, its consumer, `settled` (the
  router's own record that every batch is answered).
- `sources.py` (bus source runner, tracking-log follower), `translate.py` (ERB comparisons, edge
  cases), `damage.py` (damaged events for property tests), `web.py`, `browser.py`.

The stand-in processes (HTTP receiver, Ralph, Kafka, S3, the router itself) stay in tests/peers/:
they run as `python -m tests.peers.…`, tests/tiers.py marks tests by those module names, and
bench/ imports them; moving them would change those three for no gain.
"""
