"""A runbook's decision graph drawn as an SVG flowchart: layout and SVG text, no I/O.

Layout: a step's row is the length of the LONGEST path to it from the start, leaving out
the arrows that close a loop (graph.longest_path_depths), so every arrow that is not a
loop points down; steps no path reaches go in a last row. Within a row, steps start in
breadth-first discovery order (a step's options left to right as written), then are
ordered by the average position of the steps leading into them so that arrows cross less. Arrows leave the bottom of a box and enter the top of the next one;
an option leading back up (a loop) or sideways bends round the right-hand side. Every piece
of runbook text is XML-escaped: it is user input and the SVG is inlined in the page.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from html import escape

from franchise.runbooks.definition import Runbook
from franchise.runbooks.graph import discovery_order, drawn_targets
from franchise.runbooks.graph import longest_path_depths as depths

NODE_WIDTH = 210
H_GAP = 56
# Room between rows for the answer labels on the arrows.
V_GAP = 92
MARGIN = 24
HEADER = 22
LINE = 15
PADDING = 10
MAX_ROW = 6
TEXT_CHARS = 31
TEXT_LINES = 4
LABEL_CHARS = 22
LABEL_LINES = 3
LABEL_LINE = 13
# Average glyph widths at the font sizes the SVG sets (12 px text, 11 px labels).
TEXT_CHAR_PX = 6.4
LABEL_CHAR_PX = 6.0
ID_CHAR_PX = 6.7
KIND_CHAR_PX = 6.5


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    to: str | None
    text: str
    lines: tuple[str, ...]
    row: int
    x: float
    y: float
    width: float
    height: float

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    label_lines: tuple[str, ...]
    path: str
    label_x: float
    label_y: float
    upward: bool


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    width: float
    height: float


def _rows(runbook: Runbook, depth: dict[str, int]) -> list[list[str]]:
    count = max(depth.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(count)]
    # BFS discovery order first, so a step's options appear left to right as written.
    found = discovery_order(runbook)
    for step_id in sorted(runbook.steps, key=lambda s: (depth[s], found.get(s, len(found)))):
        rows[depth[step_id]].append(step_id)
    parents: dict[str, list[str]] = {s: [] for s in runbook.steps}
    for step_id in runbook.steps:
        for target in drawn_targets(runbook, step_id):
            if target in parents and depth[step_id] < depth[target]:
                parents[target].append(step_id)
    for index in range(1, len(rows)):
        # Relative position (0..1) of every step already placed in the rows above.
        placed = {s: (i + 0.5) / len(row) for row in rows[:index] for i, s in enumerate(row)}
        weights = {s: _mean([placed[p] for p in parents[s] if p in placed]) for s in rows[index]}
        rows[index].sort(key=weights.__getitem__)
    # A very wide row is split in two, so a chart stays readable on a laptop screen.
    return [row[i : i + MAX_ROW] for row in rows for i in range(0, max(len(row), 1), MAX_ROW)]


def _mean(values: list[float]) -> float:
    # Steps with no parent above (unreached ones) go to the right.
    return sum(values) / len(values) if values else 2.0


def _wrap(text: str, width: int, max_lines: int) -> tuple[str, ...]:
    lines = textwrap.wrap(" ".join(text.split()), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return tuple(lines)


def layout(runbook: Runbook) -> Layout:
    depth = depths(runbook)
    rows = _rows(runbook, depth)
    widest = max((len(row) for row in rows), default=1)
    width = 2 * MARGIN + widest * NODE_WIDTH + (widest - 1) * H_GAP
    nodes: dict[str, Node] = {}
    y = float(MARGIN)
    for row_index, row in enumerate(rows):
        wrapped = {s: _wrap(runbook.steps[s].text, TEXT_CHARS, TEXT_LINES) for s in row}
        row_height = max((HEADER + PADDING + LINE * len(w) for w in wrapped.values()), default=0)
        row_width = len(row) * NODE_WIDTH + (len(row) - 1) * H_GAP
        x = MARGIN + (widest * NODE_WIDTH + (widest - 1) * H_GAP - row_width) / 2
        for step_id in row:
            step = runbook.steps[step_id]
            nodes[step_id] = Node(
                id=step_id,
                kind=step.kind,
                to=step.to,
                text=step.text,
                lines=wrapped[step_id],
                row=row_index,
                x=x,
                y=y,
                width=NODE_WIDTH,
                height=row_height,
            )
            x += NODE_WIDTH + H_GAP
        y += row_height + V_GAP
    chart_height = y - V_GAP + MARGIN if rows else 2.0 * MARGIN
    if any(
        nodes[t].row <= node.row
        for node in nodes.values()
        for t in drawn_targets(runbook, node.id)
        if t in nodes
    ):
        width += H_GAP  # room for loops bending round the right-hand side
    edges = [
        _edge(nodes[step_id], nodes[target], label, width)
        for step_id, step in runbook.steps.items()
        for label, target in step.options.items()
        if target in nodes
    ]
    # Labels pushed apart may need more room than the columns give: the chart grows to hold
    # them, so nothing is cut at its frame.
    spread, chart_width = _spread_labels(edges, width)
    right = max((e.label_x + label_width(e) / 2 for e in spread), default=0.0)
    return Layout(nodes=nodes, edges=spread, width=max(chart_width, right + 8), height=chart_height)


def label_width(edge: Edge) -> float:
    return max(len(line) for line in edge.label_lines) * LABEL_CHAR_PX + 10


def _spread_labels(edges: list[Edge], chart_width: float) -> tuple[tuple[Edge, ...], float]:
    """Push apart labels that would overlap in the same gap (several answers to one step),
    keeping them inside the chart: a row pushed past the right edge slides back left. A gap
    with more labels than the chart is wide widens the chart. Returns the labels moved and
    the chart's width."""
    by_gap: dict[int, list[int]] = {}
    for index, edge in enumerate(edges):
        if not edge.upward:
            by_gap.setdefault(round(edge.label_y), []).append(index)
    for indexes in by_gap.values():
        needed = sum(label_width(edges[i]) + 4 for i in indexes) + 8
        chart_width = max(chart_width, needed)
    moved = list(edges)
    for indexes in by_gap.values():
        indexes.sort(key=lambda i: edges[i].label_x)
        xs: list[float] = []
        right_edge = float("-inf")
        for i in indexes:
            half = label_width(edges[i]) / 2
            x = max(edges[i].label_x, right_edge + half + 4, half + 4)
            xs.append(x)
            right_edge = x + half
        left_edge = chart_width - 4
        for pos in range(len(indexes) - 1, -1, -1):
            half = label_width(edges[indexes[pos]]) / 2
            xs[pos] = max(min(xs[pos], left_edge - half), half + 4)
            left_edge = xs[pos] - half - 4
        for pos, i in enumerate(indexes):
            moved[i] = replace(edges[i], label_x=xs[pos])
    return tuple(moved), chart_width


def _edge(source: Node, target: Node, label: str, chart_width: float) -> Edge:
    lines = _wrap(label, LABEL_CHARS, LABEL_LINES)
    if target.row > source.row:
        x0, y0 = source.center_x, source.y + source.height
        x1, y1 = target.center_x, target.y
        bend = min(V_GAP * 0.6, (y1 - y0) / 2)
        c0, c1 = (x0, y0 + bend), (x1, y1 - bend)
        path = (
            f"M{x0:.1f},{y0:.1f} C{c0[0]:.1f},{c0[1]:.1f} {c1[0]:.1f},{c1[1]:.1f} {x1:.1f},{y1:.1f}"
        )
        # Labels sit in the gap just above the target row, where fanned-out arrows are apart.
        label_y = y1 - V_GAP * 0.45
        t = _solve_t(y0, c0[1], c1[1], y1, label_y)
        label_x = _bezier(x0, c0[0], c1[0], x1, t)
        return Edge(source.id, target.id, label, lines, path, label_x, label_y, upward=False)
    x0, y0 = source.x + source.width, source.y + source.height / 2
    x1, y1 = target.x + target.width, target.y + target.height / 2
    reach = min(chart_width - 4, max(x0, x1) + H_GAP * 0.8)
    path = f"M{x0:.1f},{y0:.1f} C{reach:.1f},{y0:.1f} {reach:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
    label_x = _bezier(x0, reach, reach, x1, 0.5)
    label_y = _bezier(y0, y0, y1, y1, 0.5)
    return Edge(source.id, target.id, label, lines, path, label_x, label_y, upward=True)


def _bezier(p0: float, p1: float, p2: float, p3: float, t: float) -> float:
    u = 1 - t
    return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3


def _solve_t(y0: float, y1: float, y2: float, y3: float, y: float) -> float:
    """The t where a downward cubic reaches height y (its y grows with t here)."""
    low, high = 0.0, 1.0
    for _ in range(40):
        mid = (low + high) / 2
        if _bezier(y0, y1, y2, y3, mid) < y:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _kind_label(node: Node) -> str:
    if node.kind == "escalate" and node.to:
        return f"ESCALATE → {node.to}"
    return node.kind.upper()


def render_svg(runbook: Runbook, *, title: str | None = None, link_steps: bool = True) -> str:
    """The flowchart as an inline-SVG string; node boxes are classed by step kind."""
    chart = layout(runbook)
    e = _attr
    caption = title if title is not None else f"Decision graph of {runbook.title}"
    # An image may hold no links (axe: nested-interactive); with step links it is a figure
    # (not "group": the stylesheet lays out role=group as a full-width control group).
    role = "figure" if link_steps else "img"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" '
        f'width="{chart.width:.0f}" height="{chart.height:.0f}" '
        f'viewBox="0 0 {chart.width:.0f} {chart.height:.0f}" role="{role}" '
        f'aria-label="{e(caption)}" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{e(caption)}</title>",
        "<defs>"
        '<marker id="fc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path class="fc-arrowhead" d="M0,0 L10,5 L0,10 z"/></marker></defs>',
        '<g class="edges">',
    ]
    for edge in chart.edges:
        kind = " upward" if edge.upward else ""
        out.append(
            f'<path class="edge{kind}" data-from="{e(edge.source)}" data-to="{e(edge.target)}" '
            f'd="{edge.path}" fill="none" marker-end="url(#fc-arrow)"/>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    out.extend(_node_svg(node, runbook, link_steps) for node in chart.nodes.values())
    out.append("</g>")
    out.append('<g class="edge-labels">')
    out.extend(_label_svg(edge) for edge in chart.edges)
    out.append("</g></svg>")
    return "".join(out)


def _node_svg(node: Node, runbook: Runbook, link: bool) -> str:
    e = _attr
    start = " start" if node.id == runbook.start else ""
    step_id, kind = _header(node)
    text_lines = "".join(
        f'<tspan x="{PADDING}" dy="{0 if i == 0 else LINE}">{e(line)}</tspan>'
        for i, line in enumerate(node.lines)
    )
    body = (
        f"<title>{e(node.id)} ({e(_kind_label(node).lower())}): {e(node.text)}</title>"
        f'<rect class="node-box" width="{node.width:.0f}" height="{node.height:.0f}" rx="7"/>'
        f'<text class="node-id" x="{PADDING}" y="{HEADER - 6}" font-weight="600">'
        f"{e(step_id)}</text>"
        f'<text class="node-kind" x="{node.width - PADDING:.0f}" y="{HEADER - 6}" '
        f'text-anchor="end" font-size="10">{e(kind)}</text>'
        f'<text class="node-text" x="{PADDING}" y="{HEADER + PADDING + 4}">{text_lines}</text>'
    )
    if link:
        body = f'<a href="#step-{e(node.id)}">{body}</a>'
    return (
        f'<g class="node kind-{e(node.kind)}{start}" data-step="{e(node.id)}" '
        f'transform="translate({node.x:.1f},{node.y:.1f})">{body}</g>'
    )


def _label_svg(edge: Edge) -> str:
    e = _attr
    width = label_width(edge)
    height = len(edge.label_lines) * LABEL_LINE + 6
    x = edge.label_x - width / 2
    y = edge.label_y - height / 2
    spans = "".join(
        f'<tspan x="{edge.label_x:.1f}" dy="{0 if i == 0 else LABEL_LINE}">{e(line)}</tspan>'
        for i, line in enumerate(edge.label_lines)
    )
    return (
        f'<g class="edge-label" data-from="{e(edge.source)}" data-to="{e(edge.target)}">'
        f"<title>{e(edge.label)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="4"/>'
        f'<text x="{edge.label_x:.1f}" y="{y + LABEL_LINE:.1f}" text-anchor="middle" '
        f'font-size="11">{spans}</text></g>'
    )


def _id_room(node: Node, kind_label: str) -> int:
    """How many characters of the step id fit beside the kind label in the header."""
    free = node.width - 2 * PADDING - len(kind_label) * KIND_CHAR_PX - (8 if kind_label else 0)
    return max(6, int(free / ID_CHAR_PX))


def _header(node: Node) -> tuple[str, str]:
    """The step id and kind label for the node's header. The id is what people look for, so
    it is shown whole where it can be: the kind label shrinks first ('ESCALATE → L2' to
    '→ L2'), then goes (the box's colour and the legend still tell the kind)."""
    for kind in dict.fromkeys((_kind_label(node), f"→ {node.to}" if node.to else "", "")):
        if len(node.id) <= _id_room(node, kind):
            return node.id, kind
    return _short(node.id, _id_room(node, "")), ""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attr(text: str) -> str:
    return escape(text, quote=True)
