"""Text colours of the admin UI against their backgrounds, computed from app.css itself.

WCAG 2 asks for a contrast ratio of at least 4.5:1 for normal text; state badges are 12 px,
so they get no large-text allowance. Any rule that sets both a text colour and a background
is checked, so a new badge colour cannot slip under the bar.
"""

from __future__ import annotations

import re
from pathlib import Path

import event_router.web

CSS = (Path(event_router.web.__file__).parent / "static" / "app.css").read_text()
HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\b")


def variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.S)
    assert root, "app.css has no :root block"
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root.group(1)))


def rules() -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) for every plain rule (comments and @media wrappers dropped)."""
    text = re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    text = re.sub(r"@media[^{]*\{", "", text)
    out = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = dict(
            (name.strip(), value.strip())
            for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)
        )
        out.append((" ".join(selector.split()), declarations))
    return out


def colour(value: str, names: dict[str, str]) -> str | None:
    value = value.split("!")[0].strip()
    var = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if var:
        value = names[var.group(1)].strip()
    found = HEX.fullmatch(value)
    if not found:
        return None  # none, transparent, inherit...: not a colour pair to check
    digits = found.group(1)
    return digits if len(digits) == 6 else "".join(d * 2 for d in digits)


def luminance(hex_digits: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def pairs() -> dict[str, tuple[str, str]]:
    names = variables()
    out = {}
    for selector, declarations in rules():
        ink = declarations.get("color")
        paper = declarations.get("background", declarations.get("background-color"))
        if ink and paper:
            fg, bg = colour(ink, names), colour(paper, names)
            if fg and bg:
                out[selector] = (fg, bg)
    return out


def test_the_calculation_matches_known_ratios() -> None:
    assert round(contrast("000000", "ffffff"), 1) == 21.0
    assert round(contrast("777777", "ffffff"), 2) == 4.48  # the classic just-too-light grey


def test_every_badge_and_coloured_rule_reaches_4_5_to_1() -> None:
    found = pairs()
    badges = [s for s in found if ".state" in s or ".badge" in s]
    # Every state the UI can show has a rule of its own (or the neutral default).
    for state in ("running", "retrying", "paused", "not-running", "unknown", "replayed"):
        assert any(f".state-{state}" in s for s in badges), state
    assert ".state, .badge" in found and ".badge.resolved" in found
    weak = {
        selector: round(contrast(fg, bg), 2)
        for selector, (fg, bg) in found.items()
        if contrast(fg, bg) < 4.5
    }
    assert weak == {}, f"contrast below 4.5:1: {weak}"
