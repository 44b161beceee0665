"""Progress of a long command on the terminal (tqdm on stderr; nothing when stderr is not one)."""
from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

# What a long job calls as it finishes each step: `advance("catalog")`.
Advance = Callable[[str], None]


def quiet(_what: str) -> None:
    """The `Advance` of a job nobody watches (the server, the worker, tests)."""


class Steps:
    """A bar of `total` named steps; usable as an `Advance`."""

    def __init__(self, total: int, desc: str, *, enabled: bool | None = None):
        shown = sys.stderr.isatty() if enabled is None else enabled
        self.bar = tqdm(total=total, desc=desc, unit=" steps", disable=not shown, leave=False, file=sys.stderr)

    def __call__(self, what: str) -> None:
        self.bar.set_postfix_str(what, refresh=False)
        self.bar.update(1)

    def __enter__(self) -> "Steps":
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()
