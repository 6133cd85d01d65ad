"""Where events come from: files (tracking logs, JSON), HTTP ingest, the event bus."""
