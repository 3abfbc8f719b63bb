"""Import of CRM exports: presets, mapping files, dates, amounts and every messy-row rule.

Each rule of ``salessim.crm.importer`` is checked on the row that triggers it (the
shipped samples in ``tests/data`` hold one of each), each bad input by its message
(file, row, column, value), and a hypothesis test checks the accounting: every data row
is either used or reported as dropped, never both and never neither.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salessim.crm import CrmError, load_mapping, read_export
from salessim.crm.parsing import as_text, date_order, parse_amounts, parse_dates, parse_flags

DATA = Path(__file__).resolve().parent / "data"
SF_OPPS, SF_REPS, HS_DEALS = DATA / "salesforce_opportunities.csv", DATA / "salesforce_reps.csv", DATA / "hubspot_deals.csv"


def text(values) -> pd.Series:
    return as_text(pd.Series(values, dtype=object))


def rows(n: int) -> np.ndarray:
    return np.arange(2, n + 2)


def problem(data, row: int) -> set[str]:
    """Problems reported for a row of the opportunities file."""
    p = data.problems
    return set(p.loc[(p["row"] == row) & (p["file"] == data.files["opportunities"]), "problem"])


# --------------------------------------------------------------------------- dates

@pytest.mark.parametrize("value, dmy, mdy", [
    ("2024-03-05", "2024-03-05", "2024-03-05"),
    ("2024-03-05T22:10:00Z", "2024-03-05", "2024-03-05"),
    ("2024/03/05", "2024-03-05", "2024-03-05"),
    ("2024-03-05 10:22:33.000+01:00", "2024-03-05", "2024-03-05"),
    ("05/03/2024", "2024-03-05", "2024-05-03"),
    ("5.3.2024", "2024-03-05", "2024-05-03"),
    ("5-3-24", "2024-03-05", "2024-05-03"),
    ("3/5/2024 10:22 AM", "2024-05-03", "2024-03-05"),
    ("5 Mar 2024", "2024-03-05", "2024-03-05"),
    ("Mar 5, 2024", "2024-03-05", "2024-03-05"),
    ("05-Mar-2024", "2024-03-05", "2024-03-05"),
    ("March 5th 2024", "2024-03-05", "2024-03-05"),
    ("1/1/69", "2069-01-01", "2069-01-01"),
    ("1/1/70", "1970-01-01", "1970-01-01"),
])
def test_date_forms(value, dmy, mdy):
    for order, expected in (("dmy", dmy), ("mdy", mdy)):
        dates, bad = parse_dates(text([value]), order)
        assert not bad[0]
        assert dates.iloc[0] == pd.Timestamp(expected), (value, order)


@pytest.mark.parametrize("value", ["2024-02-30", "13/13/2024", "yesterday", "2024-03", "5/3", "12:00"])
def test_unreadable_dates_are_flagged(value):
    dates, bad = parse_dates(text([value, None]), "dmy")
    assert bad.tolist() == [True, False]
    assert dates.isna().all()


def test_auto_order_from_evidence():
    assert date_order([("Created", text(["03/05/2024", "13/05/2024"]), rows(2))], "f.csv") == "dmy"
    assert date_order([("Created", text(["03/05/2024", "05/13/2024"]), rows(2))], "f.csv") == "mdy"
    # the evidence may sit in another date column of the same file
    assert date_order([("Created", text(["03/05/2024"]), rows(1)), ("Closed", text(["25/05/2024"]), rows(1))],
                      "f.csv") == "dmy"
    assert date_order([("Created", text(["2024-03-05", "01/01/2024"]), rows(2))], "f.csv") == "mdy"


def test_auto_refuses_an_ambiguous_file_naming_its_rows():
    values = text(["2024-01-09", "03/05/2024", "04/06/2024", "01/01/2024", "07/08/2024"])
    with pytest.raises(CrmError) as exc:
        date_order([("Created Date", values, rows(5))], "opps.csv")
    msg = str(exc.value)
    assert "opps.csv" in msg and "ambiguous" in msg and "'03/05/2024'" in msg and "Created Date" in msg
    assert "rows 3, 4, 6" in msg  # the rows that read two ways, not the ISO or 01/01 ones
    assert "date_format" in msg and "--date-format" in msg


def test_auto_refuses_mixed_orders():
    with pytest.raises(CrmError, match=r"both day-first, e.g. '13/05/2024' \(row 2.*month-first, e.g. '05/13/2024' \(row 3"):
        date_order([("Created", text(["13/05/2024", "05/13/2024"]), rows(2))], "f.csv")


def test_explicit_strptime_format():
    dates, bad = parse_dates(text(["05.03.2024", "2024-03-05"]), "%d.%m.%Y")
    assert dates.iloc[0] == pd.Timestamp("2024-03-05")
    assert bad.tolist() == [False, True]  # an explicit format means exactly that format


# --------------------------------------------------------------------------- amounts

@pytest.mark.parametrize("values, expected", [
    (["$1,234.56", "USD 1,000", "(2,500)", "12.5", "-300", "1,000,000", "1 234.5"],
     [1234.56, 1000, -2500, 12.5, -300, 1e6, 1234.5]),
    (["1.234,56 €", "1.234", "12,5", "1 234,5", "EUR 7"], [1234.56, 1234, 12.5, 1234.5, 7]),
    (["1,234", "1.234", "5"], [1234, 1234, 5]),  # no value shows a decimal: a lone 3-digit group is thousands
    (["1'234.50", "CHF 99"], [1234.5, 99]),
    (["300-", "US$ 2,000.00"], [-300, 2000]),
    (["12000", "3500.5"], [12000, 3500.5]),
])
def test_amount_forms(values, expected):
    col = parse_amounts(text(values), rows(len(values)), "f.csv", "Amount")
    np.testing.assert_allclose(col.values, expected)
    assert not col.unreadable.any()


def test_unreadable_amounts_and_currency():
    col = parse_amounts(text(["$5", "abc", "5k", None, "£"]), rows(5), "f.csv", "Amount")
    assert col.unreadable.tolist() == [False, True, True, False, True]
    assert col.currency == "USD"
    assert np.isnan(col.values[1:]).all()


def test_mixed_decimal_conventions_are_refused():
    with pytest.raises(CrmError, match=r"f.csv: column 'Amount' .*decimal point, e.g. '1,234.5' \(row 2\).*"
                                       r"decimal comma, e.g. '1.234,5' \(row 3\)"):
        parse_amounts(text(["1,234.5", "1.234,5"]), rows(2), "f.csv", "Amount")


def test_mixed_currencies_are_refused():
    with pytest.raises(CrmError, match=r"several currencies \(EUR from row 3, USD from row 2\).*Amount \(converted\)"):
        parse_amounts(text(["$5", "€5"]), rows(2), "f.csv", "Amount")


def test_flags():
    values, bad = parse_flags(text(["TRUE", "0", "yes", None, "maybe", "1"]))
    assert values[[0, 1, 2, 5]].tolist() == [1, 0, 1, 1]
    assert bad.tolist() == [False, False, False, False, True, False]


# --------------------------------------------------------------------------- presets and samples

def test_salesforce_sample_every_rule():
    d = read_export(SF_OPPS, SF_REPS, preset="salesforce")
    opps = d.opportunities.set_index("row")
    assert d.date_formats[str(SF_OPPS)] == "mdy" and d.currency == "USD"
    assert problem(d, 8) == {"won deal with no amount"} and opps.loc[8, "status"] == "won"
    assert problem(d, 10) == {"negative amount", "won deal with no amount"} and np.isnan(opps.loc[10, "amount"])
    assert problem(d, 11) == {"close date before the created date"}
    assert opps.loc[11, "created"] == opps.loc[11, "closed"] == pd.Timestamp("2023-12-18")
    assert problem(d, 12) == {"open deal with no created date"} and 12 not in opps.index
    assert problem(d, 13) == {"owner not in the roster"} and opps.loc[13, "rep"] is None
    assert opps.loc[13, "territory"] == "West"
    assert problem(d, 14) == {"duplicate id"} and 14 not in opps.index
    assert d.problems.loc[d.problems["row"] == 14, "value"].iloc[0] == "0065e00000A1 (first on row 2)"
    assert problem(d, 16) == {"no territory"} and opps.loc[16, "territory"] == "East"  # from Bo Chen's roster row
    assert problem(d, 19) == {"blank row"}
    assert problem(d, 20) == {"date cannot be read", "won or lost deal with no close date"}
    assert d.problems.loc[d.problems["row"] == 20, "value"].iloc[0] == "13/40/2024"
    footer = d.problems[d.problems["row"].between(24, 29) & d.problems["problem"].str.startswith("row has")]
    assert set(footer["row"]) == {24, 26, 27, 28, 29} and (footer["action"] == "dropped").all()
    assert "Grand Totals (22 records)" in footer["value"].tolist()
    # the Won/Closed flags decide; "Discovery Call" is no problem then
    assert opps.loc[15, "status"] == "open" and problem(d, 15) == set()
    assert len(opps) == 17
    assert set(d.stages["stage"]) >= {"Closed Won", "Closed Lost", "Discovery Call"}
    assert list(d.reps["name"]) == ["Ana Ruiz", "Bo Chen", "Cy Diaz", "Di Evans", "Gil Hart"]
    assert d.reps.loc[4, "left"] == pd.Timestamp("2023-11-30")


def test_hubspot_sample_detected_and_unknown_stage(tmp_path):
    d = read_export(HS_DEALS, SF_REPS)  # no preset: detected from the header
    assert d.columns["opportunities"]["id"] == "Record ID"
    assert problem(d, 15) == {"stage the mapping does not know"}
    assert d.opportunities.set_index("row").loc[15, "status"] == "open"
    assert problem(d, 7) == {"open deal with no amount"}
    assert d.date_formats[str(HS_DEALS)] == "mdy"  # ISO only: either order reads the same
    assert d.currency is None
    # the same deals as an xlsx workbook give the same table
    frame = pd.read_csv(HS_DEALS, dtype=str, keep_default_na=False)
    xlsx = tmp_path / "deals.xlsx"
    frame.to_excel(xlsx, index=False)
    x = read_export(xlsx, SF_REPS, preset="hubspot")
    cols = ["row", "id", "owner", "territory", "status", "created", "closed", "amount"]
    pd.testing.assert_frame_equal(x.opportunities[cols], d.opportunities[cols])


def test_xlsx_typed_cells(tmp_path):
    frame = pd.DataFrame({"Record ID": [1, 2], "Deal owner": ["A", "B"], "Deal Stage": ["Closed won", "Contract sent"],
                          "Create Date": pd.to_datetime(["2024-01-05", "2024-02-01"]),
                          "Close Date": pd.to_datetime(["2024-03-01", "2024-06-30"]), "Amount": [1200.5, np.nan]})
    frame.to_excel(tmp_path / "d.xlsx", index=False)
    d = read_export(tmp_path / "d.xlsx", preset="hubspot")
    assert d.opportunities["id"].tolist() == ["1", "2"]
    assert d.opportunities["created"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-02-01")]
    assert d.opportunities["amount"].iloc[0] == 1200.5
    assert d.opportunities["territory"].unique().tolist() == ["All"]
    assert any("one territory" in n for n in d.notes)


SPEC_MAP = """opportunities: {id: Id, owner: Owner, territory: Region, stage: StageName, created: CreatedDate,
                closed: CloseDate, amount: Amount, won: [Closed Won], lost: [Closed Lost],
                date_format: auto}
reps: {name: Name, territory: Region, hired: HireDate, left: TerminationDate}
"""


def _write(path: Path, header: list[str], body: list[list[str]], delimiter=",", encoding="utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(body)
    return path


def test_spec_mapping_file_european_export(tmp_path):
    (tmp_path / "map.yaml").write_text(SPEC_MAP)
    header = ["Id", "Owner", "Region", "StageName", "CreatedDate", "CloseDate", "Amount"]
    body = [["1", "José", "Süd", "Closed Won", "05.03.2024", "20.04.2024", "1.234,50 €"],
            ["2", "José", "Süd", "Closed Lost", "15.01.2024", "02.02.2024", "900"],
            ["3", "Ana", "Nord", "Verhandlung", "01.04.2024", "30.06.2024", "12,5"]]
    opps = _write(tmp_path / "o.csv", header, body, delimiter=";", encoding="cp1252")
    reps = _write(tmp_path / "r.csv", ["Name", "Region", "HireDate", "TerminationDate"],
                  [["José", "Süd", "01.01.2020", ""], ["Ana", "Nord", "13.02.2021", ""]], encoding="cp1252")
    d = read_export(opps, reps, mapping=tmp_path / "map.yaml")
    o = d.opportunities
    assert o["owner"].tolist() == ["José", "José", "Ana"] and o["territory"].tolist() == ["Süd", "Süd", "Nord"]
    assert o["amount"].tolist() == [1234.5, 900, 12.5] and d.currency == "EUR"
    assert o["status"].tolist() == ["won", "lost", "open"]  # an unlisted stage is open (SPEC section 10)
    assert o["created"].iloc[0] == pd.Timestamp("2024-03-05")
    assert d.date_formats[str(opps)] == "dmy"
    assert any("Windows-1252" in n for n in d.notes) and any("';'" in n for n in d.notes)


def test_mapping_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("opportunities: {id: Id, created: C, closed: D, amount: A, stage: S, won: [W], lost: [W], colour: red}")
    with pytest.raises(CrmError) as exc:
        load_mapping(bad)
    assert "opportunities.colour: unknown key" in str(exc.value)
    bad.write_text("opportunities: {id: Id, created: C, closed: D, amount: A, stage: S, won: [W], lost: [W]}")
    with pytest.raises(CrmError, match="both won and lost: w"):
        load_mapping(bad)
    bad.write_text("opportunities: {id: Id, created: C, closed: D, amount: A, is_won: Won}")
    with pytest.raises(CrmError, match="is_won and is_closed go together"):
        load_mapping(bad)
    bad.write_text("opportunities: {id: Id, created: C, closed: D, amount: A, stage: S, won: [W], lost: [L], "
                   "date_format: sometimes}")
    with pytest.raises(CrmError, match="date_format: .*auto, iso, us, eu or a strptime format.*'sometimes'"):
        load_mapping(bad)
    with pytest.raises(CrmError, match="no such mapping file"):
        load_mapping(tmp_path / "nope.yaml")


def test_missing_column_names_file_field_and_columns(tmp_path):
    opps = _write(tmp_path / "o.csv", ["Opportunity ID", "Stage", "Created Date", "Amount"], [["1", "Closed Won", "2024-01-01", "5"]])
    with pytest.raises(CrmError) as exc:
        read_export(opps, preset="salesforce")
    msg = str(exc.value)
    assert str(opps) in msg and "opportunities.closed" in msg and "'Close Date' or 'CloseDate'" in msg
    assert "'Opportunity ID', 'Stage', 'Created Date', 'Amount'" in msg
    with pytest.raises(CrmError, match="match neither the salesforce nor the hubspot export"):
        read_export(opps)


def test_ambiguous_export_is_refused_and_a_format_settles_it(tmp_path):
    body = [[str(i), "A", "East", "Closed Won", f"0{m}/0{m + 1}/2024", f"0{m + 1}/0{m + 2}/2024", "100"] for i, m in enumerate(range(1, 7))]
    opps = _write(tmp_path / "o.csv", ["Opportunity ID", "Opportunity Owner", "Territory", "Stage", "Created Date",
                                       "Close Date", "Amount"], body)
    with pytest.raises(CrmError, match=r"o.csv: dates are ambiguous: 6 rows .*'01/02/2024' \(row 2, column 'Created Date'\)"):
        read_export(opps, preset="salesforce")
    d = read_export(opps, preset="salesforce", date_format="eu")
    assert d.opportunities["created"].iloc[0] == pd.Timestamp("2024-02-01")
    with pytest.raises(CrmError, match="date format: must be one of"):
        read_export(opps, preset="salesforce", date_format="sideways")


def test_too_little_usable_data_names_the_main_problem(tmp_path):
    body = [[str(i), "A", "East", "Closed Won", "2024-01-05", "not yet", "100"] for i in range(8)]
    body.append(["99", "A", "East", "Closed Won", "2024-01-05", "2024-02-05", "100"])
    opps = _write(tmp_path / "o.csv", ["Opportunity ID", "Opportunity Owner", "Territory", "Stage", "Created Date",
                                       "Close Date", "Amount"], body)
    with pytest.raises(CrmError) as exc:
        read_export(opps, preset="salesforce")
    msg = str(exc.value)
    assert "too little usable data: 8 of 9 rows cannot be used" in msg
    assert "won or lost deal with no close date (8 rows, column 'Close Date'" in msg and "rows 2, 3, 4" in msg


def test_unreadable_files(tmp_path):
    with pytest.raises(CrmError, match="no such file"):
        read_export(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CrmError, match="the file is empty"):
        read_export(tmp_path / "empty.csv")
    (tmp_path / "x.pdf").write_text("%PDF")
    with pytest.raises(CrmError, match="cannot tell the format"):
        read_export(tmp_path / "x.pdf")
    (tmp_path / "dup.csv").write_text("Id,Id,Stage\n1,2,3\n")
    with pytest.raises(CrmError, match="names column 'Id' more than once"):
        read_export(tmp_path / "dup.csv")
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(CrmError, match="not a readable xlsx workbook"):
        read_export(tmp_path / "bad.xlsx", preset="hubspot")


def test_roster_rules_and_territory_conflicts(tmp_path):
    header = ["Opportunity ID", "Opportunity Owner", "Territory", "Stage", "Created Date", "Close Date", "Amount"]
    body = [["1", "Ann", "West", "Closed Won", "2024-01-05", "2024-02-05", "100"],   # Ann is an East rep
            ["2", "Bob", "", "Closed Won", "2024-01-05", "2024-02-05", "100"],      # Bob: no territory anywhere
            ["3", "Cat", "East", "Closed Lost", "2024-01-05", "2024-02-05", "100"],
            ["4", "Dan", "East", "Closed Won", "2024-01-05", "2024-02-05", "100"]]
    opps = _write(tmp_path / "o.csv", header, body)
    reps = _write(tmp_path / "r.csv", ["Name", "Territory", "Hire Date", "Termination Date"],
                  [["Ann", "East", "2020-01-01", ""], ["Bob", "", "2020-01-01", ""], ["Cat", "", "2021-01-01", ""],
                   ["", "East", "2021-01-01", ""], ["Ann", "West", "2022-01-01", ""], ["Dan", "East", "2022-05-01", "2021-01-01"],
                   ["Eve", "East", "", ""]])
    d = read_export(opps, reps, preset="salesforce", max_unusable_share=0.9)
    rp = d.problems[d.problems["file"] == str(reps)]
    assert set(rp.loc[rp["row"] == 3, "problem"]) == {"rep with no territory"}   # Bob owns no deal with one
    assert rp.loc[rp["row"] == 3, "action"].iloc[0].startswith("dropped")
    assert rp.loc[rp["row"] == 4, "action"].iloc[0] == "the territory most of their deals are in"  # Cat -> East
    assert set(rp.loc[rp["row"] == 5, "problem"]) == {"rep with no name"}
    assert set(rp.loc[rp["row"] == 6, "problem"]) == {"duplicate rep name"}
    assert set(rp.loc[rp["row"] == 7, "problem"]) == {"leave date before hire date"}
    assert set(rp.loc[rp["row"] == 8, "problem"]) == {"rep with no hire date"}
    assert d.reps.set_index("name").loc["Cat", "territory"] == "East"
    op = d.opportunities.set_index("row")
    assert problem(d, 2) == {"owner is a rep of another territory"}
    assert op.loc[2, "territory"] == "West" and op.loc[2, "rep"] is None
    assert problem(d, 3) == {"no territory"} and 3 not in op.index       # Bob's roster row names none either
    assert problem(d, 5) == {"owner not in the roster"}  # Dan's roster row was dropped: kept in its own territory
    assert op.loc[5, "territory"] == "East" and op.loc[5, "rep"] is None
    assert op.loc[4, "rep"] == "Cat"


def test_flag_conflicts_and_unreadable_flags(tmp_path):
    header = ["Opportunity ID", "Opportunity Owner", "Territory", "Stage", "Created Date", "Close Date", "Amount", "Won", "Closed"]
    body = [["1", "A", "E", "Closed Won", "2024-01-05", "2024-02-05", "100", "0", "1"],
            ["2", "A", "E", "Closed Lost", "2024-01-05", "2024-02-05", "100", "maybe", "1"],
            ["3", "A", "E", "Prospecting", "2024-01-05", "2024-02-05", "100", "1", "1"]]
    d = read_export(_write(tmp_path / "o.csv", header, body), preset="salesforce")
    op = d.opportunities.set_index("row")
    assert problem(d, 2) == {"stage contradicts the Won/Closed flags"} and op.loc[2, "status"] == "lost"
    assert problem(d, 3) == {"flag cannot be read"} and op.loc[3, "status"] == "lost"   # the stage decides
    assert op.loc[4, "status"] == "won"  # flags say won whatever the stage is called


# --------------------------------------------------------------------------- accounting (hypothesis)

_CELLS = {
    "id": st.sampled_from(["1", "2", "3", "4", "5", "6", ""]),
    "owner": st.sampled_from(["Ann", "Bob", "Zed", ""]),
    "territory": st.sampled_from(["East", "West", ""]),
    "stage": st.sampled_from(["Closed Won", "Closed Lost", "Prospecting", "Mystery", ""]),
    "created": st.sampled_from(["2024-01-05", "2024-03-01", "2024-13-01", "", "2023-12-31"]),
    "closed": st.sampled_from(["2024-02-05", "2023-11-01", "", "nope"]),
    "amount": st.sampled_from(["$100.00", "-5", "0", "", "abc", "1,250"]),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(_CELLS), min_size=1, max_size=12))
def test_every_row_is_used_or_reported_dropped(tmp_path, table):
    header = ["Opportunity ID", "Opportunity Owner", "Territory", "Stage", "Created Date", "Close Date", "Amount"]
    path = _write(tmp_path / "o.csv", header, [[r[k] for k in _CELLS] for r in table])
    reps = _write(tmp_path / "r.csv", ["Name", "Territory", "Hire Date"], [["Ann", "East", "2020-01-01"], ["Bob", "West", "2021-01-01"]])
    try:
        d = read_export(path, reps, preset="salesforce", max_unusable_share=1.0)
    except CrmError as exc:
        assert "too little usable data" in str(exc)
        return
    opp_problems = d.problems[d.problems["file"] == str(path)]
    dropped = set(opp_problems.loc[opp_problems["action"].str.startswith("dropped"), "row"])
    used = set(d.opportunities["row"])
    assert used.isdisjoint(dropped)
    assert used | dropped == set(range(2, len(table) + 2))
    o = d.opportunities
    assert o["id"].is_unique
    assert (o["amount"].dropna() > 0).all() or (o.loc[o["amount"] <= 0, "status"] == "lost").all()
    closed = o["status"].isin(["won", "lost"])
    assert o.loc[closed, "closed"].notna().all()
    assert (o.loc[closed & o["created"].notna(), "created"] <= o.loc[closed & o["created"].notna(), "closed"]).all()
    assert o.loc[o["status"] == "open", "created"].notna().all()
