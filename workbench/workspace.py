"""The one folder the workbench reads and writes: every path it touches is checked to lie inside.

Uploaded patterns and orders go to ``uploads/``, every verified marker to ``markers/NAME/`` (the
files ``nest marker --out`` writes), every cut plan to ``plans/NAME/`` (``nest plan --out``'s).
A name from the page is a plain file name, never a path.
"""

from __future__ import annotations

import re
from pathlib import Path

from nesting.atomic import atomic_path

PATTERN_SUFFIXES = (".dxf", ".json")
ORDER_SUFFIXES = (".toml",)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,120}")


class WorkspaceError(ValueError):
    """A request for a path outside the workspace, or a name that is not a plain file name."""


class Workspace:
    def __init__(self, root):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.uploads = self.root / "uploads"
        self.markers = self.root / "markers"
        self.plans = self.root / "plans"

    def inside(self, relative: str) -> Path:
        """The resolved path of ``relative`` (links followed), refused unless it lies in the workspace."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise WorkspaceError(f"{relative}: outside the workspace")
        return path

    def pattern(self, relative: str) -> Path:
        """An existing pattern file (.dxf or .json) inside the workspace."""
        path = self.inside(relative)
        if path.suffix.lower() not in PATTERN_SUFFIXES:
            raise WorkspaceError(f"{relative}: not a pattern file (.dxf) or instance (.json)")
        if not path.is_file():
            raise WorkspaceError(f"{relative}: no such file in the workspace")
        return path

    def patterns(self, limit: int = 500) -> list[str]:
        """Pattern files in the workspace, relative to it: hidden folders, markers and links out skipped."""
        found = []
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            if (path.suffix.lower() in PATTERN_SUFFIXES and relative.parts[0] not in ("markers", "plans")
                    and not any(part.startswith(".") for part in relative.parts)
                    and path.resolve().is_relative_to(self.root) and path.is_file()):
                found.append(relative.as_posix())
                if len(found) == limit:
                    break
        return found

    def save_upload(self, name: str, data: bytes, suffixes=PATTERN_SUFFIXES) -> Path:
        """Write an uploaded file as ``uploads/NAME`` (atomically); ``name`` must be a plain file name."""
        if not _NAME.fullmatch(name or "") or ".." in name:
            raise WorkspaceError(f"{name!r}: not a plain file name (letters, digits, '.', '_', '-', space)")
        if Path(name).suffix.lower() not in suffixes:
            kind = "an order (.toml)" if suffixes == ORDER_SUFFIXES else "a pattern (.dxf) or a JSON instance (.json)"
            raise WorkspaceError(f"{name}: upload {kind}")
        path = self.uploads / name
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return path

    def new_marker_folder(self, stem: str) -> Path:
        """A fresh, empty ``markers/STEM-NNN`` folder (created, so that no other marker takes the name)."""
        return _new_folder(self.markers, stem, "marker")

    def new_plan_folder(self, stem: str) -> Path:
        """A fresh, empty ``plans/STEM-NNN`` folder."""
        return _new_folder(self.plans, stem, "plan")


def _new_folder(parent: Path, stem: str, default: str) -> Path:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or default
    parent.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(p.name.rsplit("-", 1)[1]) for p in parent.glob(f"{stem}-[0-9][0-9][0-9]")), default=0)
    folder = parent / f"{stem}-{number:03d}"
    folder.mkdir()
    return folder
