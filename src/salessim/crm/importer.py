"""Export to validated table: the door through which CRM data enters salessim.

:func:`read_export` reads an opportunities export (and optionally a rep roster), applies
a mapping or preset, parses dates and amounts, and applies one documented rule to every
messy row. Every problem is counted and kept with its file, row, column and value
(``CrmData.problems``); nothing is silently wrong. The rules:

================================================  ==============================================
problem                                           rule
================================================  ==============================================
row with the wrong number of fields (footer)      dropped
blank row                                         dropped
no id                                             dropped
duplicate id                                      later rows dropped, the first kept
date that cannot be read                          treated as empty (then the rules below apply)
amount that cannot be read                        treated as empty
won or lost deal with no close date               dropped: its outcome cannot be placed in time
open deal with no created date                    dropped: it cannot be aged or counted as an arrival
won or lost deal with no created date             kept for win rate, deal size and actuals; left
                                                  out of arrivals and sales cycles
close date before the created date (closed deal)  created date set to the close date (a cycle of
                                                  0 months): the deal was entered after it closed
negative or zero amount (won or open deal)        treated as no amount
won deal with no amount                           counts as a win; left out of deal sizes and actuals
open deal with no amount                          kept; the simulation draws its value from the
                                                  fitted deal size
stage the mapping does not know                   open (SPEC: every other stage is open), reported
                                                  when the mapping lists its open stages
flag that cannot be read                          the stage decides
stage that contradicts the Won/Closed flags       the flags decide
owner not in the roster                           kept in its own territory, credited to no rep;
                                                  dropped when it has no territory of its own
owner who is a rep of another territory           kept in the deal's territory, credited to no rep
no territory (column empty)                       the owner's roster territory, else dropped
roster: no name / duplicate name                  dropped / later rows dropped
roster: leave date before hire date               dropped
roster: no hire date                              kept; left out of attrition and ramp fits
roster: no territory                              the territory most of the rep's deals are in,
                                                  else dropped
================================================  ==============================================

When more than ``max_unusable_share`` (default half) of the data rows are dropped, the
mapping or date format is almost certainly wrong: the import stops with an error naming
the most common problem and its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .mapping import CrmError, Mapping, OpportunityMap, PRESETS, RosterMap, normalise_stage, resolve_mapping
from .parsing import date_order, parse_amounts, parse_dates, parse_flags, rows_text
from .reading import TextTable, read_table

__all__ = ["CrmData", "read_export", "PROBLEM_COLUMNS", "ALL_TERRITORY"]

PROBLEM_COLUMNS = ["file", "row", "column", "value", "problem", "action"]
ALL_TERRITORY = "All"
"""Territory name used when neither the export nor the roster says where a deal belongs."""

_OPP_FIELDS = ("id", "owner", "territory", "stage", "created", "closed", "amount", "is_won", "is_closed")
_REP_FIELDS = ("name", "territory", "hired", "left")


@dataclass
class CrmData:
    """The validated tables of an export.

    Attributes
    ----------
    opportunities : DataFrame, one row per usable deal
        ``row`` (int, spreadsheet row in the file), ``id`` (str), ``owner`` (str or NA),
        ``rep`` (the owner when they are a roster rep of the deal's territory, else NA),
        ``territory`` (str), ``stage`` (str as written), ``status`` (won / lost / open, as
        exported), ``created`` and ``closed`` (datetime64, NaT when unknown), ``amount``
        (float, NaN when unknown).
    reps : DataFrame or None
        ``row``, ``name``, ``territory``, ``hired``, ``left`` (datetime64; NaT while employed).
    problems : DataFrame
        One row per problem: ``file``, ``row``, ``column``, ``value``, ``problem``, ``action``.
    stages : DataFrame
        ``stage``, ``status`` and ``rows``: how every stage value was read.
    """

    opportunities: pd.DataFrame
    reps: pd.DataFrame | None
    problems: pd.DataFrame
    stages: pd.DataFrame
    files: dict[str, str]
    rows_read: dict[str, int]
    columns: dict[str, dict[str, str]]
    date_formats: dict[str, str]
    currency: str | None = None
    notes: list[str] = field(default_factory=list)

    def problem_summary(self) -> pd.DataFrame:
        """Problems grouped: ``file``, ``problem``, ``action``, ``rows`` (count) and ``examples`` (first rows)."""
        if self.problems.empty:
            return pd.DataFrame(columns=["file", "problem", "action", "rows", "examples"])
        groups = self.problems.groupby(["file", "problem", "action"], sort=False)
        out = groups["row"].agg(rows="size", examples=lambda r: rows_text(np.sort(r.to_numpy()), 5)).reset_index()
        return out.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def territories(self) -> list[str]:
        """Territory names in order of first appearance in the export."""
        return list(dict.fromkeys(self.opportunities["territory"].tolist()))


def _strings(values) -> np.ndarray:
    """Cells as plain str (empty for NA): the ``value`` column of the problems table."""
    return np.array(["" if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) else str(v)
                     for v in np.asarray(values, dtype=object)], dtype=object)


class _Problems:
    """Collects problems as vectorised blocks (a mask over a table, one problem and action)."""

    def __init__(self) -> None:
        self.blocks: list[pd.DataFrame] = []

    def add(self, file: str, rows: np.ndarray, column: str, values, problem: str, action: str) -> None:
        rows = np.asarray(rows)
        if not len(rows):
            return
        values = _strings(values) if not np.isscalar(values) else np.full(len(rows), values, dtype=object)
        self.blocks.append(pd.DataFrame({"file": file, "row": rows.astype(np.int64), "column": column,
                                         "value": values, "problem": problem, "action": action}))

    def frame(self) -> pd.DataFrame:
        if not self.blocks:
            return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "row" else object) for c in PROBLEM_COLUMNS})
        return pd.concat(self.blocks, ignore_index=True).sort_values(["file", "row"], kind="stable").reset_index(drop=True)


def _join(*parts) -> np.ndarray:
    """Cell texts of a problem built from columns and literals, e.g. ``_join(ids, " (first on row ", rows, ")")``."""
    n = next(len(p) for p in parts if not isinstance(p, str))
    out = pd.Series([""] * n, dtype=object)
    for part in parts:
        out = out + (part if isinstance(part, str) else pd.Series(_strings(part), dtype=object))
    return out.to_numpy()


def _find(table: TextTable, spec: list[str] | None, field: str, section: str, required: bool, source: str) -> str | None:
    """The first candidate column the file has (header names compare without case)."""
    if spec is None:
        return None
    lookup = {c.casefold(): c for c in table.frame.columns}
    for candidate in spec:
        if candidate.casefold() in lookup:
            return lookup[candidate.casefold()]
    if not required:
        return None
    wanted = " or ".join(repr(c) for c in spec)
    raise CrmError(f"{table.path}: no column for {section}.{field} (looked for {wanted}, from {source}); "
                   f"the file has columns {', '.join(repr(c) for c in table.frame.columns)}")


def _detect_preset(table: TextTable) -> tuple[str, Mapping]:
    for name, preset in PRESETS.items():
        try:
            _opportunity_columns(table, preset.opportunities, f"the {name} preset")
        except CrmError:
            continue
        return name, preset
    raise CrmError(f"{table.path}: the columns ({', '.join(repr(c) for c in table.frame.columns)}) match neither the "
                   f"salesforce nor the hubspot export; pass --preset or a --map file naming the columns")


def _opportunity_columns(table: TextTable, spec: OpportunityMap, source: str) -> dict[str, str]:
    required = {"id", "created", "closed", "amount"}
    cols = {f: _find(table, getattr(spec, f), f, "opportunities", f in required, source) for f in _OPP_FIELDS}
    if cols["is_won"] is None or cols["is_closed"] is None:
        cols["is_won"] = cols["is_closed"] = None
        if cols["stage"] is None:  # the outcome needs the stage when the flags are missing
            _find(table, spec.stage or ["Stage"], "stage", "opportunities", True, source)
    return {k: v for k, v in cols.items() if v is not None}


def _dates(table: TextTable, cols: dict[str, str], keys: tuple[str, ...], fmt: str, keep: np.ndarray,
           problems: _Problems) -> tuple[dict[str, pd.Series], str]:
    """Parse the date columns of a file with one order for the whole file."""
    texts = {k: table.text(cols[k]) for k in keys if k in cols}
    if fmt == "auto":
        fmt = date_order([(cols[k], t[keep], table.rows[keep]) for k, t in texts.items()], table.path)
    out = {}
    for key, text in texts.items():
        dates, unreadable = parse_dates(text, fmt)
        hit = unreadable & keep
        problems.add(table.path, table.rows[hit], cols[key], text[hit], "date cannot be read",
                     "treated as empty")
        out[key] = dates
    return out, fmt


def _status(table: TextTable, cols: dict[str, str], spec: OpportunityMap, keep: np.ndarray, problems: _Problems):
    """won / lost / open per row, and the table of stage values."""
    n = len(table.frame)
    stage = table.text(cols["stage"]) if "stage" in cols else pd.Series(pd.NA, index=range(n), dtype="string[pyarrow]")
    codes, unique = pd.factorize(stage)
    lookup = {**{normalise_stage(s): "open" for s in (spec.open or [])},
              **{normalise_stage(s): "lost" for s in spec.lost}, **{normalise_stage(s): "won" for s in spec.won}}
    per_stage = np.array([lookup.get(normalise_stage(u), "") for u in unique] + [""], dtype=object)
    by_stage = per_stage[codes]  # codes -1 (empty stage) picks the trailing ""
    known = by_stage != ""
    status = np.where(known, by_stage, "open").astype(object)
    decided = np.zeros(n, bool)
    if "is_won" in cols:
        won, won_bad = parse_flags(table.text(cols["is_won"]))
        closed, closed_bad = parse_flags(table.text(cols["is_closed"]))
        for key, bad in (("is_won", won_bad), ("is_closed", closed_bad)):
            hit = bad & keep
            problems.add(table.path, table.rows[hit], cols[key], table.frame[cols[key]][hit], "flag cannot be read",
                         "the stage decides")
        decided = np.isfinite(won) & np.isfinite(closed)
        by_flag = np.where(closed == 1, np.where(won == 1, "won", "lost"), "open").astype(object)
        conflict = decided & known & (by_flag != by_stage) & keep
        problems.add(table.path, table.rows[conflict], cols.get("stage", cols["is_won"]),
                     stage[conflict] if "stage" in cols else "", "stage contradicts the Won/Closed flags",
                     "the flags decide")
        status = np.where(decided, by_flag, status)
    undecided = ~decided & ~known & keep
    if spec.open is not None or "stage" not in cols:
        empty = undecided & stage.isna().to_numpy()
        problems.add(table.path, table.rows[empty], cols.get("stage", "stage"), "", "no stage",
                     "treated as open (censored at as-of)")
        odd = undecided & ~empty
        problems.add(table.path, table.rows[odd], cols["stage"] if "stage" in cols else "stage", stage[odd],
                     "stage the mapping does not know", "treated as open (censored at as-of); add it to won, lost "
                     "or open in a mapping file")
    frame = pd.DataFrame({"stage": stage[keep].fillna("(empty)").to_numpy(), "status": status[keep]})
    stages = frame.value_counts(sort=False).rename("rows").reset_index()
    return status, stage, stages.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def _read_roster(path, spec: RosterMap, fmt_override: str | None, problems: _Problems):
    table = read_table(path, spec.sheet)
    _broken(table, problems)
    cols = {f: _find(table, getattr(spec, f), f, "reps", f == "name", "the mapping") for f in _REP_FIELDS}
    cols = {k: v for k, v in cols.items() if v is not None}
    name = table.text(cols["name"])
    blank = np.logical_and.reduce([table.text(c).isna().to_numpy() for c in table.frame.columns]) \
        if table.frame.shape[1] else np.zeros(0, bool)
    problems.add(table.path, table.rows[blank], "", "", "blank row", "dropped")
    no_name = name.isna().to_numpy() & ~blank
    problems.add(table.path, table.rows[no_name], cols["name"], "", "rep with no name", "dropped")
    keep = ~blank & ~no_name
    dupe = name.duplicated(keep="first").to_numpy() & keep
    first_row = pd.Series(table.rows).groupby(name.to_numpy()).transform("first").to_numpy()
    problems.add(table.path, table.rows[dupe], cols["name"], _join(name[dupe], " (first on row ", first_row[dupe], ")"), "duplicate rep name", "dropped: the first row with this name is kept")
    keep &= ~dupe
    dates, fmt = _dates(table, cols, ("hired", "left"), fmt_override or spec.date_format, keep, problems)
    n = len(table.frame)
    hired = dates.get("hired", pd.Series(np.full(n, np.datetime64("NaT"), "datetime64[ns]")))
    left = dates.get("left", pd.Series(np.full(n, np.datetime64("NaT"), "datetime64[ns]")))
    backwards = keep & (left < hired).to_numpy()
    problems.add(table.path, table.rows[backwards], cols.get("left", ""), left[backwards].dt.strftime("%Y-%m-%d"),
                 "leave date before hire date", "dropped: cannot tell when the rep worked")
    keep &= ~backwards
    if "hired" in cols:
        no_hire = keep & hired.isna().to_numpy()
        problems.add(table.path, table.rows[no_hire], cols["hired"], "", "rep with no hire date",
                     "kept; left out of attrition and ramp fits")
    territory = table.text(cols["territory"]) if "territory" in cols else pd.Series(pd.NA, index=range(n), dtype="string[pyarrow]")
    reps = pd.DataFrame({"row": table.rows, "name": name.astype(object), "territory": territory.astype(object),
                         "hired": hired.to_numpy(), "left": left.to_numpy()})[keep].reset_index(drop=True)
    reps["name"] = reps["name"].astype(str)
    return reps, table, cols, fmt


def _broken(table: TextTable, problems: _Problems) -> None:
    for row, text, nfields in table.broken:
        problems.add(table.path, np.array([row]), "", text[:80],
                     f"row has {nfields} field{'s' if nfields != 1 else ''}, the header has {table.fields}"
                     + (" (a report footer?)" if nfields == 1 else ""), "dropped")


def read_export(opportunities: str | Path, reps: str | Path | None = None, *, preset: str | None = None,
                mapping: Mapping | str | Path | None = None, date_format: str | None = None,
                max_unusable_share: float = 0.5) -> CrmData:
    """Read an opportunities export (and optionally a rep roster) into validated tables.

    Parameters
    ----------
    opportunities, reps : paths of CSV or xlsx files
    preset : ``'salesforce'`` or ``'hubspot'``; with neither a preset nor a mapping the
        preset is detected from the header
    mapping : a :class:`Mapping` or a mapping YAML file (SPEC section 10)
    date_format : overrides the mapping's ``date_format`` for both files (auto, iso, us,
        eu or a strptime format)
    max_unusable_share : stop with an error when more than this share of rows is dropped

    Raises
    ------
    CrmError
        A file cannot be read, a column is missing, dates are ambiguous, amounts mix
        conventions or currencies, or too little usable data is left. The message names
        the file, row, column and value.
    """
    from .mapping import _check_date_format

    if date_format is not None:
        try:
            date_format = _check_date_format(date_format)
        except ValueError as exc:
            raise CrmError(f"date format: {exc}") from None
    chosen = resolve_mapping(preset, mapping)
    table = read_table(opportunities, chosen.opportunities.sheet if chosen else None)
    source = "the mapping" if mapping is not None else f"the {preset} preset"
    if chosen is None:
        preset, chosen = _detect_preset(table)
        source = f"the {preset} preset (detected from the header)"
    spec = chosen.opportunities
    cols = _opportunity_columns(table, spec, source)
    problems = _Problems()
    _broken(table, problems)
    path, rows, n = table.path, table.rows, len(table.frame)

    roster = None
    files, rows_read, columns, formats = {"opportunities": path}, {path: n + len(table.broken)}, {"opportunities": cols}, {}
    if reps is not None:
        roster, rtable, rcols, rfmt = _read_roster(reps, chosen.reps, date_format, problems)
        files["reps"], rows_read[rtable.path], columns["reps"], formats[rtable.path] = rtable.path, len(rtable.frame) + len(rtable.broken), rcols, rfmt

    text = {k: table.text(c) for k, c in cols.items() if k in ("id", "owner", "territory")}
    mapped = [table.text(c).isna().to_numpy() for c in cols.values()]
    blank = np.logical_and.reduce(mapped) if mapped else np.zeros(n, bool)
    problems.add(path, rows[blank], "", "", "blank row", "dropped")
    no_id = text["id"].isna().to_numpy() & ~blank
    problems.add(path, rows[no_id], cols["id"], "", "no id", "dropped")
    keep = ~blank & ~no_id
    ids = text["id"]
    dupe = ids.duplicated(keep="first").to_numpy() & keep
    if dupe.any():
        first_row = pd.Series(rows).groupby(ids.fillna("").to_numpy()).transform("first").to_numpy()
        problems.add(path, rows[dupe], cols["id"], _join(ids[dupe], " (first on row ", first_row[dupe], ")"), "duplicate id", "dropped: the first row with this id is kept")
    keep &= ~dupe

    dates, fmt = _dates(table, cols, ("created", "closed"), date_format or spec.date_format, keep, problems)
    formats[path] = fmt
    created, closed = dates["created"].copy(), dates["closed"]
    amount_text = table.text(cols["amount"])
    amounts = parse_amounts(amount_text[keep], rows[keep], path, cols["amount"])
    amount = np.full(n, np.nan)
    amount[keep] = amounts.values
    bad_amount = np.zeros(n, bool)
    bad_amount[keep] = amounts.unreadable
    problems.add(path, rows[bad_amount], cols["amount"], amount_text[bad_amount], "amount cannot be read", "treated as empty")
    status, stage, stages = _status(table, cols, spec, keep, problems)

    is_closed = np.isin(status, ("won", "lost"))
    no_close = keep & is_closed & closed.isna().to_numpy()
    problems.add(path, rows[no_close], cols["closed"], "", "won or lost deal with no close date",
                 "dropped: its outcome cannot be placed in time")
    keep &= ~no_close
    no_created = keep & created.isna().to_numpy()
    problems.add(path, rows[no_created & ~is_closed], cols["created"], "", "open deal with no created date",
                 "dropped: it cannot be aged or counted as an arrival")
    problems.add(path, rows[no_created & is_closed], cols["created"], "", "closed deal with no created date",
                 "kept for win rate, deal size and actuals; left out of arrivals and sales cycles")
    keep &= ~(no_created & ~is_closed)
    backwards = keep & is_closed & (closed < created).to_numpy()
    problems.add(path, rows[backwards], cols["closed"],
                 _join(closed[backwards].dt.strftime("%Y-%m-%d"), " < ", created[backwards].dt.strftime("%Y-%m-%d")),
                 "close date before the created date", "created date set to the close date (a 0-month cycle)")
    created[backwards] = closed[backwards]

    counts = np.isin(status, ("won", "open")) & keep
    for label, hit in (("negative amount", counts & (amount < 0)), ("zero amount", counts & (amount == 0))):
        problems.add(path, rows[hit], cols["amount"], amount_text[hit], label, "treated as no amount")
        amount[hit] = np.nan
    missing = np.isnan(amount) & keep
    problems.add(path, rows[missing & (status == "won")], cols["amount"], "", "won deal with no amount",
                 "counts as a win; left out of deal sizes and actuals")
    problems.add(path, rows[missing & (status == "open")], cols["amount"], "", "open deal with no amount",
                 "kept; its value is drawn from the fitted deal size")

    owner = text.get("owner", pd.Series(pd.NA, index=range(n), dtype="string[pyarrow]")).astype(object).where(lambda s: s.notna(), None)
    own_territory = text["territory"].astype(object).where(lambda s: s.notna(), None) if "territory" in text else pd.Series([None] * n)
    territory = own_territory.copy()
    rep = owner.copy()
    notes = []
    if roster is not None:
        where = dict(zip(roster["name"], roster["territory"]))
        in_roster = owner.isin(list(where)).to_numpy()
        roster_territory = owner.map(where).where(lambda s: s.notna(), None)
        has_owner = owner.notna().to_numpy()
        outsider = keep & has_owner & ~in_roster
        outsider_kept = outsider & own_territory.notna().to_numpy()
        problems.add(path, rows[outsider_kept], cols.get("owner", "owner"), owner[outsider_kept], "owner not in the roster",
                     "kept in its own territory; credited to no rep")
        problems.add(path, rows[outsider & ~outsider_kept], cols.get("owner", "owner"), owner[outsider & ~outsider_kept],
                     "owner not in the roster", "dropped: the deal has no territory of its own")
        keep &= ~(outsider & ~outsider_kept)
        rep[~in_roster] = None
        if "territory" in text and roster["territory"].notna().any():
            other = keep & in_roster & own_territory.notna().to_numpy() & roster_territory.notna().to_numpy() \
                & (own_territory != roster_territory).to_numpy()
            problems.add(path, rows[other], cols["territory"], _join(own_territory[other], " (owner ", owner[other], " is in ",
                               roster_territory[other], ")"), "owner is a rep of another territory",
                         "kept in the deal's territory; credited to no rep")
            rep[other] = None
        fill = territory.isna().to_numpy() & roster_territory.notna().to_numpy()
        if "territory" in text:
            hit = fill & keep
            problems.add(path, rows[hit], cols["territory"], "", "no territory", "taken from the owner's roster row")
        territory[fill] = roster_territory[fill]
    if "territory" not in text and (roster is None or roster["territory"].isna().all()):
        territory[:] = ALL_TERRITORY
        notes.append(f"neither the export nor the roster names territories: every deal is in one territory, {ALL_TERRITORY!r}")
    no_territory = keep & territory.isna().to_numpy()
    problems.add(path, rows[no_territory], cols.get("territory", "territory"), "", "no territory",
                 "dropped: neither the deal nor its owner's roster row names one")
    keep &= ~no_territory

    opps = pd.DataFrame({"row": rows, "id": ids.astype(object), "owner": owner, "rep": rep, "territory": territory,
                         "stage": stage.astype(object), "status": status, "created": created.to_numpy(),
                         "closed": closed.to_numpy(), "amount": amount})[keep].reset_index(drop=True)
    opps["status"] = pd.Categorical(opps["status"], categories=["won", "lost", "open"])
    for c in ("id", "territory"):
        opps[c] = opps[c].astype(str)

    if roster is not None:
        roster = _roster_territories(roster, opps, files["reps"], problems)
    problem_frame = problems.frame()
    data_rows = n + len(table.broken)
    dropped = data_rows - len(opps)
    if len(opps) == 0 or dropped > max_unusable_share * data_rows:
        mine = problem_frame[(problem_frame["file"] == path) & problem_frame["action"].str.startswith("dropped")]
        top = mine.groupby(["problem", "column"], sort=False).size().sort_values(ascending=False)
        detail = ""
        if len(top):
            (problem, column), count = top.index[0], int(top.iloc[0])
            hit = mine[(mine["problem"] == problem) & (mine["column"] == column)]
            detail = (f"; the most common: {problem} ({count:,} rows, column {column!r}, e.g. value "
                      f"{hit['value'].iloc[0]!r} on row {int(hit['row'].iloc[0])}; {rows_text(hit['row'].to_numpy())})")
        raise CrmError(f"{path}: too little usable data: {dropped:,} of {data_rows:,} rows cannot be used{detail}; "
                       f"check the column mapping and the date format")
    return CrmData(opportunities=opps, reps=roster, problems=problem_frame, stages=stages, files=files,
                   rows_read=rows_read, columns=columns, date_formats=formats, currency=amounts.currency,
                   notes=table.notes + notes)


def _roster_territories(roster: pd.DataFrame, opps: pd.DataFrame, path: str, problems: _Problems) -> pd.DataFrame:
    """Reps without a territory take the one most of their deals are in, or are dropped."""
    missing = roster["territory"].isna().to_numpy()
    if not missing.any():
        return roster
    owned = opps.dropna(subset=["owner"]).groupby("owner")["territory"].agg(lambda s: s.value_counts().index[0])
    found = roster["name"].map(owned)
    filled = missing & found.notna().to_numpy()
    problems.add(path, roster["row"].to_numpy()[filled], "territory", found[filled], "rep with no territory",
                 "the territory most of their deals are in")
    lost = missing & ~filled
    problems.add(path, roster["row"].to_numpy()[lost], "territory", roster["name"][lost], "rep with no territory",
                 "dropped: they own no deal with a territory")
    roster = roster.assign(territory=roster["territory"].where(~filled, found))
    return roster[~lost].reset_index(drop=True)
