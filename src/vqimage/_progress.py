"""Progress on a terminal: a bar for many files, a status line for a search that takes a while.

Both show only when stderr is a terminal, so pipes, logs and notebooks stay clean.
"""

from __future__ import annotations

import contextlib
import sys
import time

__all__ = ["SlowStatus", "progress_bar"]


class SlowStatus:
    """A status line on stderr that appears once the work has taken ``delay`` seconds.

    Call it with the text to show; use it as a context manager so that the line
    is cleared at the end.
    """

    def __init__(self, enabled: bool = True, delay: float = 1.0):
        self.enabled = enabled and sys.stderr.isatty()
        self.delay, self.start, self.status = delay, time.monotonic(), None

    def __call__(self, text: str):
        if self.enabled and self.status is None and time.monotonic() - self.start > self.delay:
            from rich.console import Console

            self.status = Console(stderr=True).status(text)
            self.status.start()
        if self.status is not None:
            self.status.update(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.stop()


@contextlib.contextmanager
def progress_bar(total: int, description: str, enabled: bool = True):
    """A rich progress bar on stderr (yields ``advance()``), or a no-op off a terminal."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
