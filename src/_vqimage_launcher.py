"""The ``vqimage`` command's entry point, kept outside the package on purpose.

Importing vqimage's command line (numpy, click, the package) takes a noticeable
moment. An entry point inside the package could not catch a Ctrl-C or SIGTERM
that arrives while the package itself is still importing; this module imports
nothing heavy, so every interruption, at any moment, is one line and the
usual exit code (130, 143).
"""

import os
import signal
import sys


def _terminated_while_starting(signum, frame):  # nothing is written yet: nothing to clean up
    sys.stderr.write("vqimage: terminated\n")
    sys.stderr.flush()
    os._exit(143)


def run():
    signal.signal(signal.SIGTERM, _terminated_while_starting)
    try:
        from vqimage.cli import run as cli_run  # installs the handlers for the run itself

        cli_run()  # exits through SystemExit; an interruption inside the command is handled there
    except KeyboardInterrupt:  # while importing, or in the instants around the command's own handling
        sys.stderr.write("vqimage: interrupted\n")
        sys.exit(130)
    except BaseException as exc:
        if type(exc).__name__ != "_Terminated":  # vqimage.cli's SIGTERM, outside the command's handling
            raise
        sys.stderr.write("vqimage: terminated\n")
        sys.exit(143)
