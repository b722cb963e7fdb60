"""Exports of record lists: what the list shows (filters, search, sort, visibility), as typed CSV and XLSX."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from quota.core import exports
from quota.core.exports import (
    ExportColumn,
    ExportTable,
    Kind,
    Typed,
    csv_chunks,
    safe_text,
    table_of_rows,
    write_workbook,
    write_xlsx,
    xlsx_text,
)
from quota.testing.clock import clock_at
from quota.testing.factories import (
    CallFactory,
    CampaignFactory,
    CaseFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    InvoiceFactory,
    LeadFactory,
    OfferFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db


def export(client, url_name, fmt, **params):
    response = client.get(reverse(url_name), {"format": fmt, **params})
    assert response.status_code == 200, response.content
    return response


def csv_rows(response):
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so that Excel reads UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_sheet(response):
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return book.worksheets[0]


def listed_titles(client, url_name, **params):
    """Every record the list page shows over all its pages, in its order."""
    page = client.get(reverse(url_name), params).context["page"]
    return [str(record) for record in page.paginator.object_list]


# --------------------------------------------------------------------------- the list, as the page shows it


def test_csv_export_is_the_whole_filtered_searched_and_sorted_list(client, people, monkeypatch):
    rep = people["rep"]
    for number in range(7):
        DealFactory(title=f"Laptops {number}", owner=rep, amount=Decimal(100 * (number + 1)))
    DealFactory(title="Servers", owner=rep, amount=Decimal("9000"))
    DealFactory(title="Laptops cheap", owner=rep, amount=Decimal("50"))
    client.force_login(rep)
    monkeypatch.setattr("quota.core.views.RecordListView.paginate_by", 3)  # the export has every page, not just one
    params = {"q": "laptops", "min_amount": "200", "sort": "-amount"}

    rows = csv_rows(export(client, "crm:deal_export", "csv", **params))

    titles = [row[0] for row in rows[1:]]
    assert titles == listed_titles(client, "crm:deal_list", **params)
    assert titles == [f"Laptops {n}" for n in range(6, 0, -1)]
    # The default order with no parameters is the list's default order too.
    assert [row[0] for row in csv_rows(export(client, "crm:deal_export", "csv"))[1:]] == listed_titles(client, "crm:deal_list")


def test_csv_columns_are_the_lists_with_currency_beside_money_and_choice_labels(client, people):
    rep = people["rep"]
    deal = DealFactory(title="Servers", owner=rep, amount=Decimal("1234.50"), currency="PLN", exchange_rate=Decimal("0.25"))
    deal.expected_close_date = dt.date(2026, 11, 24)
    deal.save()
    client.force_login(rep)

    header, row = csv_rows(export(client, "crm:deal_export", "csv"))

    columns = ["Title", "Company", "Stage", "Amount", "Currency", "Status", "Owner", "Close date", "Flags", "Created"]
    assert header == columns
    values = dict(zip(header, row, strict=True))
    assert values["Amount"] == "1234.50"
    assert values["Currency"] == "PLN"
    assert values["Status"] == "Open"  # the label, not the stored "open"
    assert values["Stage"] == deal.stage.name
    assert values["Company"] == deal.company.name
    assert values["Owner"] == str(rep)
    assert values["Close date"] == "2026-11-24"  # an open deal closes when it is expected to
    assert values["Flags"] == ("Overdue" if deal.expected_close_date < timezone.localdate() else "")  # crm.selectors
    assert values["Created"] == timezone.localtime(deal.created_at).strftime("%Y-%m-%d %H:%M")


def test_headers_and_labels_are_in_the_users_language(client, people):
    DealFactory(title="Serwery", owner=people["rep"])
    client.force_login(people["rep"])
    response = client.get(reverse("crm:deal_export"), {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="pl")
    header, row = csv_rows(response)
    assert header[3:5] == ["Kwota", "Waluta"]
    assert "W toku" in row  # the status "Open" in Polish


def test_file_names_say_what_and_when(client, people):
    with clock_at(dt.datetime(2027, 12, 31, 23, 59, 59, tzinfo=dt.UTC), tick=False):
        client.force_login(people["rep"])
        csv_response = export(client, "crm:deal_export", "csv")
        xlsx_response = export(client, "activities:activity_export", "xlsx")
    today = "2027-12-31"
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="deals-{today}.csv"' in csv_response["Content-Disposition"]
    assert f'filename="activities-{today}.xlsx"' in xlsx_response["Content-Disposition"]


def test_an_unknown_format_is_refused_with_a_reason(client, people):
    client.force_login(people["rep"])
    response = client.get(reverse("crm:deal_export"), {"format": "pdf"})
    assert response.status_code == 400
    assert "use csv or xlsx" in response.content.decode()


def test_export_needs_a_signed_in_user(client):
    assert client.get(reverse("crm:deal_export"), {"format": "csv"}).status_code == 302


def test_list_page_links_to_exports_of_what_it_shows(client, people):
    client.force_login(people["rep"])
    content = client.get(reverse("crm:deal_list"), {"q": "acme", "sort": "-amount", "page": "2"}).content.decode()
    export_url = reverse("crm:deal_export")
    assert f'href="{export_url}?q=acme&amp;sort=-amount&amp;format=csv"' in content
    assert f'href="{export_url}?q=acme&amp;sort=-amount&amp;format=xlsx"' in content


# --------------------------------------------------------------------------- visibility


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_rep_exports_their_teams_deals_and_never_another_teams(client, people, fmt):
    DealFactory(title="Ours", owner=people["teammate"])
    DealFactory(title="Mine", owner=people["rep"])
    DealFactory(title="Theirs", owner=people["south_rep"])

    def titles(user):
        client.force_login(user)
        response = export(client, "crm:deal_export", fmt)
        if fmt == "csv":
            return sorted(row[0] for row in csv_rows(response)[1:])
        return sorted(row[0] for row in xlsx_sheet(response).iter_rows(min_row=2, values_only=True))

    assert titles(people["rep"]) == ["Mine", "Ours"]
    assert titles(people["south_rep"]) == ["Theirs"]
    assert titles(people["director"]) == ["Mine", "Ours", "Theirs"]
    # Asking for another team's owner does not widen what the rep reads: the list says the filter cannot apply
    # (and lists without it), the export refuses to pass the unfiltered list off as the filtered one.
    client.force_login(people["rep"])
    response = client.get(reverse("crm:deal_export"), {"format": fmt, "owner": people["south_rep"].pk})
    assert response.status_code == 400 and b"Theirs" not in response.content
    assert "Select a valid choice" in response.content.decode()
    listed = client.get(reverse("crm:deal_list"), {"owner": people["south_rep"].pk})
    assert listed.status_code == 400 and "Select a valid choice" in listed.content.decode()
    assert sorted(str(record) for record in listed.context["page"].paginator.object_list) == ["Mine", "Ours"]


# --------------------------------------------------------------------------- XLSX


def test_xlsx_cells_are_typed(client, people):
    rep = people["rep"]
    deal = DealFactory(title="Servers", owner=rep, amount=Decimal("1234.50"))
    deal.expected_close_date = dt.date(2026, 11, 24)
    deal.save()
    client.force_login(rep)

    sheet = xlsx_sheet(export(client, "crm:deal_export", "xlsx"))
    header = [cell.value for cell in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))

    assert header[:5] == ["Title", "Company", "Stage", "Amount", "Currency"]
    assert all(cell.font.bold for cell in sheet[1])
    assert cells["Amount"].data_type == "n"
    assert cells["Amount"].value == pytest.approx(1234.5)
    assert cells["Amount"].number_format == "#,##0.00"
    assert cells["Currency"].value == "EUR"
    assert cells["Status"].value == "Open"
    assert cells["Close date"].is_date
    assert cells["Close date"].value.date() == dt.date(2026, 11, 24)
    assert cells["Created"].is_date
    created = timezone.localtime(deal.created_at).replace(tzinfo=None)
    assert abs(cells["Created"].value - created) < dt.timedelta(seconds=1)


def test_xlsx_of_another_domain_types_its_own_columns(client, people):
    rep = people["rep"]
    CampaignFactory(name="Spring", owner=rep, spend=Decimal("5000.00"), currency="USD", starts_on=dt.date(2026, 3, 1))
    client.force_login(rep)
    sheet = xlsx_sheet(export(client, "marketing:campaign_export", "xlsx"))
    header = [cell.value for cell in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert header[0] == "Name"
    assert cells["Starts"].is_date and cells["Starts"].value.date() == dt.date(2026, 3, 1)
    assert cells["Ends"].value is None
    assert (cells["Spend"].value, cells["Spend"].number_format) == (5000, "#,##0.00")
    assert cells["Currency"].value == "USD"
    assert cells["Channel"].value == "E-mail"  # the label of the stored "email"


def test_xlsx_longer_than_a_sheet_ends_with_a_row_that_says_so(client, people, monkeypatch):
    for number in range(5):
        DealFactory(title=f"Deal {number}", owner=people["rep"], amount=Decimal(number + 1))
    client.force_login(people["rep"])
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 5)  # a header, three rows and the note

    rows = list(xlsx_sheet(export(client, "crm:deal_export", "xlsx", sort="amount")).iter_rows(values_only=True))

    assert [row[0] for row in rows[1:4]] == ["Deal 0", "Deal 1", "Deal 2"]
    assert "Only the first 3 rows" in rows[4][0] and "CSV" in rows[4][0]
    assert len(rows) == 5
    # The CSV has them all.
    assert len(csv_rows(export(client, "crm:deal_export", "csv"))) == 6


# --------------------------------------------------------------------------- formulas, Unicode


def test_formulas_in_data_are_written_as_text(client, people):
    rep = people["rep"]
    DealFactory(title='=HYPERLINK("http://evil.example","click")', owner=rep, company=CompanyFactory(name="@SUM(A1)", owner=rep))
    client.force_login(rep)

    csv_row = csv_rows(export(client, "crm:deal_export", "csv"))[1]
    assert csv_row[0] == '\'=HYPERLINK("http://evil.example","click")'
    assert csv_row[1] == "'@SUM(A1)"

    cells = xlsx_sheet(export(client, "crm:deal_export", "xlsx"))[2]
    assert cells[0].data_type == "s"
    assert cells[0].value == '\'=HYPERLINK("http://evil.example","click")'
    assert cells[1].value == "'@SUM(A1)"


@pytest.mark.parametrize("text", ["=1+1", "+48 600", "-2", "@cmd", "\tx", "\rx"])
def test_safe_text_guards_every_formula_start(text):
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Acme", "", "1+1=2", "e-mail", " =x"])
def test_safe_text_leaves_other_text_alone(text):
    assert safe_text(text) == text


UNICODE_TITLES = ["Zażółć gęślą jaźń", "Съешь же ещё этих мягких французских булок", "قرارداد فروش ۱۴۰۳", "日本語 🚀"]


def test_unicode_round_trips_through_both_formats(client, people):
    for title in UNICODE_TITLES:
        DealFactory(title=title, owner=people["rep"])
    client.force_login(people["rep"])
    assert sorted(row[0] for row in csv_rows(export(client, "crm:deal_export", "csv"))[1:]) == sorted(UNICODE_TITLES)
    sheet = xlsx_sheet(export(client, "crm:deal_export", "xlsx"))
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(UNICODE_TITLES)


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


def _one_column(values):
    return ExportTable("texts", [ExportColumn("Text")], lambda limit: ([value] for value in values))


@settings(max_examples=60, deadline=None)
@given(st.lists(texts, max_size=5))
def test_any_text_reads_back_from_csv_as_written_and_guarded(values):
    body = "".join(csv_chunks(_one_column(values)))
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"), newline="")))
    assert [row[0] if row else "" for row in rows[1:]] == [safe_text(value) for value in values]


@settings(max_examples=25, deadline=None)
@given(st.lists(texts, min_size=1, max_size=5))
def test_any_text_reads_back_from_xlsx_as_written_and_guarded(values):
    file = io.BytesIO()
    write_xlsx(_one_column(values), file)
    sheet = load_workbook(file).worksheets[0]
    read = [row[0] for row in sheet.iter_rows(min_row=2, max_row=len(values) + 1, values_only=True)]
    # A cell cannot hold control characters: they are left out, line breaks become \n, nothing else is lost.
    assert [value or "" for value in read] == [xlsx_text(value) for value in values]


def test_writer_types_numbers_dates_and_percentages():
    columns = [
        ExportColumn("Share", Kind.PERCENT),
        ExportColumn("Count", Kind.INTEGER),
        ExportColumn("Day", Kind.DATE),
        ExportColumn("Flag", Kind.BOOLEAN),
    ]
    table = ExportTable("typed", columns, lambda limit: iter([[0.25, 3, dt.date(2026, 1, 31), True], [None, -4, None, False]]))
    file = io.BytesIO()
    write_xlsx(table, file)
    sheet = load_workbook(file).worksheets[0]
    first, second = sheet[2], sheet[3]
    assert (first[0].value, first[0].number_format) == (0.25, "0.0%")
    assert (first[1].value, first[1].number_format) == (3, "#,##0")
    assert first[2].is_date and first[2].value.date() == dt.date(2026, 1, 31)
    assert first[3].value is True and second[3].value is False
    assert second[0].value is None and second[1].value == -4  # a negative number is a number, not a formula
    body = "".join(csv_chunks(table))
    assert body.splitlines()[1:] == ["0.25,3,2026-01-31,Yes", ",-4,,No"]


def test_a_workbook_has_a_sheet_per_table_each_written_as_a_single_table_is():
    money = [ExportColumn("Deal"), ExportColumn("Value", Kind.MONEY)]
    first = table_of_rows("won", money, [["=1+1", Decimal("12.5")]], title="Won deals")
    second = table_of_rows("lost", money, [["@lost", 3]], title="Won deals")  # the same title: made unique
    file = io.BytesIO()
    write_workbook([first, second], file)
    book = load_workbook(file)
    assert book.sheetnames == ["Won deals", "Won deals (2)"]
    for sheet, (title, value) in zip(book.worksheets, [("'=1+1", 12.5), ("'@lost", 3)], strict=True):
        header, row = sheet[1], sheet[2]
        assert [cell.value for cell in header] == ["Deal", "Value"] and all(cell.font.bold for cell in header)
        assert (row[0].value, row[0].data_type) == (title, "s")
        assert (row[1].value, row[1].number_format) == (value, "#,##0.00")
        assert sheet.freeze_panes == "A2"
    with pytest.raises(ValueError, match="at least one table"):
        write_workbook([], io.BytesIO())


def test_a_sheets_heading_and_footnote_frame_its_table_in_xlsx_only():
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    columns = [ExportColumn("KPI"), ExportColumn("Value", Kind.NUMBER)]
    rows = [
        ["Revenue", Typed(1234.5, Kind.WHOLE_MONEY)],
        ["Win rate", Typed(0.25, Kind.PERCENT)],
        ["Calls", Typed(None, Kind.INTEGER)],
    ]
    table = table_of_rows(
        "summary", columns, rows, title="Summary", heading=[["Weekly sales"], ["As of", moment]], footnote="=The first 3 of 9."
    )
    file = io.BytesIO()
    with timezone.override("Europe/Warsaw"):
        write_xlsx(table, file)
        body = "".join(csv_chunks(table))
    sheet = load_workbook(file).worksheets[0]
    assert sheet["A1"].value == "Weekly sales" and sheet["A1"].font.bold and sheet["A1"].font.size == 14
    assert (sheet["B2"].value, sheet["B2"].number_format) == (dt.datetime(2026, 3, 2, 0, 30), "yyyy-mm-dd hh:mm")  # local
    assert sheet["A3"].value is None and [cell.value for cell in sheet[4]] == ["KPI", "Value"]
    assert sheet.freeze_panes == "A5"
    values = [(cell.value, cell.number_format) for cell in sheet["B"][4:7]]
    assert values == [(1234.5, "#,##0"), (0.25, "0.0%"), (None, "General")]
    assert sheet["A8"].value == "'=The first 3 of 9."
    # CSV is the table alone, the values without their kinds.
    assert body.lstrip("\ufeff").splitlines() == ["KPI,Value", "Revenue,1234.5", "Win rate,0.25", "Calls,"]


def test_xlsx_with_a_heading_still_fits_a_sheet(monkeypatch):
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 7)  # two heading rows, a blank one, the header, two rows and the note
    table = table_of_rows("long", [ExportColumn("N", Kind.INTEGER)], [[n] for n in range(5)], heading=[["Title"], ["Scope"]])
    file = io.BytesIO()
    write_xlsx(table, file)
    values = [row[0] for row in load_workbook(file).worksheets[0].iter_rows(values_only=True)]
    assert values[:6] == ["Title", "Scope", None, "N", 0, 1] and "Only the first 2 rows" in values[6]
    assert len(values) == 7


# --------------------------------------------------------------------------- queries and streaming


def _make(url_name, owner, count):
    makers = {
        "crm:company_export": lambda: CompanyFactory.create_batch(count, owner=owner),
        "crm:contact_export": lambda: ContactFactory.create_batch(count, owner=owner, company__owner=owner),
        "crm:lead_export": lambda: LeadFactory.create_batch(count, owner=owner),
        "crm:deal_export": lambda: DealFactory.create_batch(count, owner=owner),
        "sales:offer_export": lambda: OfferFactory.create_batch(count, company__owner=owner, deal=DealFactory(owner=owner)),
        "sales:order_export": lambda: OrderFactory.create_batch(count, company__owner=owner),
        "sales:invoice_export": lambda: InvoiceFactory.create_batch(
            count, company__owner=owner, order=OrderFactory(company__owner=owner)
        ),
        "activities:activity_export": lambda: CallFactory.create_batch(count, owner=owner, company=CompanyFactory(owner=owner)),
        "service:case_export": lambda: CaseFactory.create_batch(count, owner=owner, contact=ContactFactory(owner=owner)),
        "marketing:campaign_export": lambda: CampaignFactory.create_batch(count, owner=owner),
    }
    makers[url_name]()


def _export_queries(client, url_name, fmt):
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse(url_name), {"format": fmt})
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
    return len(context.captured_queries), body


EXPORTS = [
    "crm:company_export",
    "crm:contact_export",
    "crm:lead_export",
    "crm:deal_export",
    "sales:offer_export",
    "sales:order_export",
    "sales:invoice_export",
    "activities:activity_export",
    "service:case_export",
    "marketing:campaign_export",
]


@pytest.mark.parametrize("url_name", EXPORTS)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_queries_do_not_grow_with_rows(client, people, url_name, fmt):
    director = people["director"]
    client.force_login(director)
    _make(url_name, people["rep"], 2)
    few, _body = _export_queries(client, url_name, fmt)
    _make(url_name, people["rep"], 12)
    many, body = _export_queries(client, url_name, fmt)
    assert many == few
    if fmt == "csv":
        assert body.count(b"\r\n") >= 15  # the header and every row (a money column's currency included)


def test_csv_streams_in_chunks_read_with_an_iterator(client, people, monkeypatch):
    DealFactory.create_batch(5, owner=people["rep"])
    client.force_login(people["rep"])
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    response = export(client, "crm:deal_export", "csv")
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then rows two at a time


def test_xlsx_text_drops_control_characters_and_keeps_line_breaks():
    assert xlsx_text("a\x00b\x07c") == "abc"
    assert xlsx_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert xlsx_text("\r=1") == "'\n=1"  # guarded before the carriage return becomes a line break
