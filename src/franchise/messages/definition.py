"""The parsed shape of a message template set, and the variables templates may use."""

from __future__ import annotations

from dataclasses import dataclass

from franchise.messages.models import STAGES

__all__ = ["STAGES", "VARIABLES", "Template", "TemplateSet"]

# Every name a template may use, with the fields each offers. Lint checks references
# against this list, and the service builds exactly these keys (as plain dicts).
VARIABLES: dict[str, tuple[str, ...]] = {
    "client": ("name", "tier"),
    "contact": ("name", "email"),
    "ticket": ("id", "title", "status", "priority", "level", "category"),
    "technician": ("name", "email"),
    "next_update": (),  # already formatted, e.g. "Tuesday 3 June, 15:30 UTC"
    "step": ("id", "text"),  # the current runbook step; both "" when no runbook is running
    "org": ("name",),
}


@dataclass(frozen=True)
class Template:
    key: str
    stage: str
    subject: str
    body: str
    runbook: str | None = None
    description: str = ""
    line: int = 0
    # The file line where the subject / body text starts, to place template errors.
    subject_line: int = 0
    body_line: int = 0


@dataclass(frozen=True)
class TemplateSet:
    """One revision of the templates document; revision 0 is the shipped starter set."""

    revision: int
    templates: tuple[Template, ...]

    def by_key(self, key: str) -> Template | None:
        return next((t for t in self.templates if t.key == key), None)

    def for_stage(self, stage: str, runbook: str | None) -> Template | None:
        """The runbook's own template for the stage, else the generic one.

        When several templates qualify the first one listed wins, so the document's order
        is the tie-break an editor can see.
        """
        if runbook:
            for template in self.templates:
                if template.stage == stage and template.runbook == runbook:
                    return template
        return next((t for t in self.templates if t.stage == stage and not t.runbook), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.templates)
