"""The router's HTTP face: ingest, health, status, the admin REST API and UI, metrics."""
