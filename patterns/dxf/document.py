"""Opening a DXF file: ezdxf's strict reader first, its recover mode for damaged files.

Also repairs text that a writer stored in another encoding than the one the file declares
(R12 text without ``$DWGCODEPAGE`` is read as cp1252; Richpeace writes GBK Chinese there).
"""

from __future__ import annotations

import re
from pathlib import Path

import ezdxf
from ezdxf import recover

from patterns.errors import PatternError
from patterns.report import Code, note

_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_TEXT_END = re.compile(rb"(?:^|\n)[ \t]*0[ \t]*\r?\nEOF[ \t\r\n\x00\x1a]*$", re.IGNORECASE)
_BINARY_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"


def open_dxf(path: Path, report: dict):
    """The ezdxf document of ``path``; a damaged file is recovered and its fixes reported.

    A text DXF that does not end with ``0 EOF`` was cut short (an interrupted copy or export):
    ezdxf would silently drop its unfinished section, and the pieces in it, so it is refused.
    """
    document = _read(path, report)
    if _cut_short(path):
        raise PatternError(path, "the file is cut short: it does not end with the DXF end marker (0 / EOF), "
                                 "so pieces may be missing; copy or export it again")
    return document


def _cut_short(path: Path) -> bool:
    with open(path, "rb") as file:
        if file.read(len(_BINARY_SENTINEL)) == _BINARY_SENTINEL:
            return False
        file.seek(0, 2)
        file.seek(max(file.tell() - 64, 0))
        tail = file.read()
    return _TEXT_END.search(tail) is None


def _read(path: Path, report: dict):
    try:
        return ezdxf.readfile(path)
    except OSError as exc:
        if exc.errno is not None:
            raise PatternError(path, f"cannot read file: {exc.strerror}") from None
        raise PatternError(path, "not a readable DXF file (no DXF structure found)") from None
    except Exception as exc:  # noqa: BLE001 - hostile bytes break ezdxf's parser in many ways
        first_problem = _describe(exc)
    try:
        doc, auditor = recover.readfile(path)
    except Exception as exc:  # noqa: BLE001 - whatever recovery trips on, the file is unreadable
        raise PatternError(path, f"not a readable DXF file ({first_problem}; recovery failed: {_describe(exc)})") from None
    note(report, Code.RECOVERED, f"damaged DXF ({first_problem}): read with ezdxf.recover, "
                                 f"{len(auditor.fixes)} fix(es), {len(auditor.errors)} error(s)")
    for entry in auditor.fixes:
        note(report, Code.RECOVER_FIX, f"recover fixed: {entry.message}", audit_code=int(entry.code))
    for entry in auditor.errors:
        note(report, Code.UNKNOWN_ENTITY, f"recover could not fix: {entry.message}", audit_code=int(entry.code))
    return doc


def _describe(error: Exception) -> str:
    """ezdxf's own errors explain themselves; a bare IndexError needs its name. A value
    quoted from the file (a 5,000-digit integer) is cut to a readable length."""
    text = str(error) if isinstance(error, ezdxf.DXFError) and str(error) else f"{type(error).__name__}: {error}"
    return re.sub(r"(\S{40})\S{20,}", r"\1...", text)


def text_decoder(doc):
    """A function that repairs mis-decoded text of ``doc``, or returns it unchanged.

    Only files that do not declare a code page are repaired: their bytes are recovered from
    the cp1252 reading and decoded as UTF-8, else as GBK when every run of non-ASCII bytes
    pairs up (GBK characters are two bytes) and there are at least two such characters, so
    that a lone accented Latin letter is never taken for Chinese.
    """
    if doc.header.get("$DWGCODEPAGE") or doc.encoding.lower().replace("-", "") not in ("cp1252", "windows1252"):
        return lambda text: (text, None)

    def decode(text: str):
        if text.isascii():
            return text, None
        try:
            raw = text.encode("cp1252", errors="surrogateescape")
        except UnicodeEncodeError:
            return text, None
        for encoding in ("utf-8", "gbk"):
            runs = _HIGH_RUN.findall(raw)
            if encoding == "gbk" and (any(len(run) % 2 for run in runs) or sum(map(len, runs)) < 4):
                continue
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError:
                continue
        return text, None

    return decode


def entity_text(entity, decode, report: dict) -> str:
    """The text of a TEXT/MTEXT entity, repaired by ``decode``; a repair is reported."""
    raw = entity.dxf.text if entity.dxftype() == "TEXT" else entity.plain_text()
    text, encoding = decode(raw)
    if encoding:
        note(report, Code.TEXT_DECODED, f"text decoded as {encoding.upper()}: {text!r}", encoding=encoding)
    return text
