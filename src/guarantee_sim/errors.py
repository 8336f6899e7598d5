"""The one error type a user sees for bad input: one line, naming the key and what is allowed; and
the one way a worker prints a line."""

import sys


class ConfigError(ValueError):
    """Bad scenario input. ``str(err)`` is a single line: ``<key>: <problem>; allowed: <what>``."""

    def __init__(self, key: str, problem: str, allowed: str | None = None):
        self.key, self.problem, self.allowed = key, problem, allowed
        text = f"{key}: {problem}" if key else problem
        if allowed:
            text += f"; allowed: {allowed}"
        super().__init__(" ".join(text.split()))


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's message (a library's several-line error, told in one)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


EXIT_BAD_INPUT = 2  # every command's exit code for bad input


def say(line: str, stream=None) -> None:
    """Print ``line`` in one write. Cells of a sweep report from several processes into one pipe, and
    ``print`` under ``PYTHONUNBUFFERED`` writes the text and its newline apart, so two workers' lines
    could run into one."""
    stream = stream or sys.stdout
    stream.write(line + "\n")
    stream.flush()
