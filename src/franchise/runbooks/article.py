"""A runbook as a readable knowledge-base article (Markdown or HTML): pure text, no I/O.

The article reads the way a technician works the runbook: what it is for, what to collect,
then the steps in the order they are met walking from the start (breadth first, options left
to right, as the flowchart lays them out), each with where it leads; then edge cases, the
done list of each ending, sign-off rules, what needs an estimate and approval, the decision
graph and a link back to the runbook in Franchise.

Every piece of runbook text is user input: the HTML escapes it, and the Markdown escapes
both Markdown punctuation and HTML (Markdown renderers pass raw HTML through).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from franchise.runbooks.definition import Runbook, Step
from franchise.runbooks.flowchart import render_svg
from franchise.runbooks.graph import discovery_order

KIND_NAMES = {
    "check": "Check",
    "action": "Fix",
    "resolve": "Resolved",
    "escalate": "Escalate",
}


# The step-kind colours of static/css/runbooks.css (box fill, stroke), for a flowchart shown
# where that stylesheet is not: a Markdown viewer, a knowledge base, the .svg file alone.
KIND_COLOURS = {
    "check": ("#eff6ff", "#2563eb"),
    "action": ("#fffbeb", "#d97706"),
    "resolve": ("#f0fdf4", "#16a34a"),
    "escalate": ("#fef2f2", "#dc2626"),
}
EDGE_COLOUR = "#94a3b8"
_NODE_BOX = re.compile(
    r'(<g class="node kind-([a-z]+)[^"]*"[^>]*>(?:<a [^>]*>)?<title>.*?</title>)<rect class="node-box"'
)
_LABEL_BOX = re.compile(r'(<g class="edge-label"[^>]*><title>.*?</title>)<rect ')


def standalone_svg(runbook: Runbook, *, link_steps: bool = False) -> str:
    """The flowchart with its colours as presentation attributes, so it reads without the
    app's stylesheet (which still wins where it applies: attributes rank below CSS).
    Only our own markup is matched: runbook text in the SVG is escaped, quotes included."""
    svg = render_svg(runbook, link_steps=link_steps)

    def box(match: re.Match[str]) -> str:
        fill, stroke = KIND_COLOURS.get(match.group(2), ("#ffffff", EDGE_COLOUR))
        return f'{match.group(1)}<rect class="node-box" fill="{fill}" stroke="{stroke}" stroke-width="1.5"'

    svg = _NODE_BOX.sub(box, svg)
    svg = _LABEL_BOX.sub(r'\1<rect fill="#ffffff" stroke="#e2e8f0" ', svg)
    svg = svg.replace(
        '<path class="edge', f'<path stroke="{EDGE_COLOUR}" stroke-width="1.5" class="edge'
    )
    return svg.replace(
        '<path class="fc-arrowhead"', f'<path fill="{EDGE_COLOUR}" class="fc-arrowhead"'
    )


@dataclass(frozen=True)
class ArticleSource:
    """What an article is made from: the parsed runbook, its revision and where it lives."""

    runbook: Runbook
    revision: int
    base_url: str

    @property
    def link(self) -> str:
        return f"{self.base_url.rstrip('/')}/runbooks/{quote(self.runbook.key, safe='')}"


def reading_order(runbook: Runbook) -> list[Step]:
    """Steps as a technician meets them from the start; steps no path reaches come last,
    in file order."""
    order = discovery_order(runbook)
    reached = sorted(order, key=order.__getitem__)
    rest = [sid for sid in runbook.steps if sid not in order]
    return [runbook.steps[sid] for sid in (*reached, *rest)]


def endings(runbook: Runbook) -> list[Step]:
    return [step for step in reading_order(runbook) if step.is_terminal]


def _estimate_text(step: Step) -> str:
    e = step.estimate
    if e is None:
        return ""
    parts = [f"{e.minutes} min", f"cost {e.cost:g}", f"impact {e.impact}"]
    if e.kind:
        parts.append(e.kind)
    if e.recurring != "once":
        parts.append(f"recurring every {e.recurring}")
    return ", ".join(parts)


def _ending_label(step: Step) -> str:
    if step.kind == "escalate":
        return f"escalate to {step.to}" if step.to else "escalate"
    return "resolved"


# --- Markdown -----------------------------------------------------------------------------

# Characters that mean something anywhere in a line; "-", "+", "1." only open a list at the
# start of one, where _MD_LINE_START catches them.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~!])")
_MD_LINE_START = re.compile(r"^(\d*)([-+=.)])")


def md(text: str) -> str:
    """Runbook text made inert in Markdown: one line, HTML escaped, punctuation escaped."""
    flat = " ".join(text.split())
    html_safe = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_LINE_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", html_safe))


def _md_anchor(step_id: str) -> str:
    return "step-" + re.sub(r"[^a-z0-9-]", "-", step_id.lower())


def markdown_article(source: ArticleSource, *, svg_file: str | None = None) -> str:
    """The article in Markdown. The decision graph is the sibling file `svg_file` when
    given, otherwise an inline <svg> block."""
    rb = source.runbook
    out = [f"# {md(rb.title)}", ""]
    about = f"Runbook `{rb.key}` · category {md(rb.category)} · status {md(rb.status)}"
    about += f" · revision {source.revision}"
    if rb.maintainer:
        about += f" · maintained by {md(rb.maintainer)}"
    out += [about, "", f"Open it in Franchise: <{source.link}>", ""]
    out += ["## Purpose", "", md(rb.description) if rb.description else "_No description._", ""]
    if rb.inputs:
        out += ["## Inputs to collect", ""]
        for field in rb.inputs:
            required = " (required)" if field.required else ""
            out.append(f"- {md(field.label)}{required}")
        out.append("")
    out += ["## Steps", "", f"Start at **{md(rb.start)}**.", ""]
    for n, step in enumerate(reading_order(rb), 1):
        out += _md_step(n, step, rb)
    if rb.fallback:
        out += [
            "## When no answer fits",
            "",
            f"Escalate to **{md(rb.fallback.to)}**: {md(rb.fallback.text)}",
            "",
        ]
    if rb.edge_cases:
        out += ["## Edge cases", ""]
        for case in rb.edge_cases:
            line = f"- **When** {md(case.when)}: {md(case.do)}"
            if case.steps:
                line += " (at " + ", ".join(f"`{s}`" for s in case.steps) + ")"
            if case.switch:
                line += f" Switch to runbook `{case.switch}`."
            if case.escalate:
                line += f" Escalate to {md(case.escalate)}."
            out.append(line)
        out.append("")
    out += ["## Done when", ""]
    for ending in endings(rb):
        out.append(f"### {md(ending.id)} ({md(_ending_label(ending))})")
        out.append("")
        items = rb.done_items(ending.id)
        out += [f"- [ ] {md(item)}" for item in items] or ["_No done items._"]
        out.append("")
    if rb.sign_off:
        out += ["## Sign-off", ""]
        out += [f"- **{md(k)}**: {md(v)}" for k, v in rb.sign_off.items()]
        out.append("")
    priced = [s for s in reading_order(rb) if s.estimate]
    if priced:
        out += [
            "## Estimates and approval",
            "",
            "These fixes carry an estimate; Franchise asks for approval when it is above "
            "the approval limits.",
            "",
        ]
        for step in priced:
            denied = f"; if denied: `{step.on_denied}`" if step.on_denied else ""
            out.append(f"- `{step.id}`: {md(_estimate_text(step))}{denied}")
        out.append("")
    out += ["## Decision graph", ""]
    if svg_file:
        out += [f"![Decision graph of {md(rb.title)}]({quote(svg_file)})", ""]
    else:
        out += [standalone_svg(rb), ""]
    return "\n".join(out)


def _md_step(n: int, step: Step, rb: Runbook) -> list[str]:
    start = " (start)" if step.id == rb.start else ""
    out = [
        f'<a id="{_md_anchor(step.id)}"></a>',
        f"### {n}. {KIND_NAMES.get(step.kind, step.kind)}: `{step.id}`{start}",
        "",
        md(step.text),
        "",
    ]
    if step.where:
        out += [f"Where: {md(step.where)}", ""]
    if step.kind == "escalate":
        level = f" to **{md(step.to)}**" if step.to else ""
        emergency = " (emergency)" if step.emergency else ""
        out += [f"Escalate{level}{emergency}.", ""]
    if step.estimate:
        out += [f"Estimate: {md(_estimate_text(step))}", ""]
    if step.options:
        for label, target in step.options.items():
            out.append(f"- {md(label)} → [`{target}`](#{_md_anchor(target)})")
        out.append("")
    elif step.to and step.kind == "action":
        out += [f"Then: [`{step.to}`](#{_md_anchor(step.to)})", ""]
    if step.on_denied:
        out += [f"If approval is denied: [`{step.on_denied}`](#{_md_anchor(step.on_denied)})", ""]
    return out


# --- HTML ---------------------------------------------------------------------------------


def h(text: str) -> str:
    return escape(text, quote=True)


def html_fragment(source: ArticleSource) -> str:
    """The article body as HTML (for a knowledge base), the SVG inline."""
    rb = source.runbook
    out = [f'<article class="runbook" data-runbook="{h(rb.key)}">', f"<h1>{h(rb.title)}</h1>"]
    maint = f" · maintained by {h(rb.maintainer)}" if rb.maintainer else ""
    out.append(
        f"<p>Runbook <code>{h(rb.key)}</code> · category {h(rb.category)} · status "
        f"{h(rb.status)} · revision {source.revision}{maint}</p>"
    )
    out.append(f'<p>Open it in Franchise: <a href="{h(source.link)}">{h(source.link)}</a></p>')
    out.append("<h2>Purpose</h2>")
    out.append(
        f"<p>{h(rb.description)}</p>" if rb.description else "<p><em>No description.</em></p>"
    )
    if rb.inputs:
        out.append("<h2>Inputs to collect</h2><ul>")
        for field in rb.inputs:
            required = " (required)" if field.required else ""
            out.append(f"<li>{h(field.label)}{required}</li>")
        out.append("</ul>")
    out.append(f"<h2>Steps</h2><p>Start at <strong>{h(rb.start)}</strong>.</p><ol>")
    out += [_html_step(step, rb) for step in reading_order(rb)]
    out.append("</ol>")
    if rb.fallback:
        out.append(
            f"<h2>When no answer fits</h2><p>Escalate to <strong>{h(rb.fallback.to)}</strong>: "
            f"{h(rb.fallback.text)}</p>"
        )
    if rb.edge_cases:
        out.append("<h2>Edge cases</h2><ul>")
        for case in rb.edge_cases:
            item = f"<li><strong>When</strong> {h(case.when)}: {h(case.do)}"
            if case.steps:
                item += " (at " + ", ".join(f"<code>{h(s)}</code>" for s in case.steps) + ")"
            if case.switch:
                item += f" Switch to runbook <code>{h(case.switch)}</code>."
            if case.escalate:
                item += f" Escalate to {h(case.escalate)}."
            out.append(item + "</li>")
        out.append("</ul>")
    out.append("<h2>Done when</h2>")
    for ending in endings(rb):
        out.append(f"<h3>{h(ending.id)} ({h(_ending_label(ending))})</h3>")
        items = rb.done_items(ending.id)
        if items:
            out.append('<ul class="done">' + "".join(f"<li>☐ {h(i)}</li>" for i in items) + "</ul>")
        else:
            out.append("<p><em>No done items.</em></p>")
    if rb.sign_off:
        out.append("<h2>Sign-off</h2><ul>")
        out += [f"<li><strong>{h(k)}</strong>: {h(v)}</li>" for k, v in rb.sign_off.items()]
        out.append("</ul>")
    priced = [s for s in reading_order(rb) if s.estimate]
    if priced:
        out.append(
            "<h2>Estimates and approval</h2><p>These fixes carry an estimate; Franchise asks "
            "for approval when it is above the approval limits.</p><ul>"
        )
        for step in priced:
            denied = f"; if denied: <code>{h(step.on_denied)}</code>" if step.on_denied else ""
            out.append(f"<li><code>{h(step.id)}</code>: {h(_estimate_text(step))}{denied}</li>")
        out.append("</ul>")
    out.append('<h2>Decision graph</h2><div class="flowchart">')
    out.append(standalone_svg(rb, link_steps=True))
    out.append("</div></article>")
    return "\n".join(out)


def _html_step(step: Step, rb: Runbook) -> str:
    start = " (start)" if step.id == rb.start else ""
    parts = [
        f'<li id="step-{h(step.id)}" class="step kind-{h(step.kind)}">',
        f"<h3>{h(KIND_NAMES.get(step.kind, step.kind))}: <code>{h(step.id)}</code>{start}</h3>",
        f"<p>{h(step.text)}</p>",
    ]
    if step.where:
        parts.append(f"<p>Where: {h(step.where)}</p>")
    if step.kind == "escalate":
        level = f" to <strong>{h(step.to)}</strong>" if step.to else ""
        emergency = " (emergency)" if step.emergency else ""
        parts.append(f"<p>Escalate{level}{emergency}.</p>")
    if step.estimate:
        parts.append(f"<p>Estimate: {h(_estimate_text(step))}</p>")
    if step.options:
        parts.append("<ul>")
        parts += [
            f'<li>{h(label)} → <a href="#step-{h(target)}"><code>{h(target)}</code></a></li>'
            for label, target in step.options.items()
        ]
        parts.append("</ul>")
    elif step.to and step.kind == "action":
        parts.append(f'<p>Then: <a href="#step-{h(step.to)}"><code>{h(step.to)}</code></a></p>')
    if step.on_denied:
        parts.append(
            f'<p>If approval is denied: <a href="#step-{h(step.on_denied)}">'
            f"<code>{h(step.on_denied)}</code></a></p>"
        )
    parts.append("</li>")
    return "".join(parts)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f3f3f3;padding:0 .2em}.flowchart{overflow-x:auto}"
)


def html_page(source: ArticleSource) -> str:
    """A whole page (well-formed XHTML syntax, so it parses as XML too) around the article."""
    return (
        "<!DOCTYPE html>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>\n'
        '<meta charset="utf-8" />\n'
        f"<title>{h(source.runbook.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{html_fragment(source)}\n</body>\n</html>\n"
    )
