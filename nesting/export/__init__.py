"""Writers of a verified marker: one module per format, each writing atomically.

``write(marker, out_dir, formats)`` is the only entry point the CLI and batch use.
"""

from __future__ import annotations

from pathlib import Path

from nesting.errors import SpecError

DEFAULT_FORMATS = ("json", "png")


def _writers():
    from nesting import markerfile
    from nesting.export import plot

    return {
        "json": ("marker.json", markerfile.dump),
        "png": ("marker.png", plot.write_png),
    }


def available_formats() -> tuple[str, ...]:
    return tuple(_writers())


def parse_formats(text: str) -> tuple[str, ...]:
    """``"json,png"`` -> ("json", "png"), rejecting unknown names (a user error)."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in _writers()]
    if unknown or not names:
        raise SpecError(f"--formats: unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(_writers())}")
    return names


def write(marker, out_dir, formats=DEFAULT_FORMATS) -> list[Path]:
    """Write the marker in each format into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    for name in formats:
        filename, writer = _writers()[name]
        writer(marker, out_dir / filename)
        written.append(out_dir / filename)
    return written
