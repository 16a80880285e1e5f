"""Every export parses with its declared layout, carries the mess of real exports, and agrees
with the ground truth row by row."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from typing import Any

import pytest

from publieksdata.deliver.layouts import LAYOUTS, Layout
from publieksdata.synth.generator import SectorSummary

from .normal import POSTCODE, norm_email, norm_phone, norm_postcode

Exports = dict[str, tuple[list[str], list[list[Any]]]]


def layout_of(manifest: dict[str, Any], file: str) -> Layout:
    return LAYOUTS[next(e["layout"] for e in manifest["exports"] if e["file"] == file)]


def column(layout: Layout, header: list[str], row: list[Any], source: str) -> Any:
    name = layout.header_of(source)
    return None if name is None else row[header.index(name)]


def parses_as_date(value: Any, fmt: str) -> bool:
    if isinstance(value, dt.date):
        return True
    try:
        dt.datetime.strptime(str(value), fmt)
    except ValueError:
        return False
    return True


def amount(value: Any, layout: Layout) -> float | None:
    if isinstance(value, float):
        return value
    text = str(value).removeprefix(layout.currency_prefix)
    if layout.decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def count(value: Any) -> int:
    try:
        return int(float(value))
    except ValueError:
        return -1


def check(layout: Layout, source: str, value: Any) -> bool:
    """Is this value of this field acceptable? An independent reading of the layout."""
    if source in ("order.order_id", "admission.transaction_id"):
        return value not in ("", None)
    if source == "performance.starts_at":
        return parses_as_date(value, layout.datetime_format)
    if source in ("performance.date", "admission.visit_date"):
        return parses_as_date(value, layout.date_format)
    if source == "ticket.price_paid":
        parsed = amount(value, layout)
        return parsed is not None and parsed >= 0
    if source == "ticket.ticket_count":
        return count(value) >= 1
    if source == "order.status":
        return value in layout.values["order.status"].values()
    if source == "customer.postcode":
        return value in ("", None) or bool(POSTCODE.fullmatch(str(value).strip().upper()))
    if source == "customer.phone":
        return value in ("", None) or len(re.sub(r"\D", "", value)) >= 9
    if source == "customer.email":
        return value in ("", None) or bool(re.fullmatch(r"\s*[^@\s]+@[^@\s]+\.[a-zA-Z]+\s*", value))
    raise AssertionError(source)


CHECKED = (
    "order.order_id", "admission.transaction_id", "performance.starts_at", "performance.date",
    "admission.visit_date", "ticket.price_paid", "ticket.ticket_count", "order.status",
    "customer.postcode", "customer.phone", "customer.email",
)  # fmt: skip


def by_file(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        grouped[r["file"]].append(r)
    return grouped


def test_the_sector_has_at_least_four_layouts_in_csv_and_xlsx(manifest: dict[str, Any]) -> None:
    layouts = {e["layout"] for e in manifest["exports"]}
    assert len(layouts) >= 4
    assert {e["format"] for e in manifest["exports"]} == {"csv", "xlsx"}
    assert {e["delimiter"] for e in manifest["exports"] if e["format"] == "csv"} >= {",", ";"}
    assert {e["grain"] for e in manifest["exports"]} == {"ticket", "order_line", "admission"}


def test_every_export_has_its_layouts_headers_and_declared_row_count(
    manifest: dict[str, Any], exports: Exports, records: list[dict[str, Any]]
) -> None:
    truth = Counter(r["file"] for r in records)
    for entry in manifest["exports"]:
        header, rows = exports[entry["file"]]
        assert header == LAYOUTS[entry["layout"]].headers, entry["file"]
        assert len(rows) == entry["rows"] == truth[entry["file"]], entry["file"]
        assert all(len(r) == len(header) for r in rows), entry["file"]


def test_files_are_encoded_as_declared(tiny: SectorSummary, manifest: dict[str, Any]) -> None:
    for entry in manifest["exports"]:
        data = (tiny.folder / entry["file"]).read_bytes()
        if entry["format"] == "xlsx":
            assert data.startswith(b"PK"), "an XLSX file is a zip archive"
            continue
        assert data.startswith(b"\xef\xbb\xbf") == (entry["encoding"] == "utf-8-sig")
        if entry["encoding"] == "cp1252":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")  # accented names are single Windows-1252 bytes
        data.decode(entry["encoding"])


def test_exports_carry_dutch_dates_and_decimal_commas(exports: Exports) -> None:
    kassa = next(rows for f, (_, rows) in exports.items() if "kassa_nl" in f)
    header = LAYOUTS["kassa_nl"].headers
    price = [r[header.index("Prijs")] for r in kassa]
    assert any(re.fullmatch(r"€ \d+,\d\d", p) for p in price)
    when = [r[header.index("Datum voorstelling")] for r in kassa]
    assert any(re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d", w) for w in when)


def test_identifiers_come_in_many_notations(manifest: dict[str, Any], exports: Exports) -> None:
    phones, postcodes, emails = set(), set(), set()
    for file, (header, rows) in exports.items():
        layout = layout_of(manifest, file)
        for row in rows:
            phone = column(layout, header, row, "customer.phone")
            if phone:
                phones.add(re.sub(r"\d", "9", phone))
            code = column(layout, header, row, "customer.postcode")
            if code:
                postcodes.add(
                    re.sub(r"\d", "9", re.sub(r"[A-Z]", "A", re.sub(r"[a-z]", "a", code)))
                )
            email = column(layout, header, row, "customer.email")
            if email:
                emails.add(
                    "upper" if email.isupper() else "spaces" if email != email.strip() else
                    "lower" if email == email.lower() else "mixed"
                )  # fmt: skip
    # 0612345678, +31 6 1234 5678, 0031612345678, 06-12345678, (06) 12345678
    for notation in (
        "9999999999",
        "+99 9 9999 9999",
        "9999999999999",
        "99-99999999",
        "(99) 99999999",
    ):
        assert notation in phones
    assert {"9999 AA", "9999AA", "9999 aa", "9999aa"} <= postcodes
    assert emails == {"upper", "spaces", "lower", "mixed"}


def test_row_counts_agree_with_the_expected_counts(
    tiny: SectorSummary, records: list[dict[str, Any]]
) -> None:
    expected = json.loads((tiny.folder / "truth" / "expected.json").read_text("utf-8"))
    for file, rows in by_file(records).items():
        institution = expected["institutions"][rows[0]["institution_id"]]
        status = Counter(r["status"] for r in rows)
        assert institution["file"] == file
        assert institution["rows_received"] == len(rows)
        assert institution["rows_valid"] == status["valid"]
        assert institution["rows_duplicate"] == status["duplicate"]
        assert institution["rows_invalid"] == status["invalid"]
        assert len(rows) == status["valid"] + status["duplicate"] + status["invalid"]
    warned = Counter(r["warning"] for r in records if r["warning"])
    assert set(warned) == {"bad_postcode", "bad_phone", "bad_email"}
    assert all(r["status"] != "invalid" for r in records if r["warning"])
    sector = expected["sector"]
    assert sector["rows_duplicate"] > 0
    assert sector["rows_invalid"] > 0
    assert sector["persons"] == len({r["person"] for r in records if r["status"] == "valid"})


def test_duplicates_repeat_the_row_before_them(
    exports: Exports, records: list[dict[str, Any]]
) -> None:
    for file, rows in by_file(records).items():
        _, lines = exports[file]
        for r in rows:
            if r["status"] == "duplicate":
                assert lines[r["row"] - 1] == lines[r["row"] - 2], (file, r["row"])


def test_invalid_and_blemished_rows_are_spoilt_where_the_truth_says_and_others_are_not(
    manifest: dict[str, Any], exports: Exports, records: list[dict[str, Any]]
) -> None:
    for file, rows in by_file(records).items():
        layout = layout_of(manifest, file)
        header, lines = exports[file]
        sources = [s for s in CHECKED if layout.header_of(s)]
        for r in rows:
            line = lines[r["row"] - 1]
            spoilt = r["column"] if r["status"] == "invalid" else r["warning_column"]
            sources_ok = sources
            if spoilt is not None:
                broken = next(c.source for c in layout.columns if c.header == spoilt)
                assert not check(layout, broken, line[header.index(spoilt)]), (file, r)
                sources_ok = [s for s in sources if s != broken]
            for source in sources_ok:
                value = column(layout, header, line, source)
                assert check(layout, source, value), (file, r["row"], source, r["status"])


def test_one_person_has_one_email_phone_and_postcode_whatever_the_notation(
    manifest: dict[str, Any],
    exports: Exports,
    records: list[dict[str, Any]],
    persons: dict[int, dict[str, Any]],
) -> None:
    seen: dict[str, dict[int, set[str]]] = {"email": defaultdict(set), "phone": defaultdict(set)}
    owners: dict[str, set[int]] = defaultdict(set)
    users: dict[str, set[int]] = defaultdict(set)
    for file, rows in by_file(records).items():
        layout = layout_of(manifest, file)
        header, lines = exports[file]
        for r in rows:
            if r["status"] != "valid":
                continue
            line, person = lines[r["row"] - 1], r["person"]
            if r["warning"] is not None:
                continue  # one identifier of this row is unusable on purpose
            email = column(layout, header, line, "customer.email")
            if email:
                seen["email"][person].add(norm_email(email))
                owners[norm_email(email)].add(persons[person]["email_shared_with"])
                users[norm_email(email)].add(person)
            phone = column(layout, header, line, "customer.phone")
            if phone and "?" not in phone:
                seen["phone"][person].add(norm_phone(phone))
            code = column(layout, header, line, "customer.postcode")
            if code:
                assert norm_postcode(code)[:4] == persons[person]["pc4"]
    for kind, values in seen.items():
        assert values, kind
        assert all(len(v) == 1 for v in values.values()), kind
    # Households share addresses, and a shared address is always one household's.
    assert any(len(u) > 1 for u in users.values())
    assert all(len(o) == 1 for o in owners.values())


def test_tickets_sold_agree_with_what_the_files_say(
    tiny: SectorSummary, manifest: dict[str, Any], exports: Exports, records: list[dict[str, Any]]
) -> None:
    expected = json.loads((tiny.folder / "truth" / "expected.json").read_text("utf-8"))
    for file, rows in by_file(records).items():
        layout = layout_of(manifest, file)
        header, lines = exports[file]
        sold = layout.values["order.status"]["sold"]
        tickets = 0
        for r in rows:
            line = lines[r["row"] - 1]
            if r["status"] == "valid" and column(layout, header, line, "order.status") == sold:
                quantity = column(layout, header, line, "ticket.ticket_count")
                tickets += 1 if quantity is None else count(quantity)
        assert tickets == expected["institutions"][rows[0]["institution_id"]]["tickets_sold"]


def test_planted_groups_are_counted_over_the_persons_in_the_exports(
    tiny: SectorSummary, records: list[dict[str, Any]], persons: dict[int, dict[str, Any]]
) -> None:
    expected = json.loads((tiny.folder / "truth" / "expected.json").read_text("utf-8"))
    present = {r["person"] for r in records if r["status"] == "valid"}
    groups = Counter(persons[p]["group"] for p in present)
    assert expected["sector"]["persons_by_group"] == {
        g: groups[g] for g in expected["sector"]["persons_by_group"]
    }
    assert all(groups[g] > 0 for g in expected["sector"]["persons_by_group"])


def test_no_export_row_is_without_a_way_to_recognise_the_customer(
    manifest: dict[str, Any], exports: Exports
) -> None:
    """Every row carries at least one identifier linkage can use."""
    keys = ("customer.email", "customer.phone", "customer.customer_id", "customer.postcode")
    for file, (header, rows) in exports.items():
        layout = layout_of(manifest, file)
        for row in rows:
            assert any(column(layout, header, row, k) for k in keys), file
