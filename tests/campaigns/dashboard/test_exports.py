"""The exports answer a file or an error, never a 500 for what the database holds nor a 200 that
breaks off: the CSV is streamed, yet decides its answer before the first byte (a query the
database refuses is an error answered as such); the workbook leaves out the characters a
worksheet cannot hold."""

import io

import pytest
from openpyxl import load_workbook

from campaigns.dashboard.exports import csv_response, xlsx_response

HEADER = [("Code", 10), ("Unit", 30)]


class Refused(Exception):
    pass


def refused_rows():
    raise Refused("the database refused the statement")
    yield  # pragma: no cover - a generator whose first step fails, like a lazy queryset's


def test_rows_that_fail_fail_before_a_response_exists():
    with pytest.raises(Refused):
        csv_response(filename="don-vi.csv", header=HEADER, rows=refused_rows())


def test_the_rows_stream_after_the_header():
    rows = iter([["p-kim-lien", "Đảng bộ phường Kim Liên"], ["=1+1", None]])
    response = csv_response(filename="don-vi.csv", header=HEADER, rows=rows)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text == "\ufeffCode,Unit\r\np-kim-lien,Đảng bộ phường Kim Liên\r\n'=1+1,\r\n"


def test_no_rows_is_the_header_alone():
    response = csv_response(filename="don-vi.csv", header=HEADER, rows=iter([]))
    assert b"".join(response.streaming_content).decode("utf-8") == "\ufeffCode,Unit\r\n"


def test_text_a_worksheet_cannot_hold_is_written_without_its_control_characters():
    """Word's line break (U+000B) pasted into a report's title, or any other control character
    but the tab and line ends: openpyxl refused the whole file for it (a 500)."""
    rows = [["p-kim-lien", "Lấn chiếm\x0bvỉa hè\x01\x1b"], ["p-van-mieu", "=SUM(A1)\x0c"]]
    response = xlsx_response(filename="don-vi.xlsx", title="Đơn vị", header=HEADER, rows=rows)
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        ["p-kim-lien", "Lấn chiếmvỉa hè"],
        ["p-van-mieu", "=SUM(A1)"],
    ]
    assert sheet["B3"].data_type == "s"  # still text, not a formula
