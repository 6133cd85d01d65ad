"""How commands speak: an error message and exit code, and tables sized for a terminal or a pipe."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def console() -> Console:
    """Rich wraps to 80 columns when not on a terminal; a pipe gets full rows instead."""
    return Console() if sys.stdout.isatty() else Console(width=200)
