"""The agency tree as plain data: subtrees, groups under a root, depth-first order, depths.

Agencies form a tree of any depth (docs/rules.md#agencies-and-procedures); the rows
given here need ``id`` and ``parent_id`` (and ``code`` for the ordered walk). A
cycle, which the service refuses to write, would still end every walk here.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Sequence


class AgencyTree:
    """The agencies read once (a small table), walked as often as needed."""

    def __init__(self, rows: Sequence):
        self.by_id = {row.id: row for row in rows}
        self.children: dict[int | None, list] = defaultdict(list)
        for row in rows:
            self.children[row.parent_id].append(row)

    def subtree(self, root: int) -> set[int]:
        """The agency and every agency below it."""
        found, todo = set(), [root]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(child.id for child in self.children.get(current, ()))
        return found

    def group_of(self, root: int | None) -> dict[int, int]:
        """Each agency's group: the child of ``root`` above it (``root`` itself for its own dossiers)."""
        groups = {}
        for agency_id in self.by_id:
            current, seen = agency_id, set()
            while True:
                parent = self.by_id[current].parent_id
                if current == root or parent == root or parent is None or parent in seen:
                    break
                seen.add(current)
                current = parent
            groups[agency_id] = current
        return groups

    def walk(self) -> Iterator[tuple[object, int]]:
        """Every agency with its depth, parents before children, siblings by code."""
        todo = [(row, 0) for row in sorted(self.children.get(None, []), key=lambda r: r.code, reverse=True)]
        seen = set()
        while todo:
            row, depth = todo.pop()
            if row.id in seen:
                continue
            seen.add(row.id)
            yield row, depth
            todo.extend((child, depth + 1)
                        for child in sorted(self.children.get(row.id, []), key=lambda r: r.code, reverse=True))

    def depth(self, agency_id: int) -> int:
        """How many ancestors the agency has (0 for a top-level one)."""
        level, current, seen = 0, self.by_id[agency_id].parent_id, {agency_id}
        while current is not None and current not in seen and current in self.by_id:
            seen.add(current)
            level += 1
            current = self.by_id[current].parent_id
        return level
