"""Helpers of the report tests: a report page parsed with ``html.parser``."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

VOID = {"meta", "input", "br", "img", "hr", "link", "col", "wbr", "source"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def own_text(self) -> str:
        """The text directly inside the element, not in its child elements."""
        return "".join(c for c in self.children if isinstance(c, str))

    def iter(self) -> Any:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def by_id(self, ident: str) -> Element:
        (found,) = [e for e in self.iter() if e.attrs.get("id") == ident]
        return found


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(page: str) -> Element:
    parser = _Parser()
    parser.feed(page)
    parser.close()
    return parser.root


def report_data(root: Element) -> Any:
    """The JSON data block of a report."""
    return json.loads(root.by_id("report-data").text())


def feature_rows(root: Element) -> dict[str, Element]:
    """Feature name -> its row of the feature table."""
    table = root.by_id("feature-table")
    return {tr.attrs["data-name"]: tr for tr in table.find_all("tr", "feature")}


def cell(row: Element, column: str) -> Element:
    """The cell of a feature row under the heading with data-key `column`."""
    from beam_stats.report.page import COLUMNS

    keys = [key for key, *_ in COLUMNS]
    cells = [c for c in row.children if isinstance(c, Element) and c.tag == "td"]
    return cells[keys.index(column)]


def lines(td: Element) -> list[str]:
    """The shown value of each dataset in a cell."""
    return [span.text() for span in td.find_all("span", "v")]
