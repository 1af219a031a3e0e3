"""Atomic output: files through a temporary file and a rename, output folders as a whole.

An interrupted run leaves either the old file or the new complete one, never half a cut file;
and a marker's folder holds either the old complete set of files or the new one, never a mix
(a new marker.json beside an earlier run's cut files would send a cutter the wrong marker).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

from nesting.errors import OutputError

# Files a marker folder is made of: an earlier run's that the new set lacks are removed with the swap.
MARKER_FILES = frozenset({"marker.json", "marker.png", "marker.dxf", "marker.plt", "marker.svg", "marker.pdf", "job.json"})
_INCOMPLETE = ".incomplete-"  # staging folders: ".OUT.incomplete-PID-XXXX", beside OUT
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it over ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; cut files are shared with cutters
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def check_folder(out, members=MARKER_FILES) -> Path:
    """``out`` as an absolute path, or an `OutputError` before any work if it cannot take a marker.

    It must name a folder (or a folder to create) whose parent can be written, other than the
    current folder or one above it (the whole folder is replaced), holding no sub-folder but
    those named in ``members`` (the set's own names; files that are not the set's are kept).
    """
    if not str(out).strip():
        raise OutputError("--out: the output folder is empty; name a folder for the marker")
    path = Path(out).expanduser().absolute()
    resolved = path.resolve()
    if resolved == resolved.parent or resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
        raise OutputError(f"--out {out}: the marker replaces its output folder as a whole; name a folder of its own "
                          "(not the current folder or one above it)")
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out: {out} is a file, not a folder")
    if path.is_dir():
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False) and not _stale(entry.name) and entry.name not in members:
                raise OutputError(f"--out {out}: holds the folder {entry.name}, which is not part of a marker; "
                                  "write the marker into a folder of its own")
    existing = next(p for p in (resolved.parent, *resolved.parent.parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"--out {out}: {existing} is a file, not a folder")
    try:  # the staging folder is made beside the output folder: prove now that it can be
        os.rmdir(tempfile.mkdtemp(prefix=".nest-probe-", dir=existing))
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot create a folder in {existing}: {exc.strerror or exc}") from None
    return resolved


@contextlib.contextmanager
def staged_folder(out, keep=(), members=MARKER_FILES):
    """Yield an empty staging folder beside ``out``; when the block succeeds it replaces ``out``.

    The swap is one atomic exchange of the two folders (Linux ``renameat2``; elsewhere two
    renames), so ``out`` holds the old complete set or the new one. Files of ``out`` that are
    not among ``members`` (a marker's files by default), and those named in ``keep``, are
    carried into the new set (hard links); an earlier run's members are dropped. Staging folders left by a killed run are
    removed the next time. Raises `OutputError` (naming ``out``) when writing fails.
    """
    out = check_folder(out, members)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}{_INCOMPLETE}{os.getpid()}-", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot create a folder beside it: {exc.strerror or exc}") from None
    try:
        try:
            yield staging
            _carry_over(out, staging, set(keep), members)
            _swap(staging, out)
        except OSError as exc:
            raise OutputError(f"--out {out}: cannot write the marker: {exc.strerror or exc}; "
                              "the folder was left as it was") from None
    finally:
        _discard(staging)


def remove_stale(out: Path) -> None:
    """Remove the staging folders of ``out`` whose process is gone (killed while writing)."""
    prefix = f".{out.name}{_INCOMPLETE}"
    for entry in os.scandir(out.parent):
        if entry.name.startswith(prefix):
            pid = entry.name[len(prefix):].partition("-")[0]
            if pid.isdigit() and not process_alive(int(pid)):
                _discard(Path(entry.path))


def _carry_over(out: Path, staging: Path, keep: set, members) -> None:
    if not out.is_dir():
        return
    os.chmod(staging, stat.S_IMODE(out.stat().st_mode))
    for entry in os.scandir(out):
        if _stale(entry.name) or (entry.name in members and entry.name not in keep):
            continue
        if (staging / entry.name).exists():
            continue
        if entry.is_dir(follow_symlinks=False):
            raise OSError(errno.EEXIST, f"a folder {entry.name} appeared while the marker was written")
        try:
            os.link(entry.path, staging / entry.name, follow_symlinks=False)
        except OSError:
            shutil.copy2(entry.path, staging / entry.name, follow_symlinks=False)


def _swap(staging: Path, out: Path) -> None:
    """Exchange ``staging`` and ``out`` (``out`` may not exist yet); ``staging`` ends with the old set."""
    umask = os.umask(0)
    os.umask(umask)
    if not out.exists():
        os.chmod(staging, 0o777 & ~umask)
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}{_INCOMPLETE}{os.getpid()}-", dir=out.parent))
    os.rename(out, old / "old")  # no atomic exchange here: the old set moves aside for a moment
    os.rename(staging, out)
    os.rename(old, staging)


def _exchange(a: Path, b: Path) -> bool:
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # a filesystem without the exchange
    raise OSError(code, os.strerror(code), str(b))


def _discard(folder: Path) -> None:
    """Remove a staging folder, its index file first: it never looks like a finished marker or plan."""
    for marker in (folder / name for name in ("marker.json", "plan.json", "old/marker.json", "old/plan.json")):
        with contextlib.suppress(OSError):
            marker.unlink()
    shutil.rmtree(folder, ignore_errors=True)


def _stale(name: str) -> bool:
    """Leftovers of interrupted writes inside a marker folder (temporary files, old staging folders)."""
    return name.startswith(".writing-") or (name.startswith(".") and name.endswith(".tmp")
                                            and name[1:].split(".tmp")[0].rsplit(".", 1)[0] in MARKER_FILES)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
