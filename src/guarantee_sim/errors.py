"""The one error type a user sees for bad input: one line, naming the key and what is allowed."""


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
