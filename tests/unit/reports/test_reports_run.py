"""Tests for qlib.reports.run: parameter checks, execution, HTML, failures, index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qlib.errors import DataNotFoundError, EngineError, ParameterError
from qlib.reports import check_parameters, parse_cli_parameters, run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reports"
TINY = FIXTURES / "tiny_plot.ipynb"
FAILING = FIXTURES / "failing.ipynb"
NO_PARAMS = FIXTURES / "no_params.ipynb"

CDN_PLOTLY = re.compile(r"<script[^>]*src=\"[^\"]*plotly[^\"]*\"", re.IGNORECASE)


def assert_offline_plotly_html(html: str) -> None:
    """The page draws a plotly figure with plotly.js inlined and no CDN script for it."""
    assert not CDN_PLOTLY.search(html), CDN_PLOTLY.search(html).group(0)
    assert re.search(r"plotly\.js v\d+\.\d+\.\d+", html), "plotly.js bundle not inlined"
    assert "Plotly.newPlot" in html


# ------------------------------------------------------------------ parameter checks
def test_check_parameters_unknown_name_raises_listing_known():
    with pytest.raises(ParameterError, match=r"unknown parameter 'nn'.*known parameters: "
                                             r"labels, maybe, n, options, renderer, scale"):
        check_parameters(TINY, {"nn": 3})


def test_check_parameters_notebook_without_parameters_cell_raises():
    with pytest.raises(ParameterError, match="unknown parameter 'x'.*no parameters cell"):
        check_parameters(NO_PARAMS, {"x": 1})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n", "5", "int"),
        ("n", 5.0, "int"),
        ("n", True, "int"),
        ("scale", False, "float"),
        ("scale", "1.5", "float"),
        ("title", 3, "str"),
        ("show_table", 1, "bool"),
        ("options", [1], "dict"),
        ("labels", {"a": 1}, "list"),
        ("maybe", "x", r"int \| None"),
    ],
)
def test_check_parameters_wrong_type_raises_naming_parameter_value_and_type(name, value,
                                                                            expected):
    with pytest.raises(ParameterError, match=rf"parameter '{name}'.*was {re.escape(repr(value))}"
                                             rf".*expected {expected}"):
        check_parameters(TINY, {name: value})


@pytest.mark.parametrize(
    "params",
    [
        {"n": 3, "scale": 2},  # an int is a valid float
        {"scale": 2.5, "title": "x", "show_table": True},
        {"options": {"a": [1, 2.0, None]}, "labels": ["a", "b"]},
        {"labels": ("a", "b")},  # a tuple is passed as a list
        {"maybe": None},
        {"maybe": 4},
    ],
)
def test_check_parameters_matching_types_pass(params):
    out = check_parameters(TINY, params)
    assert out.keys() == params.keys()


def test_check_parameters_line_papermill_cannot_parse_is_still_declared():
    # 'scale: float = 1.0  # y = scale * x' and 'maybe: int | None' defeat papermill's parser
    assert check_parameters(TINY, {"scale": 3.0, "maybe": 2}) == {"scale": 3.0, "maybe": 2}


def test_check_parameters_non_literal_value_raises_naming_path():
    with pytest.raises(ParameterError, match=r"parameter 'options'\['f'\].*object"):
        check_parameters(TINY, {"options": {"f": object()}})


def test_run_missing_notebook_raises_data_not_found(tmp_path):
    with pytest.raises(DataNotFoundError, match="nope.ipynb"):
        run(tmp_path / "nope.ipynb", out_dir=tmp_path / "out")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "../escape"}, "name"),
        ({"run_date": "2024/01/02"}, "run_date"),
        ({"timeout": 0}, "timeout"),
        ({"parameters": {"n": "many"}}, "parameter 'n'"),
    ],
)
def test_run_bad_arguments_raise_before_kernel_starts(tmp_path, kwargs, match):
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=match):
        run(TINY, out_dir=out, **kwargs)
    assert not list(out.glob("*/*.ipynb"))


def test_parse_cli_parameters_types_text_by_declaration():
    out = parse_cli_parameters(TINY, [("n", "1_000"), ("scale", "2"), ("title", "42"),
                                      ("show_table", "yes"), ("options", "{a: 1, b: [x]}"),
                                      ("labels", "[1, 2]")])
    assert out == {"n": 1000, "scale": 2.0, "title": "42", "show_table": True,
                   "options": {"a": 1, "b": ["x"]}, "labels": [1, 2]}


def test_parse_cli_parameters_bad_int_raises_naming_parameter():
    with pytest.raises(ParameterError, match=r"parameter 'n' was 'ten', expected int"):
        parse_cli_parameters(TINY, [("n", "ten")])


# ------------------------------------------------------------------ execution
def test_run_tiny_notebook_writes_ipynb_offline_html_record_and_index(tmp_path):
    out = tmp_path / "reports" / "out"
    html_path = run(TINY, {"n": 7, "scale": 2, "title": "seven"}, out, run_date="2024-08-08")

    assert html_path == out / "tiny_plot" / "2024-08-08.html"
    ipynb = html_path.with_suffix(".ipynb")
    assert ipynb.is_file()
    nb = json.loads(ipynb.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert 'renderer = "notebook"' in "".join(injected[0]["source"])
    html = html_path.read_text()
    assert_offline_plotly_html(html)
    assert "seven" in html

    record = json.loads(html_path.with_suffix(".json").read_text())
    assert record["status"] == "ok"
    assert record["parameters"] == {"n": 7, "scale": 2, "title": "seven", "renderer": "notebook"}
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "tiny_plot" in index and "2024-08-08" in index
    assert 'href="out/tiny_plot/2024-08-08.html"' in index
    assert "n=7" in index


def test_run_failing_cell_raises_engine_error_naming_notebook_and_cell(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(EngineError, match=r"failing\.ipynb failed in cell 3 .*RuntimeError: "
                                          r"told to fail") as info:
        run(FAILING, {"fail": True}, out, run_date="2024-08-08")
    ipynb = out / "failing" / "2024-08-08.ipynb"
    assert str(ipynb) in str(info.value)
    assert ipynb.is_file()
    assert "told to fail" in ipynb.read_text()
    assert (out / "failing" / "2024-08-08.html").is_file()
    record = json.loads((out / "failing" / "2024-08-08.json").read_text())
    assert record["status"] == "failed" and "cell 3" in record["error"]
    index = (tmp_path / "index.html").read_text()
    assert 'class="failed"' in index and "told to fail" in index


# ------------------------------------------------------------------ the data tour notebook
ROOT = Path(__file__).resolve().parents[3]
DATA_TOUR = ROOT / "notebooks" / "00_data_tour.ipynb"


@pytest.mark.realdata
@pytest.mark.slow
def test_run_data_tour_on_binance_spot_writes_offline_plotly_html(tmp_path, shared_data):
    pytest.importorskip("qlib.data.binance", reason="loader qlib.data.binance does not exist yet")
    pytest.importorskip("qlib.book", reason="qlib.book.bbo does not exist yet")
    directory = shared_data / "binance-spot-btcusdt-hftbacktest"
    html_path = run(DATA_TOUR, {"source": "binance", "path": str(directory)},
                    tmp_path / "out", name="data_tour_binance", run_date="2024-08-08")
    html = html_path.read_text()
    assert_offline_plotly_html(html)
    assert html.count("Plotly.newPlot") >= 3  # event rates, price path, spread and sizes
    assert "Validation report: binance" in html
    assert "BTCUSDT.BINANCE" in html
