"""Which sizes a marker cuts, and how many garments of each: one frozen value from text to marker.

``S,M,L`` is one garment of each, ``S=1,M=2`` a size ratio (each piece of M twice), ``all``
every size the pattern file has, one of each. The text is parsed once (`Sizes.parse`);
`Sizes.resolve` matches it to a file's own size names and gives a `Sizes` again, so a spec or
a job holds the same type before and after the pattern files are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MAX_GARMENTS = 10**6  # of one size in a ratio: far beyond any cutting table, far below an overflow
ALL = "all"
_ENTRY = re.compile(r"^\s*([^=]+?)\s*(?:=\s*(\S+)\s*)?$")


@dataclass(frozen=True, slots=True)
class Sizes:
    """``ratio`` holds ``(size, garments)`` in the order given; ``every`` is ``all`` (no ratio yet).

    Bad values raise `ValueError` with the reason only: the caller names the option or field.
    """

    ratio: tuple[tuple[str, int], ...] = ()
    every: bool = False

    def __post_init__(self):
        if self.every == bool(self.ratio):
            raise ValueError("give sizes, or all, not both or neither")
        for size, count in self.ratio:
            if not isinstance(size, str) or not size.strip():
                raise ValueError(f"a size name must be text, got {size!r}")
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_GARMENTS:
                raise ValueError(f"the ratio of size {size} must be a whole number of garments in 1..{MAX_GARMENTS:g}")

    @classmethod
    def parse(cls, text: str) -> Sizes:
        """``S,M,L``, ``S=1,M=2`` or ``all``; a size given twice adds up (``S,S=2`` is S=3)."""
        if not isinstance(text, str):
            raise ValueError(f"expected text like 'S,M,L', 'S=1,M=2' or 'all', got {text!r}")
        if text.strip().lower() == ALL:
            return cls(every=True)
        pairs = []
        for entry in text.split(","):
            match = _ENTRY.match(entry)
            if not match or not match.group(1):
                raise ValueError(f"{text[:40]!r}: expected sizes like 'S,M,L' or ratios like 'S=1,M=2'")
            size, count = match.group(1), match.group(2)
            if count is not None and not (count.isdigit() and len(count) <= 7 and int(count) >= 1):
                raise ValueError(f"the ratio of size {size} must be a whole number of garments in 1..{MAX_GARMENTS:g}, "
                                 f"got {count[:12]}{'...' if len(count) > 12 else ''}")
            pairs.append((size, int(count) if count is not None else 1))
        return cls.of_pairs(pairs)

    @classmethod
    def of_pairs(cls, pairs: Iterable[tuple[str, int]]) -> Sizes:
        """The ratio of ``(size, garments)`` pairs; a size named twice adds up."""
        total: dict[str, int] = {}
        for size, count in pairs:
            if isinstance(count, bool) or not isinstance(count, int):
                raise ValueError(f"the ratio of size {size} must be a whole number of garments, got {count!r}")
            total[size] = total.get(size, 0) + count
        return cls(tuple(total.items()))

    @classmethod
    def of(cls, value) -> Sizes:
        """A `Sizes` from what a user or a file gives: a `Sizes`, text, a table ``{S = 1}`` or pairs."""
        if isinstance(value, Sizes):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, Mapping):
            return cls.of_pairs((str(size), count) for size, count in value.items())
        if isinstance(value, list | tuple) and all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
            return cls.of_pairs((str(size), count) for size, count in value)
        raise ValueError(f"expected 'S,M,L', 'S=1,M=2', 'all' or a table of size = garments, got {value!r}")

    def resolve(self, available: Sequence[str]) -> Sizes:
        """These sizes as the file names them (exactly, else ignoring case); ``all`` is each size once.

        Raises `ValueError` naming the sizes the file does not have, and listing those it has.
        """
        if self.every:
            return Sizes(tuple((size, 1) for size in available))
        unknown = [size for size, _ in self.ratio if _match(size, available) is None]
        if unknown:
            raise ValueError(f"unknown size(s) {', '.join(unknown)}; sizes: {', '.join(available) or 'none'}")
        return Sizes.of_pairs((_match(size, available), count) for size, count in self.ratio)

    def as_dict(self) -> dict[str, int]:
        """``{size: garments}``; ``all`` has no ratio until it is resolved against a file."""
        if self.every:
            raise ValueError("'all' sizes have no ratio until the pattern file is read")
        return dict(self.ratio)

    def __str__(self) -> str:
        """The text form, which `parse` reads back to an equal value."""
        return ALL if self.every else ",".join(f"{size}={count}" for size, count in self.ratio)



def _match(size: str, candidates) -> str | None:
    """The candidate equal to ``size``, exactly or ignoring case (when that is unambiguous)."""
    if size in candidates:
        return size
    folded = [c for c in candidates if c.casefold() == size.casefold()]
    return folded[0] if len(folded) == 1 else None
