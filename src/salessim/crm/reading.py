"""Files to tables of text: CSV (any common encoding and delimiter) and xlsx.

Every cell arrives as text (or NA when empty), with the row number a person sees when
opening the file in a spreadsheet (the header is row 1), so that every later problem can
name its row. CSV is read with pyarrow's parser (fast, handles quoted newlines); rows with
the wrong number of fields, such as the footer lines of a Salesforce report export
("Grand Totals", "Confidential Information..."), are set aside and reported, never
guessed at. xlsx is read with calamine (a Rust reader, many times faster than openpyxl on
large sheets).
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .mapping import CrmError

__all__ = ["TextTable", "read_table", "CSV_SUFFIXES", "EXCEL_SUFFIXES"]

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


@dataclass
class TextTable:
    """A file's cells as text: ``frame`` (one str column per header), ``rows`` (int, spreadsheet
    row number of each record), ``broken`` (row, text and field count of rows set aside) and
    ``notes`` (how the file was read: encoding, delimiter)."""

    path: str
    frame: pd.DataFrame
    rows: np.ndarray
    broken: list[tuple[int, str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fields: int = 0
    _text: dict = field(default_factory=dict, repr=False)

    def text(self, column: str) -> pd.Series:
        """The column as stripped text with NA for empty cells (computed once per column)."""
        if column not in self._text:
            from .parsing import as_text

            self._text[column] = as_text(self.frame[column])
        return self._text[column]


def _encoding(head: bytes) -> tuple[str, str | None]:
    """The file's encoding from its byte-order mark, else UTF-8 if it decodes, else Windows-1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "read as UTF-16 (byte-order mark)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "cp1252", "not UTF-8: read as Windows-1252"
    return "utf-8", None


def _read_csv(path: Path) -> TextTable:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if not head.strip():
        raise CrmError(f"{path}: the file is empty")
    encoding, note = _encoding(head)
    text_head = head.decode(encoding, errors="replace")
    first = text_head.splitlines()[0] if text_head.splitlines() else ""
    # the delimiter is the candidate that splits the header into the most fields
    delimiter = max([",", ";", "\t", "|"], key=lambda d: len(next(csv.reader([first], delimiter=d))))
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    if len(header) < 2:
        raise CrmError(f"{path}: cannot find columns in the first line {first[:80]!r}; "
                       "an export starts with a header row such as 'Opportunity ID,Stage,Amount,...'")
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise CrmError(f"{path}: the header names column {dupes[0]!r} more than once; rename one of them")
    broken: list[tuple[int, str, int]] = []

    def skip(row) -> str:
        broken.append((int(row.number) if row.number is not None else -1, row.text, int(row.actual_columns)))
        return "skip"

    names = [h or f"column {i + 1}" for i, h in enumerate(header)]
    source = path if encoding in ("utf-8", "utf-8-sig") else io.BytesIO(path.read_bytes().decode(encoding).encode("utf-8"))
    try:
        table = pcsv.read_csv(
            source,
            # one thread: the parser then knows every row's number, which each problem reports
            read_options=pcsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                                            invalid_row_handler=skip),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise CrmError(f"{path}: not a readable CSV file: {exc}") from None
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    # pyarrow numbers rows after the skipped header from 2 (the header is row 1) but
    # counts broken rows too, so the kept rows' numbers are the ones not set aside
    bad = np.array(sorted(r for r, _, _ in broken), dtype=np.int64)
    total = len(frame) + len(bad)
    rows = np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), bad, assume_unique=True)
    notes = [n for n in (note, None if delimiter == "," else f"delimiter {delimiter!r}") if n]
    return TextTable(str(path), frame, rows, broken, notes, len(names))


def _read_excel(path: Path, sheet: str | int | None) -> TextTable:
    try:
        frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="calamine")
    except (ValueError, KeyError) as exc:
        raise CrmError(f"{path}: cannot read the worksheet {sheet if sheet is not None else 0!r}: {exc}") from None
    except Exception as exc:  # calamine raises its own error types for files that are not workbooks
        raise CrmError(f"{path}: not a readable xlsx workbook: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    return TextTable(str(path), frame.reset_index(drop=True), rows, [], [], frame.shape[1])


def read_table(path: str | Path, sheet: str | int | None = None) -> TextTable:
    """Read a CSV or xlsx file into a :class:`TextTable`; raise :class:`CrmError` if it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise CrmError(f"no such file: {path}")
    if path.is_dir():
        raise CrmError(f"{path} is a directory, not an export file")
    suffix = path.suffix.lower()
    try:
        if suffix in EXCEL_SUFFIXES:
            return _read_excel(path, sheet)
        if suffix in CSV_SUFFIXES or suffix == "":
            return _read_csv(path)
    except OSError as exc:
        raise CrmError(f"cannot read {path}: {exc.strerror or exc}") from None
    raise CrmError(f"{path}: cannot tell the format from the name; use .csv or .xlsx")
