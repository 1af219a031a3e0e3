"""What a pattern file holds, as ``nest info`` shows it: one row per stored piece per size.

The same document is printed as a table or as JSON (``--json``), so scripts and people read
the same numbers: name, size, quantity, fabric, area, bounding box, vertices, grain,
notches and holes, plus the import report (repairs, gaps closed, warnings).
"""

from __future__ import annotations

from pathlib import Path

from patterns import read_pieces
from patterns.report import REPAIR_CODES

COLUMNS = ("name", "size", "quantity", "fabric", "area_cm2", "bbox_mm", "vertices", "grain", "notches", "holes")


def pattern_info(path, **options) -> dict:
    """The info document of a pattern file (see `patterns.read_pieces` for ``options``)."""
    pieces, report = read_pieces(path, **options)
    records = [r.as_dict() if hasattr(r, "as_dict") else r for r in report.get("records", [])]
    return {
        "file": str(path),
        "units": report.get("units", "mm"),
        "pieces": [piece_row(piece) for piece in pieces],
        "report": {**report, "records": records},
    }


def piece_row(piece) -> dict:
    """One piece's row: counts, area (mm² and cm²) and bounding box in its grain frame."""
    outline = piece.outline
    minx, miny, maxx, maxy = outline.bounds
    return {
        "name": piece.name,
        "size": piece.size,
        "quantity": piece.quantity,
        "mirrored_quantity": piece.mirrored_quantity,
        "fabric": piece.fabric,
        "area_mm2": outline.area,
        "bbox": [minx, miny, maxx, maxy],
        "vertices": len(outline.exterior.coords) - 1 + sum(len(r.coords) - 1 for r in outline.interiors),
        "grain": piece.grain_found,
        "notches": len(piece.annotations.notches),
        "holes": len(outline.interiors),
        "folded": piece.folded,
        "block": piece.block,
    }


def quantity_text(as_drawn: int, mirrored: int) -> str:
    """``2``, or ``1+1m`` for one as drawn plus one mirrored (an ASTM ``1,1`` pair)."""
    return f"{as_drawn}+{mirrored}m" if mirrored else str(as_drawn)


def format_table(info: dict) -> str:
    """The info document as a text table followed by the import report."""
    report = info["report"]
    rows = [[_cell(row, column) for column in COLUMNS] for row in info["pieces"]]
    headers = ["piece", "size", "qty", "fabric", "area cm²", "bbox mm", "vertices", "grain", "notches", "holes"]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(headers)]
    numeric = {2, 4, 6, 8, 9}

    def line(cells):
        padded = (c.rjust(w) if k in numeric else c.ljust(w) for k, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded).rstrip()

    lines = [f"{Path(info['file']).name}: {_describe(report)}", line(headers), line(["-" * w for w in widths])]
    lines += [line(r) for r in rows]
    records = report.get("records")
    if records is None:  # a JSON instance's report: plain lists
        for title in ("repairs", "warnings"):
            if report.get(title):
                lines.append(f"{title}:")
                lines += [f"  {entry}" for entry in report[title]]
        return "\n".join(lines)
    for title, repair in (("repairs", True), ("warnings", False)):
        chosen = [r for r in records if (r["code"] in REPAIR_CODES) == repair]
        if chosen:
            lines.append(f"{title}:")
            lines += [f"  {entry}" for entry in _by_piece(chosen)]
    return "\n".join(lines)


def _by_piece(records: list[dict]) -> list[str]:
    """One line per file-level record, then per piece one line per kind of record: the first
    message, and how many more of the same kind (a graded piece repeats one repair per size)."""
    lines, groups = [], {}
    for record in records:
        if record["piece"] is None or record["code"] == "refused-piece":
            lines.append(record["message"] if record["piece"] is None else f"{record['piece']}: {record['message']}")
        else:
            groups.setdefault((record["piece"], record["code"]), []).append(record)
    for (piece, _code), group in groups.items():
        more = f" (and {len(group) - 1} more like it)" if len(group) > 1 else ""
        lines.append(f"{piece}: {group[0]['message']}{more}")
    return lines


def _describe(report: dict) -> str:
    parts = [f"{report.get('pieces', 0)} pieces"]
    if report.get("flavor"):
        parts.append(report["flavor"].upper() if report["flavor"] != "generic" else "generic DXF")
    if report.get("style"):
        parts.append(f"style {report['style']}")
    if report.get("sizes"):
        parts.append(f"{len(report['sizes'])} size(s): {', '.join(report['sizes'])}")
    if report.get("file_units"):
        parts.append(f"file units {report['file_units']} (from {report.get('units_from')}), shown in mm")
    if report.get("source_marker"):
        source = report["source_marker"]
        parts.append(f"source marker {source['length']:.1f} mm long on {source['width']:.1f} mm, "
                     f"utilization {100 * source['utilization']:.2f} %")
    if report.get("refused"):
        parts.append(f"{len(report['refused'])} piece(s) not imported (see warnings)")
    if report.get("largest_gap_mm"):
        parts.append(f"largest gap closed {report['largest_gap_mm']:.3f} mm")
    return "; ".join(parts)


def _cell(row: dict, column: str) -> str:
    if column == "area_cm2":
        return f"{row['area_mm2'] / 100:.1f}"
    if column == "bbox_mm":
        minx, miny, maxx, maxy = row["bbox"]
        return f"{maxx - minx:.1f} x {maxy - miny:.1f}"
    if column == "quantity":
        return quantity_text(row["quantity"], row["mirrored_quantity"])
    if column == "grain":
        return "yes" if row["grain"] else "no"
    value = row[column]
    return "-" if value is None else str(value)
