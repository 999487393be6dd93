"""The flowchart: one box per step, one arrow per option, every piece of text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from franchise.runbooks.definition import Runbook
from franchise.runbooks.flowchart import depths, layout, render_svg
from franchise.runbooks.lint import lint_source

STARTER = Path(__file__).resolve().parents[2] / "src" / "franchise" / "starter" / "runbooks"
SVG = "{http://www.w3.org/2000/svg}"

HOSTILE = """\
key: hostile
title: "<script>alert(1)</script> & {{ 7*7 }}"
category: vpn
status: draft
description: x
match: {keywords: [x]}
start: first
steps:
  first:
    kind: check
    text: "Is it <b>bold</b> & \\"quoted\\" {{ 7*7 }}?"
    options: {"<img src=x onerror=alert(1)>": fixed, "It's 'no'": again}
  again:
    kind: action
    text: Try again
    estimate: {minutes: 5, cost: 0, impact: none}
    options: {"Back to the start": first, "Gave up": fixed}
  fixed: {kind: resolve, text: "Done </svg><script>x</script>"}
done_when: [ok]
"""


def _parse(text: str) -> Runbook:
    runbook, _problems = lint_source(text, "<test>")
    assert runbook is not None
    return runbook


def _nodes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]


@pytest.mark.parametrize("path", sorted(STARTER.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_step_is_a_node_and_every_option_an_arrow(path: Path) -> None:
    runbook = _parse(path.read_text(encoding="utf-8"))
    root = ET.fromstring(render_svg(runbook))  # noqa: S314 - our own output, not untrusted XML
    nodes = _nodes(root)
    assert sorted(n.get("data-step") or "" for n in nodes) == sorted(runbook.steps)
    for node in nodes:
        step = runbook.steps[node.get("data-step") or ""]
        assert f"kind-{step.kind}" in (node.get("class") or "")
    arrows = [
        (p.get("data-from"), p.get("data-to"))
        for p in root.iter(f"{SVG}path")
        if "edge" in (p.get("class") or "").split()
    ]
    expected = [(s.id, t) for s in runbook.steps.values() for t in s.options.values()]
    assert sorted(arrows) == sorted(expected)
    labels = [
        "".join(g.find(f"{SVG}title").itertext())  # type: ignore[union-attr]
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "edge-label"
    ]
    assert sorted(labels) == sorted(a for s in runbook.steps.values() for a in s.options)


@pytest.mark.parametrize("path", sorted(STARTER.glob("*.yaml")), ids=lambda p: p.stem)
def test_step_names_are_whole_and_answer_labels_stay_inside_the_chart(path: Path) -> None:
    from franchise.runbooks.flowchart import label_width

    runbook = _parse(path.read_text(encoding="utf-8"))
    root = ET.fromstring(render_svg(runbook))  # noqa: S314 - our own output
    shown = {
        "".join(t.itertext())
        for t in root.iter(f"{SVG}text")
        if "node-id" in (t.get("class") or "").split()
    }
    assert shown == set(runbook.steps), "a step name is cut off"
    chart = layout(runbook)
    for edge in chart.edges:
        half = label_width(edge) / 2
        assert edge.label_x - half >= 0 and edge.label_x + half <= chart.width, edge.label


def test_boxes_do_not_overlap_and_fit_inside_the_chart() -> None:
    runbook = _parse((STARTER / "vpn-auth-failure.yaml").read_text(encoding="utf-8"))
    chart = layout(runbook)
    boxes = list(chart.nodes.values())
    for box in boxes:
        assert box.x >= 0 and box.x + box.width <= chart.width
        assert box.y >= 0 and box.y + box.height <= chart.height
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a.x + a.width <= b.x
                or b.x + b.width <= a.x
                or a.y + a.height <= b.y
                or b.y + b.height <= a.y
            )
            assert apart, (a.id, b.id)


def test_rows_follow_the_longest_path_so_forward_arrows_point_down() -> None:
    runbook = _parse(HOSTILE)
    row = depths(runbook)
    assert row["first"] == 0
    assert row["again"] == 1
    assert row["fixed"] == 2  # reached directly from `first` too, but drawn below `again`
    chart = layout(runbook)
    loop = [e for e in chart.edges if (e.source, e.target) == ("again", "first")]
    assert len(loop) == 1
    assert loop[0].upward
    assert all(not e.upward for e in chart.edges if e.target != "first")


def test_user_text_is_escaped_and_the_svg_stays_well_formed() -> None:
    runbook = _parse(HOSTILE)
    svg = render_svg(runbook)
    assert "<script" not in svg
    assert "<img" not in svg
    assert "<b>" not in svg
    assert "</svg><script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg
    # Jinja-looking text is data here: nothing evaluates it.
    assert "{{ 7*7 }}" in svg
    assert "49" not in re.sub(r'"[^"]*"', "", svg)
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted XML
    assert len(_nodes(root)) == 3
    assert "<script>alert(1)</script>" in (root.get("aria-label") or "")


def test_steps_no_path_reaches_are_drawn_in_a_last_row() -> None:
    text = HOSTILE.replace(
        "done_when: [ok]", "  orphan: {kind: resolve, text: Nobody gets here}\ndone_when: [ok]"
    )
    runbook = _parse(text)
    row = depths(runbook)
    assert row["orphan"] == max(row.values())
    assert "orphan" in layout(runbook).nodes
