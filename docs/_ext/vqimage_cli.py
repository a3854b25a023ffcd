"""``.. vqimage-help:: [COMMAND]``: the output of ``vqimage [COMMAND] --help``, run at build time.

The command line is documented by the text it prints, so the page can never
drift from the code. The help is produced in-process through
:func:`vqimage.cli.main` (the public entry point the console script calls), at a
fixed width of 88 columns.
"""

from __future__ import annotations

import contextlib
import io
import os

from docutils import nodes
from docutils.parsers.rst import Directive

WIDTH = "88"


def help_text(*command: str) -> str:
    """``vqimage COMMAND --help`` as the terminal would show it."""
    from vqimage.cli import main

    out = io.StringIO()
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main([*command, "--help"])
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    if code != 0:
        raise RuntimeError(f"vqimage {' '.join(command)} --help exited {code}")
    return out.getvalue().rstrip() + "\n"


class VqimageHelp(Directive):
    optional_arguments = 1
    has_content = False

    def run(self):
        command = self.arguments[:1]
        try:
            text = help_text(*command)
        except (RuntimeError, ImportError) as exc:  # a failing help is a build error, not a crash
            error = self.state_machine.reporter.error(
                f"vqimage-help {' '.join(command)}: {exc}", line=self.lineno)
            return [error]
        title = " ".join(["$ vqimage", *command, "--help"])
        block = nodes.literal_block(text=f"{title}\n{text}", language="none")
        return [block]


def setup(app):
    app.add_directive("vqimage-help", VqimageHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
