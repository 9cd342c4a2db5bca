"""A file in init's plan, and what init does with it: the plan makes
them (:mod:`.plan`, :mod:`.pyproject`), :mod:`.write` shows and applies them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """One file: ``create``, ``merge``, ``overwrite`` or ``keep``."""

    path: str  # relative to the project
    action: str
    old: str | None
    new: str | None
    detail: str = ""

    @property
    def writes(self):
        return self.action != "keep"
