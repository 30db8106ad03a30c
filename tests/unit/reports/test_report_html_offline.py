"""A report opens with no network: no script, stylesheet, image or frame from another host.

What counts as a request is documented in ``report_checks``; a plain ``<a href>`` to
another host is a link the reader may follow, not a request, and is allowed.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from qlib.reports import run
from qlib.reports.run import strip_cdn_mathjax
from report_checks import external_resources, output_problems

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reports"
TINY = FIXTURES / "tiny_plot.ipynb"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<script src="https://cdn.example/require.js"></script>', 1),
        ("<script src='//cdn.example/x.js'></script>", 1),
        ('<link rel="stylesheet" href="http://fonts.example/a.css">', 1),
        ('<img src="https://img.example/a.png" srcset="https://img.example/b.png 2x">', 2),
        ('<iframe src="https://frame.example/"></iframe>', 1),
        ('<style>@import "https://css.example/a.css"; p {color: red}</style>', 1),
        ('<div style="background: url(https://img.example/bg.png)"></div>', 1),
        # not requests: a hyperlink, local and data URLs, code inside a script body
        ('<a href="https://plotly.com/">plotly</a>', 0),
        ('<img src="data:image/png;base64,AAAA"><script src="local.js"></script>', 0),
        ('<script>var u = "<img src=\\"https://tile.example/a.png\\">";</script>', 0),
        ('<link rel="stylesheet" href="static/index.css">', 0),
    ],
)
def test_external_resources_finds_requests_not_links(html, expected):
    assert len(external_resources(html)) == expected, external_resources(html)


def test_strip_cdn_mathjax_removes_plotly_loader_only():
    nb = nbformat.v4.new_notebook()
    loader = '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js">'
    nb.cells.append(nbformat.v4.new_code_cell("fig", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": f"<div>{loader}</script><script>Plotly.newPlot()"
                                           "</script></div>", "text/plain": "Figure"})]))
    assert strip_cdn_mathjax(nb) == 1
    html = nb.cells[0].outputs[0].data["text/html"]
    assert "mathjax" not in html and "Plotly.newPlot()" in html
    assert strip_cdn_mathjax(nb) == 0


def test_report_html_of_a_plotting_notebook_requests_no_other_host(tmp_path):
    html_path = run(TINY, {"n": 5}, tmp_path / "out", run_date="2024-08-08")
    html = html_path.read_text(encoding="utf-8")
    assert external_resources(html) == []
    assert "require.min.js" not in html and "MathJax" not in html.split("<body", 1)[0]
    assert "Plotly.newPlot" in html  # the figure is still drawn, plotly.js inlined
    assert output_problems(html_path.with_suffix(".ipynb")) == []
