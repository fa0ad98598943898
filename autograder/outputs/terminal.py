"""Text shown on the grader's terminal: never rich markup, never a control sequence.

Student ids, messages and file names reach the terminal in the progress lines, the score
table and warnings. rich would read `[/x]` in them as markup (and raise), and the
terminal would obey an escape sequence: every such string is shown through `text`, which
builds a plain `Text` with every non-printable character spelled out.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def clean(value: object) -> str:
    """The string with every character a terminal would act on written out (\\x1b,
    \\u202e, \\n): one line of text, so student text cannot print lines that look like
    the grader's own."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in str(value)
    )


def text(value: object, style: str = "") -> Text:
    """`value` as rich Text: shown as written, no markup, no control sequences."""
    return Text(clean(value), style=style)


def say(console: Console, value: object) -> None:
    """Print one line of plain text (no markup, no highlighting, not wrapped)."""
    console.print(text(value), highlight=False, soft_wrap=True)
