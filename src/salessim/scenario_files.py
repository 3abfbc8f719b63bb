"""The CSV files a scenario may name, read and inlined into the scenario's data.

``pipeline_file`` (the open deals at ``start``) and ``deal_size.empirical_file`` (historical
deal values) are read relative to the scenario file's folder and replaced in the data by
what they hold, so the scenario stored in a results file reruns without the CSV beside
it: the pipeline file's text verbatim as ``pipeline_csv`` (a YAML block of CSV lines: a
3,000-deal pipeline stays one fast-to-read string, and errors keep their line numbers),
the deal values as ``deal_size: {empirical: [...]}``.

The readers are strict: a cell that is not what its column needs is an error naming the
file, the line, the column and the value; blank lines are skipped. Nothing is repaired
silently. Values are converted (numbers, empty optional cells as absent) and then
validated by the schema like inline entries; :func:`inline_files` returns a map from the
inlined entries to their lines so that those errors name the line too.
"""

from __future__ import annotations

import csv
import io
import math
import re
import stat
from pathlib import Path
from typing import Any

from .limits import MAX_TABLE_FILE_BYTES

__all__ = ["PIPELINE_COLUMNS", "inline_files", "read_pipeline_csv", "parse_pipeline_csv", "read_amounts_csv", "write_pipeline_csv", "pipeline_csv_text",
           "relocate"]

#: columns of a pipeline file: required ones first
PIPELINE_COLUMNS = ("id", "territory", "owner", "age_months", "amount", "win_probability")
_REQUIRED = ("id", "territory", "age_months")
_NUMBER = {"age_months", "amount", "win_probability"}

Problem = tuple[str, str]


def _read_text(path: Path, what: str) -> tuple[str | None, Problem | None]:
    try:
        info = path.stat()
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_TABLE_FILE_BYTES:
            return None, (what, f"{path} is {info.st_size:,} bytes, more than the limit of {MAX_TABLE_FILE_BYTES:,} "
                                "(docs/limits.md)")
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            return None, (what, f"{path} is not a regular file (a device, pipe or socket is never read)")
        return path.read_text(encoding="utf-8-sig"), None  # a BOM from spreadsheet exports is dropped
    except FileNotFoundError:
        return None, (what, f"no such file: {path}")
    except IsADirectoryError:
        return None, (what, f"is a directory, not a CSV file: {path}")
    except (OSError, UnicodeDecodeError) as exc:
        return None, (what, f"cannot read {path}: {exc}")


def _parse_number(text: str) -> Any:
    """A number as a CSV cell writes it (``1200``, ``1_200``, ``1e3``); ints stay ints; anything else as text."""
    raw = text.strip().replace("_", "")
    if re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    try:
        value = float(raw)
    except ValueError:
        return text.strip()
    return value if math.isfinite(value) else text.strip()


def read_pipeline_csv(path: Path, label: str) -> tuple[list[dict[str, Any]], list[int], list[Problem]]:
    """Open deals from a CSV file: (entries, the line of each entry, problems); see :func:`parse_pipeline_csv`."""
    text, problem = _read_text(path, "pipeline_file")
    if problem:
        return [], [], [problem]
    return parse_pipeline_csv(text, f"pipeline_file {label}")


def parse_pipeline_csv(text: str, where: str) -> tuple[list[dict[str, Any]], list[int], list[Problem]]:
    """Open deals from CSV text: (entries, the line of each entry, problems).

    The header names the columns (any order, case-insensitive, surrounding spaces
    ignored); ``id``, ``territory`` and ``age_months`` are required, ``owner``, ``amount`` and
    ``win_probability`` optional (an empty cell: absent). ``where`` names the text in
    messages (``pipeline_file open_deals.csv``, ``pipeline_csv``).
    """
    rows = list(csv.reader(io.StringIO(text)))
    lines = [i + 1 for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    if not lines:
        return [], [], [(where, "is empty; it needs a header line with the columns " + ", ".join(PIPELINE_COLUMNS))]
    header_line = lines[0]
    header = [cell.strip().lower() for cell in rows[header_line - 1]]
    problems: list[Problem] = []
    unknown = [h for h in header if h not in PIPELINE_COLUMNS]
    if unknown:
        problems.append((f"{where} line {header_line}", f"unknown column {unknown[0]!r} (columns: {', '.join(PIPELINE_COLUMNS)})"))
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        problems.append((f"{where} line {header_line}", f"missing column {', '.join(map(repr, missing))} "
                         f"(required: {', '.join(_REQUIRED)})"))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        problems.append((f"{where} line {header_line}", f"column {repeated[0]!r} appears twice"))
    if problems:
        return [], [], problems
    entries, entry_lines = [], []
    for line in lines[1:]:
        row = rows[line - 1]
        if len(row) > len(header):
            problems.append((f"{where} line {line}", f"has {len(row)} cells, the header has {len(header)} columns"))
            continue
        entry: dict[str, Any] = {}
        for column, cell in zip(header, row):
            if not cell.strip():
                continue  # an empty optional cell; an empty required one is reported by the schema
            entry[column] = _parse_number(cell) if column in _NUMBER else cell.strip()
        entries.append(entry)
        entry_lines.append(line)
    return entries, entry_lines, problems  # a header alone is an empty pipeline (a CRM export with no open deals)


def read_amounts_csv(path: Path, label: str, where: str) -> tuple[list[float], list[Problem]]:
    """Deal values from a CSV file: one column of numbers, or the column named ``amount``.

    A first line that is not a number is a header. ``where`` is the key's location for messages.
    """
    text, problem = _read_text(path, where)
    if problem:
        return [], [problem]
    rows = list(csv.reader(io.StringIO(text)))
    lines = [i + 1 for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    if not lines:
        return [], [(where, f"{label} is empty; it needs one deal value per line")]
    first = [cell.strip() for cell in rows[lines[0] - 1]]
    column = 0
    if not isinstance(_parse_number(first[0]), (int, float)):  # a header line
        names = [c.lower() for c in first]
        if len(names) > 1:
            if "amount" not in names:
                return [], [(f"{where} ({label} line {lines[0]})", f"has several columns ({', '.join(first)}) and none named 'amount'")]
            column = names.index("amount")
        lines = lines[1:]
    values, problems = [], []
    for line in lines:
        row = rows[line - 1]
        cell = row[column].strip() if column < len(row) else ""
        value = _parse_number(cell)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
            problems.append((f"{where} ({label} line {line})", f"must be a deal value > 0, got {cell!r}"))
            continue
        values.append(float(value))
    if not values and not problems:
        problems.append((where, f"{label} lists no deal values"))
    return values, problems


def inline_files(data: dict[str, Any], base_dir: Path
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[int, str], list[Problem], list[Path]]:
    """Replace ``pipeline_file`` and every ``deal_size.empirical_file`` in ``data`` by their contents.

    Returns (data, checked, {pipeline entry index: "FILE line N"}, problems, files read): ``data`` (changed
    in place) is what the scenario stores, with ``pipeline_csv`` text; ``checked`` is what the
    schema validates, the same with the CSV parsed into ``pipeline`` entries. Keys whose file
    cannot be read are left as they are (and reported).
    """
    problems: list[Problem] = []
    lines: dict[int, str] = {}
    files: list[Path] = []
    given = [k for k in ("pipeline", "pipeline_file", "pipeline_csv") if data.get(k) is not None]
    if len(given) > 1:
        problems.append((given[1], f"give one of pipeline (inline), pipeline_file and pipeline_csv, got {' and '.join(given)}"))
    label = data.get("pipeline_file")
    where = "pipeline_csv"
    if isinstance(label, str) and len(given) == 1:
        text, problem = _read_text(base_dir / label, "pipeline_file")
        if problem:
            problems.append(problem)
        else:
            data["pipeline_csv"] = text
            del data["pipeline_file"]
            files.append(base_dir / label)
            where = f"pipeline_file {label}"
    checked = dict(data)
    if isinstance(data.get("pipeline_csv"), str) and len(given) == 1:
        entries, entry_lines, found = parse_pipeline_csv(data["pipeline_csv"], where)
        problems.extend(found)
        checked["pipeline"] = entries
        del checked["pipeline_csv"]
        lines = {i: f"{where} line {n}" for i, n in enumerate(entry_lines)}
    places: list[tuple[str, Any]] = [("defaults", data.get("defaults"))]
    territories = data.get("territories")
    if isinstance(territories, list):
        places += [(f"territories[{i}]", t) for i, t in enumerate(territories)]
    for where, mapping in places:
        deal = mapping.get("deal_size") if isinstance(mapping, dict) else None
        if not isinstance(deal, dict) or not isinstance(deal.get("empirical_file"), str):
            continue
        if "empirical" in deal:
            continue  # the schema reports "not both"
        label = deal["empirical_file"]
        values, found = read_amounts_csv(base_dir / label, label, f"{where}.deal_size.empirical_file")
        problems.extend(found)
        if not found:
            deal["empirical"] = values
            del deal["empirical_file"]
            files.append(base_dir / label)
    return data, checked, lines, problems, files


def relocate(problems: list[Problem], lines: dict[int, str]) -> list[Problem]:
    """Name the file and line of problems found in entries inlined from a pipeline file."""
    if not lines:
        return problems
    out = []
    for loc, msg in problems:
        m = re.match(r"^pipeline\[(\d+)\](?:\.(.*))?$", loc)
        if m and int(m.group(1)) in lines:
            column = f", column {m.group(2)}" if m.group(2) else ""
            out.append((f"{lines[int(m.group(1))]}{column}", msg))
        else:
            out.append((loc, msg))
    return out


def pipeline_csv_text(deals: list[dict[str, Any]]) -> str:
    """Open deals as pipeline CSV text (the columns of :data:`PIPELINE_COLUMNS`; None as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PIPELINE_COLUMNS)
    for deal in deals:
        writer.writerow(["" if deal.get(c) is None else deal[c] for c in PIPELINE_COLUMNS])
    return buffer.getvalue()


def write_pipeline_csv(deals: list[dict[str, Any]], path: Path) -> None:
    """Write open deals as a pipeline CSV file, atomically."""
    from ._files import write_atomic

    text = pipeline_csv_text(deals)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
