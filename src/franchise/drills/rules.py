"""Compare escalation rules by what they say, not where they sit in the file. Pure."""

from __future__ import annotations

from dataclasses import replace

from franchise.escalation.definition import Conditions, Rule


def _plain(block: Conditions) -> Conditions:
    return replace(block, line=0, line_of={})


def rule_shape(rule: Rule) -> Rule:
    """The rule without line numbers: moving a rule or editing another one is no change."""
    return replace(rule, line=0, line_of={}, when=tuple(_plain(b) for b in rule.when))
