"""Run a parameterised notebook as a report: papermill, then HTML, then the index page.

``run(notebook, parameters)`` checks the parameters against the notebook's
``parameters`` cell *before* a kernel starts (papermill itself only logs a warning
for unknown names), executes the notebook into ``<out_dir>/<name>/<date>.ipynb``,
converts it to ``<date>.html`` beside it with plotly.js inlined (works offline), and
refreshes ``index.html`` in the parent of ``out_dir``.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import yaml

from qlib.errors import DataNotFoundError, EngineError, ParameterError

__all__ = [
    "DEFAULT_TIMEOUT",
    "ReportResult",
    "check_parameters",
    "parse_cli_parameters",
    "run",
    "write_index",
]

#: Default per-cell execution timeout, in seconds.
DEFAULT_TIMEOUT = 600
#: Parameter injected into notebooks that declare it, so figures embed plotly.js.
RENDERER_PARAMETER = "renderer"
#: The plotly renderer that inlines plotly.js (one copy per notebook): offline HTML.
OFFLINE_RENDERER = "notebook"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SIMPLE_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool,
                                  "list": list, "dict": dict}


@dataclass
class ReportResult:
    """What one report run produced (also stored as ``<date>.json`` beside the report).

    Attributes
    ----------
    name, run_date
        Report name and date stamp (the file stem).
    notebook
        Source notebook path.
    parameters
        Parameters passed to papermill (after the renderer injection).
    status
        ``"ok"`` or ``"failed"``.
    seconds
        Wall time of execution and conversion.
    ipynb, html
        Output paths.
    error
        One-line description of the failure, empty when ``status == "ok"``.
    finished_at
        UTC ISO time stamp.
    """

    name: str
    run_date: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    seconds: float = 0.0
    ipynb: str = ""
    html: str = ""
    error: str = ""
    finished_at: str = ""


# --------------------------------------------------------------------------- parameters
def _declared(notebook: Path) -> dict[str, dict[str, Any]]:
    """Return the declared parameters: ``papermill.inspect_notebook``, completed by ``ast``.

    papermill's line parser skips lines it cannot read (a comment containing ``=``,
    an annotation such as ``int | None``) with only a log message; those names are
    recovered here from the cell's syntax tree, so they are not reported as unknown.
    """
    import nbformat
    import papermill

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)  # the ast pass below covers what it would warn about
    try:
        declared = dict(papermill.inspect_notebook(str(notebook)))
    except Exception as exc:  # papermill raises ValueError/KeyError on malformed notebooks
        raise ParameterError(
            f"notebook {str(notebook)!r} could not be inspected for parameters: {exc}") from exc
    finally:
        logger.setLevel(level)
    cells = nbformat.read(str(notebook), as_version=4).cells
    for cell in cells:
        if cell.cell_type != "code" or "parameters" not in cell.metadata.get("tags", []):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            raise ParameterError(
                f"the parameters cell of {notebook.name} is not valid Python: {exc}") from exc
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                entry = {"name": node.target.id, "inferred_type_name": ast.unparse(node.annotation),
                         "default": ast.unparse(node.value) if node.value else "None", "help": ""}
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                entry = {"name": node.targets[0].id, "inferred_type_name": "None",
                         "default": ast.unparse(node.value), "help": ""}
            else:
                continue
            declared.setdefault(entry["name"], entry)
        break
    return declared


def _allowed_types(declared: Mapping[str, Any]) -> tuple[list[type], bool] | None:
    """Return (types, none_ok) from an inferred annotation, or None when unchecked."""
    text = str(declared.get("inferred_type_name") or "None").strip()
    if text == "None":  # no annotation: fall back to the literal default's type
        try:
            default = ast.literal_eval(str(declared.get("default")))
        except (ValueError, SyntaxError):
            return None
        if default is None:
            return None
        kind = type(default).__name__
        return ([_SIMPLE_TYPES[kind]], False) if kind in _SIMPLE_TYPES else None
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.*)\]", text)
    alternatives = [m.group(1)] + ["None"] if m else re.split(r"\s*\|\s*", text)
    if len(alternatives) == 1:
        m = re.fullmatch(r"(?:typing\.)?Union\[(.*)\]", text)
        if m:
            alternatives = [a.strip() for a in m.group(1).split(",")]
    types, none_ok = [], False
    for alt in alternatives:
        base = re.sub(r"\[.*\]$", "", alt.strip()).removeprefix("typing.").lower()
        if base in ("none", "nonetype"):
            none_ok = True
        elif base in _SIMPLE_TYPES:
            types.append(_SIMPLE_TYPES[base])
        else:
            return None  # an annotation we do not check (e.g. a class)
    return types, none_ok


def _matches(value: Any, types: list[type], none_ok: bool) -> bool:
    if value is None:
        return none_ok
    for t in types:
        if t is bool and isinstance(value, bool):
            return True
        if isinstance(value, bool):
            continue  # a bool is not an int or a float here
        if t is int and isinstance(value, Integral):
            return True
        if t is float and isinstance(value, Real):
            return True
        if t in (str, list, dict) and isinstance(value, t):
            return True
    return False


def _check_literal(value: Any, where: str) -> None:
    """Refuse values papermill cannot write as a Python literal."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_literal(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ParameterError(f"parameter {where} has key {k!r}; keys must be str")
            _check_literal(v, f"{where}[{k!r}]")
        return
    raise ParameterError(
        f"parameter {where} was {value!r} of type {type(value).__name__}; parameters must be"
        " str, int, float, bool, None, list or dict")


def check_parameters(notebook: str | os.PathLike[str],
                     parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check parameters against the notebook's ``parameters`` cell, without a kernel.

    Parameters
    ----------
    notebook
        Path of the notebook.
    parameters
        Names and values to inject.

    Returns
    -------
    dict
        The parameters, with integral values for ``float`` parameters kept as given
        (an int is a valid float) and tuples turned into lists.

    Raises
    ------
    DataNotFoundError
        If the notebook does not exist.
    ParameterError
        For a name the notebook does not declare (the message lists the declared
        ones), or a value whose type does not match the declared annotation
        (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``, optionally
        ``| None``; an int is accepted for a float, a bool is not an int).
    """
    path = _notebook_path(notebook)
    params = dict(parameters or {})
    if not params:
        return {}
    declared = _declared(path)
    for name, value in params.items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none: the notebook has no parameters cell"
            raise ParameterError(
                f"unknown parameter {name!r} for notebook {path.name}; known parameters: {known}")
        if isinstance(value, tuple):
            value = params[name] = list(value)
        _check_literal(value, repr(name))
        allowed = _allowed_types(declared[name])
        if allowed is None:
            continue
        types, none_ok = allowed
        if not _matches(value, types, none_ok):
            expected = " | ".join([t.__name__ for t in types] + (["None"] if none_ok else []))
            raise ParameterError(
                f"parameter {name!r} of notebook {path.name} was {value!r}"
                f" ({type(value).__name__}), expected {expected}")
    return params


def parse_cli_parameters(notebook: str | os.PathLike[str],
                         pairs: list[tuple[str, str]] | list[list[str]]) -> dict[str, Any]:
    """Turn ``-p key value`` strings into typed values using the declared types.

    A ``str`` parameter keeps the text as given; ``int``/``float`` parse numbers;
    ``bool`` accepts true/false/yes/no/1/0; ``list``/``dict`` and unannotated
    parameters parse the text as YAML (``"[1, 2]"``, ``"{n_events: 5000}"``).

    Raises
    ------
    ParameterError
        For an unknown name or a text that does not parse as the declared type.
    """
    path = _notebook_path(notebook)
    declared = _declared(path)
    out: dict[str, Any] = {}
    for name, text in pairs:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none: the notebook has no parameters cell"
            raise ParameterError(
                f"unknown parameter {name!r} for notebook {path.name}; known parameters: {known}")
        allowed = _allowed_types(declared[name])
        types = allowed[0] if allowed else []
        try:
            if types == [str]:
                out[name] = text
            elif types == [bool]:
                low = text.strip().lower()
                if low not in ("true", "false", "yes", "no", "1", "0"):
                    raise ValueError(text)
                out[name] = low in ("true", "yes", "1")
            elif types == [int]:
                out[name] = int(text.replace("_", ""))
            elif types == [float]:
                out[name] = float(text)
            else:
                out[name] = yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            expected = " | ".join(t.__name__ for t in types) or "a YAML value"
            raise ParameterError(
                f"parameter {name!r} was {text!r}, expected {expected}") from exc
    return out


# --------------------------------------------------------------------------- run
def run(notebook: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
        out_dir: str | os.PathLike[str] = "reports/out", *, name: str | None = None,
        run_date: str | dt.date | None = None, timeout: float = DEFAULT_TIMEOUT,
        kernel_name: str | None = None) -> Path:
    """Execute a notebook with parameters and write it as an HTML report.

    Parameters
    ----------
    notebook
        Path of the ``.ipynb`` to run (its ``parameters``-tagged cell declares the
        parameters).
    parameters
        Values to inject; checked by :func:`check_parameters` before any kernel
        starts. When the notebook declares ``renderer`` and no value is given,
        ``renderer="notebook"`` is injected so the HTML carries plotly.js inline.
    out_dir
        Directory of reports; the run writes ``<out_dir>/<name>/<run_date>.ipynb``,
        ``.html`` and ``.json`` (the :class:`ReportResult`), then refreshes
        ``<out_dir>/../index.html``.
    name
        Report name (default: the notebook's stem); letters, digits, ``_ . -``.
    run_date
        Date stamp of the file names: a date, or a string of letters, digits and
        ``_ . -`` (default: today's UTC date, ``YYYY-MM-DD``). A second run with the
        same name and date replaces the first.
    timeout
        Per-cell execution timeout in seconds.
    kernel_name
        Jupyter kernel; default the notebook's own (``python3``).

    Returns
    -------
    pathlib.Path
        The HTML report (the executed ``.ipynb`` has the same stem).

    Raises
    ------
    DataNotFoundError
        If the notebook does not exist.
    ParameterError
        For unknown or ill-typed parameters, a bad name, date or timeout.
    EngineError
        If a cell raised (the message names the notebook, the failing cell's index
        in the notebook and the error; the executed notebook and its HTML are still
        written), or the kernel could not run.
    """
    path = _notebook_path(notebook)
    params = check_parameters(path, parameters)
    if RENDERER_PARAMETER not in params and RENDERER_PARAMETER in _declared(path):
        params[RENDERER_PARAMETER] = OFFLINE_RENDERER
    name = path.stem if name is None else name
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ParameterError(f"name must be letters, digits, '_', '.', '-', was {name!r}")
    stamp = _date_stamp(run_date)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ParameterError(f"timeout must be a positive number of seconds, was {timeout!r}")

    out_dir = Path(out_dir)
    target = out_dir / name
    target.mkdir(parents=True, exist_ok=True)
    ipynb, html_path = target / f"{stamp}.ipynb", target / f"{stamp}.html"
    result = ReportResult(name=name, run_date=stamp, notebook=str(path), parameters=params,
                          ipynb=str(ipynb), html=str(html_path))
    started = time.perf_counter()
    failure: EngineError | None = None
    try:
        failure = _execute(path, ipynb, params, timeout, kernel_name)
        if ipynb.exists():
            try:
                _to_html(ipynb, html_path)
            except Exception as exc:  # nbconvert failure: keep the executed notebook
                failure = failure or EngineError(
                    f"notebook {path.name} ran but its HTML conversion failed:"
                    f" {type(exc).__name__}: {_first_line(str(exc))}")
        if not html_path.exists():
            result.html = ""
    finally:
        result.seconds = round(time.perf_counter() - started, 3)
        result.finished_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        if failure is not None:
            result.status, result.error = "failed", str(failure)
        elif not ipynb.exists():
            result.status, result.error = "failed", "no executed notebook was written"
        _write_json(target / f"{stamp}.json", asdict(result))
        write_index(out_dir)
    if failure is not None:
        raise failure
    return html_path


def _execute(path: Path, ipynb: Path, params: dict[str, Any], timeout: float,
             kernel_name: str | None) -> EngineError | None:
    """Run papermill; return an EngineError describing a failure (not raised here)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its unknown-parameter warnings: check_parameters covered them
    try:
        papermill.execute_notebook(
            str(path), str(ipynb), parameters=params, kernel_name=kernel_name,
            progress_bar=False, log_output=False, cwd=str(path.parent),
            execution_timeout=timeout, request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as exc:
        index = _source_cell_index(path, exc.source, exc.cell_index)
        return EngineError(
            f"notebook {path.name} failed in cell {index} (execution count {exc.exec_count}):"
            f" {exc.ename}: {_first_line(exc.evalue)}; executed notebook written to {ipynb}")
    except Exception as exc:  # kernel start failure, timeout, dead kernel
        return EngineError(
            f"notebook {path.name} could not be executed: {type(exc).__name__}:"
            f" {_first_line(str(exc))}; output (if any) in {ipynb}")
    finally:
        logger.setLevel(level)
    return None


def _source_cell_index(path: Path, source: str, executed_index: int) -> int:
    """Map the failing cell of the executed copy back to its index in ``path``."""
    import nbformat

    cells = nbformat.read(str(path), as_version=4).cells
    matches = [i for i, c in enumerate(cells) if c.source == source]
    if not matches:
        return executed_index
    return min(matches, key=lambda i: abs(i - executed_index))


#: The nbconvert ``lab`` page without the scripts it loads from a CDN: require.js (no
#: output of ours needs an AMD loader: plotly's notebook renderer defines ``Plotly``
#: globally), MathJax (markdown math stays as its TeX source, e.g. ``$A e^{-k\\delta}$``),
#: mermaid.js and the ipywidgets HTML manager (reports hold no diagrams and no live
#: widgets; a widget output falls back to its ``text/plain`` representation).
_OFFLINE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""
_OFFLINE_TEMPLATE_NAME = "qlib_offline_lab.html.j2"
#: A MathJax loader from a CDN in an output: plotly's HTML renderers write one per figure
#: (``include_mathjax="cdn"``, not configurable in its ``notebook`` renderer). Our
#: figures carry no LaTeX, so the loader is dropped from the page.
_MATHJAX_SCRIPT_RE = re.compile(
    r"<script\b[^>]*\bsrc=[\"']https?://[^\"']*mathjax[^\"']*[\"'][^>]*>\s*</script>",
    re.IGNORECASE)


def strip_cdn_mathjax(nb: Any) -> int:
    """Remove MathJax ``<script src="https://...">`` loaders from ``text/html`` outputs.

    Parameters
    ----------
    nb
        An ``nbformat`` notebook node, changed in place.

    Returns
    -------
    int
        How many loaders were removed.
    """
    removed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            html_text = data.get("text/html")
            if html_text is None:
                continue
            text = "".join(html_text) if isinstance(html_text, list) else html_text
            new, n = _MATHJAX_SCRIPT_RE.subn("", text)
            if n:
                data["text/html"] = new
                removed += n
    return removed


def offline_html_exporter() -> Any:
    """Return the nbconvert exporter of the reports: the ``lab`` page with no CDN script.

    The page loads nothing from the network: plotly.js is inlined by the ``notebook``
    renderer (one copy per page), and the ``lab`` template's require.js, MathJax,
    mermaid.js and ipywidgets loaders are left out (see ``_OFFLINE_TEMPLATE``).
    """
    import jinja2
    from nbconvert import HTMLExporter

    loader = jinja2.DictLoader({_OFFLINE_TEMPLATE_NAME: _OFFLINE_TEMPLATE})
    return HTMLExporter(template_name="lab", template_file=_OFFLINE_TEMPLATE_NAME,
                        extra_loaders=[loader])


def _to_html(ipynb: Path, html_path: Path) -> None:
    import nbformat

    nb = nbformat.read(str(ipynb), as_version=4)
    strip_cdn_mathjax(nb)
    body, _ = offline_html_exporter().from_notebook_node(nb)
    _atomic_write_text(html_path, body)


def _first_line(text: str) -> str:
    text = str(text).strip()
    return text.splitlines()[0] if text else ""


def _notebook_path(notebook: str | os.PathLike[str]) -> Path:
    if not isinstance(notebook, (str, os.PathLike)):
        raise ParameterError(f"notebook must be a path, was {notebook!r}")
    path = Path(notebook).resolve()
    if path.suffix != ".ipynb":
        raise ParameterError(f"notebook must be an .ipynb file, was {str(notebook)!r}")
    if not path.is_file():
        raise DataNotFoundError(f"notebook {str(notebook)!r} does not exist")
    return path


def _date_stamp(run_date: str | dt.date | None) -> str:
    if run_date is None:
        return dt.datetime.now(dt.timezone.utc).date().isoformat()
    if isinstance(run_date, dt.datetime):
        return run_date.strftime("%Y-%m-%dT%H%MZ")
    if isinstance(run_date, dt.date):
        return run_date.isoformat()
    if isinstance(run_date, str) and _NAME_RE.match(run_date):
        return run_date
    raise ParameterError(
        f"run_date must be a date or a string of letters, digits, '_', '.', '-', was {run_date!r}")


# --------------------------------------------------------------------------- index
def _write_json(path: Path, payload: dict[str, Any]) -> None:
    _atomic_write_text(path, json.dumps(payload, indent=1, default=str))


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be served and read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_results(out_dir: str | os.PathLike[str]) -> list[ReportResult]:
    """Read every ``<out_dir>/<name>/<date>.json``, newest date first within a name."""
    out: list[ReportResult] = []
    for meta in sorted(Path(out_dir).glob("*/*.json")):
        try:
            payload = json.loads(meta.read_text(encoding="utf-8"))
            out.append(ReportResult(**payload))
        except (ValueError, TypeError):
            continue  # not one of ours (or torn by hand); the index skips it
    out.sort(key=lambda r: (r.name, r.run_date), reverse=False)
    by_name: dict[str, list[ReportResult]] = {}
    for r in out:
        by_name.setdefault(r.name, []).append(r)
    return [r for n in sorted(by_name) for r in sorted(by_name[n], key=lambda r: r.run_date,
                                                          reverse=True)]


_INDEX_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; color: #222; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e3e3e3;
         vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
tr.first td { border-top: 2px solid #ccc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; color: #444; }
.ok { color: #1a7f37; font-weight: 600; }
.failed { color: #cf222e; font-weight: 600; }
.err { color: #cf222e; font-size: 12px; }
"""


def write_index(out_dir: str | os.PathLike[str]) -> Path:
    """Write ``index.html`` in the parent of ``out_dir`` listing every report.

    One row per report run (name, date, status, parameters, seconds, links to the
    HTML and the executed notebook), grouped by name, newest first.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    out_dir = Path(out_dir)
    index = out_dir.parent / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    previous = None
    for r in load_results(out_dir):
        links = []
        for label, target in (("html", r.html), ("notebook", r.ipynb)):
            if target and Path(target).exists():
                rel = os.path.relpath(Path(target).resolve(), index.parent.resolve())
                links.append(f'<a href="{html.escape(Path(rel).as_posix())}">{label}</a>')
        params = ", ".join(f"{k}={v!r}" for k, v in r.parameters.items()) or "defaults"
        err = f'<div class="err">{html.escape(r.error)}</div>' if r.error else ""
        first = ' class="first"' if r.name != previous else ""
        previous = r.name
        rows.append(
            f"<tr{first}><td>{html.escape(r.name)}</td><td>{html.escape(r.run_date)}</td>"
            f'<td class="{html.escape(r.status)}">{html.escape(r.status)}</td>'
            f"<td><code>{html.escape(params)}</code>{err}</td>"
            f'<td class="num">{r.seconds:.1f}</td><td>{" &middot; ".join(links)}</td></tr>')
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(rows) if rows else '<tr><td colspan="6">No reports yet.</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>qlib reports</title>
<style>{_INDEX_CSS}</style>
</head>
<body>
<h1>qlib reports</h1>
<p class="meta">{len(rows)} report run(s) &middot; updated {now}</p>
<table>
<thead><tr><th>name</th><th>date</th><th>status</th><th>parameters</th><th>seconds</th>
<th>open</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""
    _atomic_write_text(index, page)
    return index
