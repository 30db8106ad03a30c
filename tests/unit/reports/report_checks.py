"""Checks of a produced report: no traceback or stderr error in any output, no request
to another host when the HTML is opened.

External references that count as requests (the page fetches them when it opens):
``src``/``srcset``/``poster``/``data`` of any element (script, img, iframe, audio,
video, source, embed, object, input) and ``href`` of ``<link>`` (stylesheet, preload,
icon, manifest), plus ``url(...)``/``@import`` in ``<style>`` elements and ``style``
attributes. ``<a href>`` is a hyperlink the reader may follow and is allowed. Text
inside ``<script>`` bodies (the inlined plotly.js mentions map-tile hosts it never
loads for our figures) is code, not a reference.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*([^'")\s]+)""", re.IGNORECASE)
_RESOURCE_ATTRS = {"src", "srcset", "poster", "data"}


def is_external(url: str) -> bool:
    """True for ``http://``, ``https://``, ``//host`` and other ``scheme://`` URLs."""
    return bool(_EXTERNAL.match(url))


class _ResourceParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in _RESOURCE_ATTRS:
                urls = [part.split()[0] for part in value.split(",") if part.split()] \
                    if name == "srcset" else [value]
                self.found += [f"<{tag} {name}={u}>" for u in urls if is_external(u)]
            elif name == "href" and tag == "link" and is_external(value):
                self.found.append(f"<link href={value}>")
            elif name == "style":
                self._css(value, f"<{tag} style>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data, "<style>")

    def _css(self, text: str, where: str) -> None:
        self.found += [f"{where} url({u})" for u in _CSS_URL.findall(text) if is_external(u)]


def external_resources(html: str) -> list[str]:
    """Every reference in ``html`` that a browser would fetch from another host."""
    parser = _ResourceParser()
    parser.feed(html)
    parser.close()
    return parser.found


def output_problems(ipynb: Path) -> list[str]:
    """Outputs of an executed notebook that show a traceback or an error on stderr.

    Returns one line per offending output: cell index, output type and the first
    offending line.
    """
    nb = json.loads(Path(ipynb).read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                problems.append(f"cell {i}: error output {out.get('ename')}: {out.get('evalue')}")
                continue
            texts = ["".join(out.get("text", ""))] if kind == "stream" else []
            for value in (out.get("data") or {}).values():
                texts.append(value if isinstance(value, str) else
                             "".join(value) if isinstance(value, list) else "")
            for text in texts:
                if "Traceback" in text:
                    line = next(ln for ln in text.splitlines() if "Traceback" in ln)
                    problems.append(f"cell {i}: {kind} has a traceback: {line.strip()[:200]}")
                elif kind == "stream" and out.get("name") == "stderr" and "Error" in text:
                    line = next(ln for ln in text.splitlines() if "Error" in ln)
                    problems.append(f"cell {i}: stderr shows an error: {line.strip()[:200]}")
    return problems
