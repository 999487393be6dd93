"""Render user-written message templates in a Jinja sandbox. Pure: no database, no I/O.

Templates are written by MSP staff and edited in the web app, so they are untrusted code:
they run in an immutable sandbox (no attribute starting with "_", no mutating methods),
every missing variable is an error instead of an empty string, and the size of what they
can produce is bounded.
"""

from __future__ import annotations

import operator
import re
import string
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from franchise.errors import InvalidInput
from franchise.messages.definition import VARIABLES, Template

# An e-mail body longer than this is a template bug (or an attack), not a client update.
MAX_OUTPUT = 100_000
MAX_SUBJECT = 250
MAX_EXPONENT = 64


# printf widths and precisions: "%30000000d", "%-9999999s", "%.*f" ...
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
# Methods and filters whose numeric arguments set the length of what they return.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _check_width(value: object, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_OUTPUT:
        raise SecurityError(f"{what} width {value} is too large (limit {MAX_OUTPUT})")


def _check_percent_format(text: str) -> None:
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*":
                raise SecurityError("'*' widths are not allowed in templates")
            if part is not None and int(part) > MAX_OUTPUT:
                raise SecurityError(f"format width {part} is too large (limit {MAX_OUTPUT})")


def _check_brace_format(text: str) -> None:
    for _literal, _field, spec, _conversion in string.Formatter().parse(text):
        if not spec:
            continue
        if "{" in spec:
            raise SecurityError("nested format widths are not allowed in templates")
        _check_percent_format("%" + spec.lstrip("<>=^+- #0_,"))
        for number in re.findall(r"\d+", spec):
            if int(number) > MAX_OUTPUT:
                raise SecurityError(f"format width {number} is too large (limit {MAX_OUTPUT})")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The Jinja sandbox, plus limits on what can build an enormous string or number from a
    short template before any size check could run: `*` and `**` ("x" * 10**9), `%` with
    a width ('%30000000d' % 1), str.format widths, and the padding methods and filters
    (center(30000000), ljust, rjust, zfill, expandtabs, indent)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call(
        __self,  # noqa: N805 - Jinja's signature: the names must not clash with keywords
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str) and name in _WIDTH_METHODS:
            for value in (*args, *kwargs.values()):
                _check_width(value, name)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        # The sandbox hands out str.format and format_map through here.
        text = getattr(value, "__self__", None)
        if isinstance(text, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_brace_format(text)
        return super().wrap_str_format(value)

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "%":
            if isinstance(left, str):
                _check_percent_format(left)
            return operator.mod(left, right)
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large (limit {MAX_EXPONENT})")
            return operator.pow(left, right)
        for seq, times in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(times, int)
                and len(seq) * times > MAX_OUTPUT
            ):
                raise SecurityError(f"repeating text would exceed {MAX_OUTPUT} characters")
        return operator.mul(left, right)


# autoescape is off on purpose: these are plain-text e-mails, and HTML escaping would put
# "O&#39;Brien &amp; Sons" in the client's inbox. Wherever rendered text is shown in a web
# page, the page template escapes it at that point.
ENV = _Sandbox(
    undefined=StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def _bounded_filter(name: str) -> None:
    """Wrap a built-in filter so its width arguments are checked before it runs."""
    original = ENV.filters[name]

    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        for arg in (*args, *kwargs.values()):
            _check_width(arg, name)
            if isinstance(arg, str) and name == "indent" and len(arg) * 1000 > MAX_OUTPUT:
                raise SecurityError("indent text is too long")
        if name == "format" and isinstance(value, str):
            _check_percent_format(value)
        return original(value, *args, **kwargs)

    ENV.filters[name] = bounded


for _name in ("center", "indent", "format", "wordwrap", "truncate"):
    _bounded_filter(_name)

# Names Jinja itself provides (range, dict, namespace, ...) are not template variables.
BUILTIN_NAMES = frozenset(ENV.globals)


@dataclass(frozen=True)
class TextProblem:
    """A problem inside one template text; `line` counts from 1 within that text."""

    line: int
    code: str
    message: str


@lru_cache(maxsize=1024)
def _compile(source: str, name: str) -> JinjaTemplate:
    # Keyed on the text itself, so an edited template can never be served from a stale entry.
    code = ENV.compile(source, name=name, filename=name)
    return ENV.template_class.from_code(ENV, code, ENV.make_globals(None))


def check_text(source: str) -> list[TextProblem]:
    """Syntax, unknown variables and unsafe attributes in one template text."""
    try:
        ast = ENV.parse(source)
    except TemplateSyntaxError as exc:
        line = _unclosed_block_line(source, str(exc.message)) or exc.lineno or 1
        return [TextProblem(line, "template-syntax", f"template syntax: {exc.message}")]
    problems: list[TextProblem] = []
    undeclared = meta.find_undeclared_variables(ast) - BUILTIN_NAMES
    known = ", ".join(VARIABLES)
    for name_node in ast.find_all(nodes.Name):
        name = name_node.name
        if name_node.ctx == "load" and name in undeclared and name not in VARIABLES:
            problems.append(
                TextProblem(
                    name_node.lineno,
                    "unknown-variable",
                    f"unknown variable '{name}' (variables: {known})",
                )
            )
    for getattr_node in ast.find_all(nodes.Getattr):
        attr = getattr_node.attr
        if attr.startswith("_"):
            problems.append(
                TextProblem(
                    getattr_node.lineno,
                    "unsafe-attribute",
                    f"'{attr}' reaches Python internals; templates may not use names starting with _",
                )
            )
            continue
        target = getattr_node.node
        if isinstance(target, nodes.Name) and target.name in undeclared:
            fields = VARIABLES.get(target.name)
            if fields is not None and attr not in fields:
                offered = ", ".join(fields) or "no fields (use it on its own)"
                problems.append(
                    TextProblem(
                        getattr_node.lineno,
                        "unknown-variable",
                        f"'{target.name}' has no field '{attr}' ({target.name} has {offered})",
                    )
                )
    return sorted(set(problems), key=lambda p: (p.line, p.code, p.message))


def _unclosed_block_line(source: str, message: str) -> int | None:
    """Jinja notices an unclosed {% if %} at the end of the text; the author needs the line
    where it opened, which is the last opening of that block not yet closed."""
    match = re.search(r"innermost block that needs to be closed is '(\w+)'", message)
    if match is None or "Unexpected end of template" not in message:
        return None
    block = match.group(1)
    opened: list[int] = []
    for tag in re.finditer(r"{%-?\s*(end)?(\w+)", source):
        if tag.group(2) == block:
            if tag.group(1):
                if opened:
                    opened.pop()
            else:
                opened.append(source.count("\n", 0, tag.start()) + 1)
    return opened[-1] if opened else None


def make_context(
    *,
    client: Mapping[str, Any],
    contact: Mapping[str, Any],
    ticket: Mapping[str, Any],
    technician: Mapping[str, Any],
    next_update: str,
    step: Mapping[str, Any],
    org: Mapping[str, Any],
) -> dict[str, Any]:
    """The render context, as plain values only: an ORM object in a template would let a
    template author walk relationships (or trigger lazy loads) into the whole database."""
    given: dict[str, Any] = {
        "client": client,
        "contact": contact,
        "ticket": ticket,
        "technician": technician,
        "next_update": next_update,
        "step": step,
        "org": org,
    }
    context: dict[str, Any] = {}
    for name, fields in VARIABLES.items():
        value = given[name]
        if not fields:
            context[name] = _plain(value, name)
            continue
        missing = [f for f in fields if f not in value]
        if missing:
            raise ValueError(f"context '{name}' lacks {', '.join(missing)}")
        context[name] = {f: _plain(value[f], f"{name}.{f}") for f in fields}
    return context


def _plain(value: Any, where: str) -> str | int | float | None:
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"context value {where} must be text or a number, not {type(value).__name__}")


def render_message(template: Template, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) for a template; any template mistake becomes an InvalidInput that
    names the template, the part and the line."""
    subject = _render(template, "subject", template.subject, context)
    body = _render(template, "body", template.body, context)
    # A header must be one line: a newline in a subject would be refused by the mail library
    # (or, worse, inject headers), so line breaks and runs of spaces collapse to one space.
    subject = " ".join(subject.split())
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1].rstrip() + "…"
    return subject, body.strip() + "\n"


def _render(template: Template, part: str, source: str, context: Mapping[str, Any]) -> str:
    name = f"{template.key}:{part}"
    where = f"template '{template.key}' ({part}"
    try:
        compiled = _compile(source, name)
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"{where}, line {exc.lineno}): template syntax: {exc.message}") from None
    try:
        text = _bounded_render(compiled, context)
    except UndefinedError as exc:
        line = _template_line(exc, name)
        raise InvalidInput(
            f"{where}{line}): {_undefined_message(exc)}; variables: {', '.join(VARIABLES)}"
        ) from None
    except SecurityError as exc:
        line = _template_line(exc, name)
        raise InvalidInput(
            f"{where}{line}): refused by the template sandbox: {exc}. "
            "Templates may only use the documented variables."
        ) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        line = _template_line(exc, name)
        raise InvalidInput(f"{where}{line}): {type(exc).__name__}: {exc}") from None
    if len(text) > MAX_OUTPUT:
        raise InvalidInput(f"{where}): renders {len(text)} characters; the limit is {MAX_OUTPUT}")
    return text


def _bounded_render(compiled: JinjaTemplate, context: Mapping[str, Any]) -> str:
    """Render piece by piece and stop as soon as the output passes the limit: a loop of
    large pieces must not fill memory before the size check at the end."""
    pieces: list[str] = []
    size = 0
    for piece in compiled.generate(dict(context)):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the output passes {MAX_OUTPUT} characters")
        pieces.append(piece)
    return "".join(pieces)


def _undefined_message(exc: UndefinedError) -> str:
    message = str(exc.message or exc)
    # Jinja says "'dict object' has no attribute 'x'"; say which variable it was instead.
    if message.startswith("'dict object' has no attribute"):
        return f"unknown field {message.split('attribute', 1)[1].strip()}"
    if message.endswith("is undefined"):
        return f"missing variable {message.removesuffix(' is undefined')}"
    return message


def _template_line(exc: BaseException, name: str) -> str:
    """ ", line N" from the frames Jinja rewrites to point into the template, if any."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
    return f", line {lines[-1]}" if lines else ""
