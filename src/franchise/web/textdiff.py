"""Line diffs between two revisions of a YAML document, as rows a template can show."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

Kind = Literal["hunk", "context", "add", "delete"]


@dataclass(frozen=True)
class DiffRow:
    kind: Kind
    old: int | None
    new: int | None
    text: str


@dataclass(frozen=True)
class Diff:
    rows: tuple[DiffRow, ...]
    added: int
    removed: int

    @property
    def same(self) -> bool:
        return not self.rows


def diff_lines(old: str, new: str, *, context: int = 3) -> Diff:
    """A unified diff of `old` -> `new` with line numbers on both sides."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        rows.append(
            DiffRow(
                "hunk",
                None,
                None,
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("context", i + 1, j + 1, a[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            if tag in ("replace", "delete"):
                rows.extend(DiffRow("delete", i + 1, None, a[i]) for i in range(i1, i2))
                removed += i2 - i1
            if tag in ("replace", "insert"):
                rows.extend(DiffRow("add", None, j + 1, b[j]) for j in range(j1, j2))
                added += j2 - j1
    return Diff(tuple(rows), added, removed)
