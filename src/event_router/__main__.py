"""`python -m event_router` is the `event-router` command."""

from event_router.cli import main

main()
