"""`quota rates add|list|import`: one rate, a central bank's long CSV or the ECB's wide one, all or nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from quota.core.models import ExchangeRate
from quota.core.money import rate_on
from quota.testing.commands import refused_command, run_command

pytestmark = pytest.mark.django_db

# The head of the ECB's eurofxref-hist.csv: newest first, a trailing comma, N/A for days without a quote.
ECB = """Date,USD,JPY,BGN,CYP,PLN,GBP,
2024-03-15,1.0887,161.64,1.9558,N/A,4.2915,0.85405,
2024-03-14,1.0925,161.46,1.9558,N/A,4.2888,0.8542,
1999-01-04,1.1789,133.73,N/A,0.58231,4.0712,0.7111,
"""


def run(*args):
    return run_command("rates", *args)


def refused(*args):
    return refused_command("rates", *args)


def rates():
    return {(r.currency, r.valid_from): r.rate for r in ExchangeRate.objects.all()}


def test_add_then_list_and_the_rate_is_used():
    assert "added: 1 USD = 0.92000000 EUR from 2024-01-01" in run("add", "usd", "0.92", "--date", "2024-01-01")
    assert "replaced" in run("add", "USD", "0.93", "--date", "2024-01-01")
    assert rate_on("USD", dt.date(2024, 2, 1)) == Decimal("0.93")
    assert "USD  2024-01-01  0.93000000" in run("list", "--currency", "usd")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("XYZ", "1", "--date", "2024-01-01"), "'XYZ' is not a currency"),
        (("EUR", "1", "--date", "2024-01-01"), "EUR is the company currency"),
        (("USD", "-1", "--date", "2024-01-01"), "positive number"),
        (("USD", "abc", "--date", "2024-01-01"), "'abc' is not a number"),
        (("USD", "1", "--date", "2024-02-30"), "is not a date"),
        (("USD", "1", "--date", "0999-01-01"), "0999-01-01 is outside 1900-01-01..2999-12-31"),
    ],
)
def test_add_refuses_bad_input(args, message):
    assert message in refused("add", *args)
    assert not ExchangeRate.objects.exists()


def test_import_a_long_csv(tmp_path):
    path = tmp_path / "nbp.csv"
    path.write_text("date,currency,rate\n2024-03-01,USD,0.91\n2024-03-01,GBP,1.17\n\n2024-03-04,usd,0.92\n")
    assert "imported 3 rates (long layout): 3 added, 0 replaced" in run("import", str(path))
    assert rates() == {
        ("USD", dt.date(2024, 3, 1)): Decimal("0.91"),
        ("GBP", dt.date(2024, 3, 1)): Decimal("1.17"),
        ("USD", dt.date(2024, 3, 4)): Decimal("0.92"),
    }
    assert "0 added, 3 replaced" in run("import", str(path))  # a second import replaces the same days
    assert len(rates()) == 3


def test_import_the_ecb_wide_csv_for_a_company_in_euros(tmp_path):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(ECB)
    out = run("import", str(path))
    assert "(ECB wide layout)" in out and "ignored currencies Quota does not keep: BGN, CYP" in out
    assert rates()[("USD", dt.date(2024, 3, 15))] == (Decimal(1) / Decimal("1.0887")).quantize(Decimal("1e-8"))
    assert rates()[("PLN", dt.date(1999, 1, 4))] == Decimal("0.24562782")  # 1 / 4.0712 = 0.245627824...
    assert len(rates()) == 3 * 4  # USD, JPY, PLN, GBP on three days


@override_settings(QUOTA_CURRENCY="PLN")
def test_import_the_ecb_wide_csv_for_a_company_in_another_currency(tmp_path):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(ECB)
    run("import", str(path))
    assert rates()[("EUR", dt.date(2024, 3, 15))] == Decimal("4.2915")
    assert rates()[("USD", dt.date(2024, 3, 15))] == (Decimal("4.2915") / Decimal("1.0887")).quantize(Decimal("1e-8"))
    assert ("PLN", dt.date(2024, 3, 15)) not in rates()


def test_import_with_bad_rows_says_which_and_imports_nothing(tmp_path):
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2024, 1, 1), rate=Decimal("0.9"))
    path = tmp_path / "rates.csv"
    path.write_text(
        "date,currency,rate\n"
        "2024-03-01,USD,0.91\n"
        "2024-03-32,USD,0.91\n"
        "2024-03-02,XYZ,1\n"
        "2024-03-03,GBP,zero\n"
        "2024-03-04,GBP,0\n"
        "2024-03-05,EUR,1\n"
        "2024-03-01,USD,0.95\n"
        "2024-03-06,GBP\n"
    )
    message = refused("import", str(path))
    assert "nothing imported, 7 problem(s)" in message
    for line, text in [
        (3, "'2024-03-32' is not a date"),
        (4, "'XYZ' is not a currency"),
        (5, "'zero' is not a number"),
        (6, "the rate must be a positive number, not 0"),
        (7, "EUR is the company currency"),
        (8, "USD on 2024-03-01 is given twice"),
        (9, "expected date, currency and rate"),
    ]:
        assert f"line {line}: {text}" in message
    assert rates() == {("USD", dt.date(2024, 1, 1)): Decimal("0.9")}


def test_import_bad_ecb_cells_and_headers(tmp_path):
    path = tmp_path / "ecb.csv"
    path.write_text("Date,USD,JPY\n2024-03-15,1.0887,abc\n2024-13-01,1.1,160\n")
    message = refused("import", str(path))
    assert "line 2, JPY: 'abc' is not a number" in message and "line 3: '2024-13-01' is not a date" in message
    path.write_text("day;value\n2024-01-01;1\n")
    assert "line 1: the header must be date,currency,rate" in refused("import", str(path))
    assert "cannot read" in refused("import", str(tmp_path / "missing.csv"))
    assert not ExchangeRate.objects.exists()
