"""Runbooks as knowledge-base articles: Markdown and HTML, every piece of text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from franchise.db import Database
from franchise.runbooks.article import (
    EDGE_COLOUR,
    ArticleSource,
    html_fragment,
    html_page,
    markdown_article,
    md,
    reading_order,
    standalone_svg,
)
from franchise.runbooks.definition import Runbook
from franchise.runbooks.lint import lint_source
from franchise.runbooks.service import load_starter
from tests.support import CliInvoker

STARTER = Path(__file__).resolve().parents[2] / "src" / "franchise" / "starter" / "runbooks"
XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
BASE = "https://franchise.acme.example"

HOSTILE = """\
format: 2
key: hostile
title: "<script>alert(1)</script> & [click](javascript:alert(2))"
category: vpn
status: draft
maintainer: "<i>me</i>"
description: "- not a list *bold* <img src=x onerror=alert(3)> # not a heading"
match: {keywords: [x]}
inputs:
  - {id: who, label: "<b>User</b> | pipe", required: true}
start: first
steps:
  first:
    kind: check
    text: "Is it <b>bold</b> & \\"quoted\\" `code`?"
    where: "Admin > <Users>"
    options: {"<img src=x onerror=alert(1)>": fixed, "It's [no](http://evil.example)": again}
  again:
    kind: action
    text: "1. Try again </li></ol><script>x</script>"
    estimate: {minutes: 5, cost: 120, impact: low}
    options: {"Back to the start": first, "Gave up": up}
  up: {kind: escalate, to: L2, text: "Because <u>reasons</u>"}
  fixed:
    kind: resolve
    text: "Done </svg><script>x</script>"
    done_when: ["<script>done()</script> ticked"]
edge_cases:
  - {when: "<when>", do: "**do** it [now](javascript:x)"}
sign_off: {resolve: "L1 <b>may</b> close"}
done_when: ["Cause & fix recorded"]
"""


def _parse(text: str, name: str = "<test>") -> Runbook:
    runbook, problems = lint_source(text, name)
    assert runbook is not None, problems
    return runbook


def _xml(page: str) -> ET.Element:
    assert page.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(page.split("\n", 1)[1])  # noqa: S314 - our own output


STARTERS = sorted(STARTER.glob("*.yaml"))


@pytest.mark.parametrize("path", STARTERS, ids=lambda p: p.stem)
def test_every_starter_runbook_is_a_well_formed_page_with_its_graph(path: Path) -> None:
    runbook = _parse(path.read_text(encoding="utf-8"), path.name)
    page = html_page(ArticleSource(runbook, 3, BASE))
    root = _xml(page)
    svgs = list(root.iter(f"{SVG}svg"))
    assert len(svgs) == 1
    # Every step has its anchor, and the flowchart's boxes link to them.
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {f"step-{sid}" for sid in runbook.steps} <= ids
    links = [a.get("href") for a in root.iter(f"{XHTML}a")]
    assert f"{BASE}/runbooks/{runbook.key}" in links
    text = "".join(root.itertext())
    for ending in (s for s in runbook.steps.values() if s.is_terminal):
        for item in runbook.done_items(ending.id):
            assert item in text
    for case in runbook.edge_cases:
        assert case.when in text
    for rule in runbook.sign_off.values():
        assert rule in text
    assert "revision 3" in text


@pytest.mark.parametrize("path", STARTERS, ids=lambda p: p.stem)
def test_every_starter_runbook_is_markdown_with_its_steps_in_reading_order(path: Path) -> None:
    runbook = _parse(path.read_text(encoding="utf-8"), path.name)
    article = markdown_article(ArticleSource(runbook, 1, BASE), svg_file=f"{runbook.key}.svg")
    headings = re.findall(r"^### \d+\. [A-Za-z]+: `([^`]+)`", article, re.M)
    assert headings == [s.id for s in reading_order(runbook)]
    assert headings[0] == runbook.start
    assert sorted(headings) == sorted(runbook.steps)
    assert f"]({runbook.key}.svg)" in article
    assert f"<{BASE}/runbooks/{runbook.key}>" in article
    assert "## Done when" in article and "## Edge cases" in article


def test_the_standalone_flowchart_carries_its_own_colours() -> None:
    runbook = _parse(HOSTILE)
    root = ET.fromstring(standalone_svg(runbook))  # noqa: S314 - our own output
    boxes = {
        g.get("data-step"): g.find(f"{SVG}rect")
        for g in root.iter(f"{SVG}g")
        if "node" in (g.get("class") or "").split()
    }
    fills = {
        step: (box.get("fill"), box.get("stroke")) for step, box in boxes.items() if box is not None
    }
    assert fills == {
        "first": ("#eff6ff", "#2563eb"),
        "again": ("#fffbeb", "#d97706"),
        "up": ("#fef2f2", "#dc2626"),
        "fixed": ("#f0fdf4", "#16a34a"),
    }
    edges = [p for p in root.iter(f"{SVG}path") if "edge" in (p.get("class") or "").split()]
    assert edges and all(p.get("stroke") == EDGE_COLOUR for p in edges)
    labels = [g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g") if g.get("class") == "edge-label"]
    assert labels and all(r is not None and r.get("fill") == "#ffffff" for r in labels)


def test_reading_order_follows_the_options_breadth_first() -> None:
    runbook = _parse(HOSTILE)
    # first's options in order: fixed, again; then again's: (first seen), up.
    assert [s.id for s in reading_order(runbook)] == ["first", "fixed", "again", "up"]


def test_hostile_text_is_escaped_in_the_html_page() -> None:
    runbook = _parse(HOSTILE)
    page = html_page(ArticleSource(runbook, 1, BASE))
    root = _xml(page)  # well-formed despite the markup in the text
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>" not in page and "<u>" not in page and "<i>me" not in page
    assert not [a for a in root.iter(f"{XHTML}a") if "javascript" in (a.get("href") or "")]
    assert not list(root.iter(f"{XHTML}script"))
    text = "".join(root.itertext())
    # The text itself survives, readable.
    assert "<script>alert(1)</script> & [click](javascript:alert(2))" in text
    assert "<script>done()</script> ticked" in text
    assert "L1 <b>may</b> close" in text
    assert "Escalate to L2" in text
    assert "5 min, cost 120, impact low" in text


def test_hostile_text_is_inert_in_markdown() -> None:
    runbook = _parse(HOSTILE)
    article = markdown_article(ArticleSource(runbook, 1, BASE))
    assert "<script" not in article.replace("<svg", "")
    assert "<img" not in article and "<b>" not in article
    # No user-written link: every "](" that opens a link target is one of ours (anchors).
    # (The SVG after it is an HTML block: Markdown is not read inside it.)
    prose = article[: article.index("<svg")]
    targets = re.findall(r"(?<!\\)\]\(([^)]*)\)", prose)
    assert targets and all(t.startswith("#step-") for t in targets)
    # Nothing user-written opens a list, a heading or emphasis.
    assert "\\- not a list \\*bold\\* &lt;img src=x onerror=alert(3)&gt; \\# not" in article
    assert "1\\. Try again &lt;/li&gt;" in article
    assert "&lt;b&gt;User&lt;/b&gt; \\| pipe (required)" in article
    # The embedded SVG escapes its own text.
    svg = article[article.index("<svg") :]
    ET.fromstring(svg)  # noqa: S314 - our own output
    assert "<script" not in svg


def test_md_escapes_at_the_edges() -> None:
    assert md("plain words") == "plain words"
    assert md("a\n\n  b") == "a b"
    assert md("12. twelve") == "12\\. twelve"
    assert md("+ plus") == "\\+ plus"
    assert md("2024 was fine") == "2024 was fine"
    assert md("x < y & z") == "x &lt; y &amp; z"
    assert md("[a](b)") == "\\[a\\](b)"


def test_the_fragment_is_what_a_knowledge_base_gets() -> None:
    runbook = _parse(HOSTILE)
    fragment = html_fragment(ArticleSource(runbook, 2, BASE + "/"))
    root = ET.fromstring(fragment)  # noqa: S314 - our own output
    assert root.tag == "article"
    assert root.find(".//a").get("href") == f"{BASE}/runbooks/hostile"  # type: ignore[union-attr]
    assert fragment.count("<svg") == 1


def test_export_writes_markdown_with_svg_files_and_html_pages(
    db: Database, cli: CliInvoker, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        load_starter(session)
    out = tmp_path / "md"
    result = cli("runbook", "export", "--format", "markdown", str(out))
    assert result.exit_code == 0, result.output
    keys = sorted(p.stem for p in STARTERS)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{k}.md" for k in keys] + [f"{k}.svg" for k in keys]
    )
    for key in keys:
        ET.fromstring((out / f"{key}.svg").read_text(encoding="utf-8"))  # noqa: S314
        assert f"]({key}.svg)" in (out / f"{key}.md").read_text(encoding="utf-8")
    html = tmp_path / "html"
    result = cli("runbook", "export", "--format", "html", str(html))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in html.iterdir()) == [f"{k}.html" for k in keys]
    page = (html / "vpn-auth-failure.html").read_text(encoding="utf-8")
    assert "<svg" in page
    # No FRANCHISE_PUBLIC_URL: the links use this server's address.
    assert 'href="http://127.0.0.1:8000/runbooks/vpn-auth-failure"' in page


def test_export_refuses_an_unknown_format_and_writes_nothing(
    db: Database, cli: CliInvoker, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        load_starter(session)
    result = cli("runbook", "export", "--format", "pdf", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "--format" in result.output and "pdf" in result.output
    assert not (tmp_path / "x").exists()
