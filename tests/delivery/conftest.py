"""Fixtures for delivery tests: the real PostgreSQL database of the store tests."""

from tests.store.databases import postgres_database

__all__ = ["postgres_database"]
