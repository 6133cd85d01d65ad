"""Course display names, which ERB reads from the LMS database and we read from a catalogue."""

from __future__ import annotations

import csv
from pathlib import Path


class CatalogueError(ValueError):
    """A course catalogue file that cannot be read."""


class CourseCatalogue:
    """course_id → display name. A course without a name simply has none in the output."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self._names = dict(names or {})

    def name(self, course_id: str) -> str | None:
        return self._names.get(course_id)

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CourseCatalogue) and self._names == other._names

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: compare, don't hash

    @classmethod
    def from_csv(cls, path: str | Path) -> CourseCatalogue:
        """Read a CSV with header `course_id,display_name`."""
        names: dict[str, str] = {}
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                missing = {"course_id", "display_name"} - set(reader.fieldnames or ())
                if missing:
                    raise CatalogueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
                for row in reader:
                    course_id = (row.get("course_id") or "").strip()
                    if course_id and row.get("display_name"):
                        names[course_id] = row["display_name"]
        except OSError as exc:
            raise CatalogueError(f"{path}: {exc.strerror or exc}") from None
        return cls(names)
