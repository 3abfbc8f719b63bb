"""Reading the cells of real exports: dates, amounts and yes/no flags, vectorised.

Every function works on the distinct values of a column (a million-row export has a
few thousand distinct dates), with pyarrow-backed string operations, and maps the
result back through the column's factor codes: no per-row Python on the hot path.

Dates
    ISO (``2024-03-05``, ``2024-03-05T10:22:00Z``, ``2024/03/05``), day/month/year or
    month/day/year with ``/``, ``-`` or ``.`` (``05/03/2024``, ``3/5/24``, ``05.03.2024``),
    and English month names (``5 Mar 2024``, ``Mar 5, 2024``, ``05-Mar-2024``), each
    optionally followed by a time and zone, which are ignored (the date as written is
    kept). Two-digit years below 70 are 20xx, others 19xx. ``auto`` decides day-first or
    month-first from the whole file: a first number above 12 proves day-first, a second
    number above 12 proves month-first; a file with both is refused, and so is a file in
    which some dates read two ways (``03/05/2024``) and none settles it.
Amounts
    Currency symbols and codes (``$``, ``€``, ``USD``, ``US$``...), thousands separators
    (``,`` ``.`` space, apostrophe), decimal comma or point, and negatives written
    ``-1,200``, ``1,200-`` or ``(1,200)``. Which separator is the decimal one is decided
    per column: ``1,234.56`` or ``12.5`` show a decimal point, ``1.234,56`` or ``12,5`` a
    decimal comma; a column showing both is refused. A lone separator followed by exactly
    three digits (``1,234`` or ``1.234``) is a thousands separator unless the column shows
    otherwise. A column whose amounts carry two different currencies is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .mapping import CrmError

__all__ = ["as_text", "date_order", "parse_dates", "parse_amounts", "parse_flags", "rows_text", "AmountColumn"]

_STRING = "string[pyarrow]"
_TIME = r"(?:[T ,]+\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|UTC|GMT|[A-Z]{2,5}|[+-]\d{2}:?\d{2})?)?\s*$"
_ISO = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME
_NUMERIC = r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})" + _TIME
_DAY_NAME = r"^(\d{1,2})(?:st|nd|rd|th)?[ \-/.]+([A-Za-z]{3,9})\.?[ \-/.,]+(\d{4}|\d{2})" + _TIME
_NAME_DAY = r"^([A-Za-z]{3,9})\.?[ \-/]+(\d{1,2})(?:st|nd|rd|th)?,?[ \-/]+(\d{4}|\d{2})" + _TIME
_MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"])}
_NAMED_FORMATS = {"iso": "iso", "us": "mdy", "eu": "dmy"}


def _cell_text(value) -> str | None:
    """One spreadsheet cell as text: dates as ISO, whole floats without ``.0``, empty as None."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def as_text(values: pd.Series) -> pd.Series:
    """A column as stripped pyarrow strings with NA for empty cells.

    CSV columns arrive as text already; typed xlsx cells (dates, numbers) are written as
    text first (dates as ISO), so every file goes through the same parsers.
    """
    if values.dtype != _STRING and not isinstance(values.dtype, pd.ArrowDtype):
        values = values.map(_cell_text)
    text = values.astype(_STRING).str.strip()
    return text.mask(text == "")


def rows_text(rows: np.ndarray, limit: int = 8) -> str:
    """``'rows 2, 5, 9 and 40 more'``: row numbers a person can look up."""
    rows = [int(r) for r in rows]
    head = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit:,} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) != 1 else ''} {head}{more}"


def _num(text: pd.Series) -> np.ndarray:
    """Regex groups as float64 (NaN where the group did not match)."""
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _year(text: pd.Series) -> np.ndarray:
    y = _num(text)
    two = text.str.len().to_numpy(dtype=float, na_value=np.nan) == 2
    return np.where(two, np.where(y < 70, 2000 + y, 1900 + y), y)


def _classify(unique: pd.Series) -> dict[str, pd.DataFrame]:
    """Regex groups of every distinct value, per form (rows that do not match are NaN)."""
    return {"iso": unique.str.extract(_ISO), "numeric": unique.str.extract(_NUMERIC),
            "day_name": unique.str.extract(_DAY_NAME), "name_day": unique.str.extract(_NAME_DAY)}


@dataclass(frozen=True)
class _Evidence:
    day_first: np.ndarray   # codes of values that only read day-first
    month_first: np.ndarray
    ambiguous: np.ndarray   # codes of values that read both ways (first != second, both <= 12)


def _evidence(unique: pd.Series) -> _Evidence:
    num = unique.str.extract(_NUMERIC)
    a, b = _num(num[0]), _num(num[1])
    ok = np.isfinite(a) & np.isfinite(b)
    return _Evidence(np.nonzero(ok & (a > 12) & (b <= 12))[0], np.nonzero(ok & (b > 12) & (a <= 12))[0],
                     np.nonzero(ok & (a <= 12) & (b <= 12) & (a != b))[0])


def date_order(columns: list[tuple[str, pd.Series, np.ndarray]], file: str) -> str:
    """Day-first (``'dmy'``) or month-first (``'mdy'``) for a whole file, from every date column.

    ``columns`` holds (column name, text values, row numbers). Raises :class:`CrmError`
    when the file mixes both orders or when some dates read two ways and nothing settles it.
    """
    found = {"dmy": [], "mdy": [], "ambiguous": []}
    for name, values, rows in columns:
        codes, unique = pd.factorize(values)
        ev = _evidence(pd.Series(unique, dtype=_STRING))
        for key, idx in (("dmy", ev.day_first), ("mdy", ev.month_first), ("ambiguous", ev.ambiguous)):
            if len(idx):
                hit = np.isin(codes, idx)
                found[key].append((name, rows[hit], values[hit].iloc[0], rows[hit][0]))
    def example(key):
        name, rows, value, row = found[key][0]
        return f"{value!r} (row {row}, column {name!r})"
    if found["dmy"] and found["mdy"]:
        raise CrmError(f"{file}: dates are written both day-first, e.g. {example('dmy')}, and month-first, "
                       f"e.g. {example('mdy')}; fix the file or set date_format (us, eu or e.g. '%d/%m/%Y')")
    if found["dmy"]:
        return "dmy"
    if found["mdy"]:
        return "mdy"
    if found["ambiguous"]:
        rows = np.unique(np.concatenate([f[1] for f in found["ambiguous"]]))
        raise CrmError(f"{file}: dates are ambiguous: {len(rows):,} rows hold dates such as {example('ambiguous')} "
                       f"that read both day-first and month-first, and no date shows which comes first "
                       f"({rows_text(rows)}); set date_format to us (month/day/year) or eu (day/month/year) in the "
                       f"mapping, or pass --date-format")
    return "mdy"  # every date reads the same either way (or is ISO)


def _build(year, month, day) -> np.ndarray:
    """datetime64[ns] from year, month and day arrays; NaT where missing or not a real date (Feb 30)."""
    frame = pd.DataFrame({"year": np.asarray(year, dtype=float), "month": np.asarray(month, dtype=float),
                          "day": np.asarray(day, dtype=float)})
    good = frame.notna().all(axis=1).to_numpy()
    out = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    if good.any():
        parsed = pd.to_datetime(frame[good].astype("int64"), errors="coerce")
        out[good] = parsed.to_numpy(dtype="datetime64[ns]")
    return out


def _parse_unique(unique: pd.Series, fmt: str) -> np.ndarray:
    """datetime64 of each distinct value (NaT where unreadable) under ``fmt``: dmy, mdy, iso or strptime."""
    if "%" in fmt:
        parsed = pd.to_datetime(pd.Series(unique.astype(object)), format=fmt, errors="coerce")
        return parsed.dt.normalize().to_numpy(dtype="datetime64[ns]")
    out = np.full(len(unique), np.datetime64("NaT"), dtype="datetime64[ns]")
    forms = _classify(unique)
    iso = forms["iso"]
    take = iso[0].notna().to_numpy()
    out[take] = _build(_num(iso[0]), _num(iso[1]), _num(iso[2]))[take]
    if fmt in ("dmy", "mdy"):
        num = forms["numeric"]
        first, second = (num[0], num[1]) if fmt == "dmy" else (num[1], num[0])
        take = num[0].notna().to_numpy() & np.isnat(out)
        out[take] = _build(_year(num[2]), _num(second), _num(first))[take]
    for key, day_col, name_col in (("day_name", 0, 1), ("name_day", 1, 0)):
        groups = forms[key]
        month = groups[name_col].astype(object).str.lower().str[:3].map(_MONTHS).to_numpy(dtype=float)
        take = groups[0].notna().to_numpy() & np.isnat(out) & np.isfinite(month)
        if take.any():
            out[take] = _build(_year(groups[2]), month, _num(groups[day_col]))[take]
    return out


def parse_dates(values: pd.Series, fmt: str) -> tuple[pd.Series, np.ndarray]:
    """Parse a text column of dates.

    Parameters
    ----------
    values : Series of str (NA for empty), length n
    fmt : ``'dmy'``, ``'mdy'``, ``'iso'``, a named format (``us``, ``eu``) or a strptime format

    Returns
    -------
    dates : Series of datetime64[ns], length n; NaT where empty or unreadable
    unreadable : bool array, length n; True where a non-empty cell is not a date
    """
    fmt = _NAMED_FORMATS.get(fmt, fmt)
    codes, unique = pd.factorize(values)
    parsed = _parse_unique(pd.Series(unique, dtype=_STRING), fmt) if len(unique) else np.empty(0, "datetime64[ns]")
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    have = codes >= 0
    out[have] = parsed[codes[have]]
    return pd.Series(out, index=values.index), have & np.isnat(out)


# ------------------------------------------------------------------------ amounts

_CURRENCIES = {"$": "USD", "US$": "USD", "USD": "USD", "€": "EUR", "EUR": "EUR", "£": "GBP", "GBP": "GBP",
               "¥": "JPY", "JPY": "JPY", "₹": "INR", "INR": "INR", "CHF": "CHF", "FR.": "CHF", "SFR.": "CHF",
               "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "R$": "BRL", "KR": "SEK", "KR.": "DKK",
               "ZŁ": "PLN", "₩": "KRW", "₪": "ILS", "R": "ZAR"}
_US = r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?$|^\.\d+$"
_EU = r"^(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d*)?$|^,\d+$"
_US_PROOF = r"^\d{1,3}(?:,\d{3})+\.\d*$|^\d{1,3}(?:,\d{3}){2,}$|^\d*\.(?:\d{1,2}|\d{4,})$|^\d{4,}\.\d+$"
_EU_PROOF = r"^\d{1,3}(?:\.\d{3})+,\d*$|^\d{1,3}(?:\.\d{3}){2,}$|^\d*,(?:\d{1,2}|\d{4,})$|^\d{4,},\d+$"


@dataclass(frozen=True)
class AmountColumn:
    """A parsed amount column: ``values`` (float64, NaN where empty or unreadable), ``unreadable``
    (bool), ``currency`` (ISO code the cells carry, or None) and ``decimal`` (``'.'`` or ``','``)."""

    values: np.ndarray
    unreadable: np.ndarray
    currency: str | None
    decimal: str


def parse_amounts(values: pd.Series, rows: np.ndarray, file: str, column: str) -> AmountColumn:
    """Parse a text column of money amounts (see the module docstring for the forms read).

    Raises :class:`CrmError` when the column mixes decimal conventions or currencies.
    """
    codes, unique = pd.factorize(values)
    n_unique = len(unique)
    su = pd.Series(unique, dtype=_STRING)
    # already clean numbers (a data export): nothing to repair; a sample decides cheaply first
    sample_clean = n_unique == 0 or pd.to_numeric(su[:1000], errors="coerce").notna().all()
    plain = pd.to_numeric(su, errors="coerce") if sample_clean else None
    if n_unique == 0 or (plain is not None and plain.notna().all()):
        parsed, bad, currency, decimal = plain.to_numpy(dtype=float), np.zeros(n_unique, bool), None, "."
    else:
        negative = su.str.contains(r"^\s*[-−]|[-−]\s*$|^\s*\(.*\)\s*$", regex=True).fillna(False).to_numpy(dtype=bool)
        marker = su.str.replace("[0-9\\s.,'’()+\\-−\u00a0\u202f]", "", regex=True).str.upper()
        number = su.str.replace(r"[^\d.,]", "", regex=True)
        mcodes, markers = pd.factorize(marker)  # a column has a handful of distinct markers
        per_marker = np.array([None if m == "" else _CURRENCIES.get(m, m if len(m) == 3 and m.isalpha() else "?")
                               for m in markers] + [None], dtype=object)
        code = pd.Series(per_marker[mcodes], dtype=object)
        code = code.where(number.str.contains(r"\d", regex=True).fillna(False).to_numpy(dtype=bool), "?")  # no digits: not an amount
        known = code.dropna()
        kinds = sorted(set(known) - {"?"})
        if len(kinds) > 1:
            first = {k: int(rows[np.nonzero(np.isin(codes, np.nonzero((code == k).to_numpy())[0]))[0][0]]) for k in kinds}
            raise CrmError(f"{file}: column {column!r} holds amounts in several currencies ("
                           + ", ".join(f"{k} from row {r}" for k, r in first.items())
                           + "); export the converted amount (Salesforce: 'Amount (converted)') or one currency per file")
        us_proof = number.str.contains(_US_PROOF, regex=True).fillna(False).to_numpy(dtype=bool)
        eu_proof = number.str.contains(_EU_PROOF, regex=True).fillna(False).to_numpy(dtype=bool)
        if us_proof.any() and eu_proof.any():
            def example(mask):
                row = int(rows[np.nonzero(np.isin(codes, np.nonzero(mask)[0]))[0][0]])
                return f"{unique[np.nonzero(mask)[0][0]]!r} (row {row})"
            raise CrmError(f"{file}: column {column!r} writes amounts with a decimal point, e.g. {example(us_proof)}, "
                           f"and with a decimal comma, e.g. {example(eu_proof)}; use one convention")
        decimal = "," if eu_proof.any() else "."
        if decimal == ",":
            valid = number.str.contains(_EU, regex=True).fillna(False).to_numpy(dtype=bool)
            digits = number.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            valid = number.str.contains(_US, regex=True).fillna(False).to_numpy(dtype=bool)
            lone_thousands = number.str.contains(r"^\d{1,3}[.,]\d{3}$", regex=True).fillna(False).to_numpy(dtype=bool)
            if not us_proof.any():  # no value shows a decimal point: "1.234" is 1234, as "1,234" is
                valid |= lone_thousands
                number = number.where(~lone_thousands, number.str.replace(".", "", regex=False))
            digits = number.str.replace(",", "", regex=False)
        parsed = pd.to_numeric(digits, errors="coerce").to_numpy(dtype=float)
        bad = ~valid | np.isnan(parsed) | (code == "?").to_numpy(dtype=bool)
        parsed = np.where(bad, np.nan, np.where(negative, -parsed, parsed))
        currency = kinds[0] if kinds else None
    out = np.full(len(values), np.nan)
    have = codes >= 0
    out[have] = parsed[codes[have]]
    unreadable = np.zeros(len(values), bool)
    unreadable[have] = bad[codes[have]]
    return AmountColumn(out, unreadable, currency, decimal)


_TRUE = {"true", "t", "1", "yes", "y", "x", "1.0", "wahr", "vrai"}
_FALSE = {"false", "f", "0", "no", "n", "0.0", "falsch", "faux"}


def parse_flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Yes/no flags (true/false, 1/0, yes/no, y/n, x): (float array 1/0/NaN, unreadable bool array)."""
    codes, unique = pd.factorize(values)
    low = [str(u).strip().lower() for u in unique]  # a flag column has a handful of distinct values
    table = np.array([1.0 if v in _TRUE else 0.0 if v in _FALSE else np.nan for v in low])
    out = np.full(len(values), np.nan)
    have = codes >= 0
    out[have] = table[codes[have]] if len(table) else np.nan
    return out, have & np.isnan(out)
