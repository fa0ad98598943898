"""What the notebook's cells showed, as the worker reports them: each cell's outcome,
and its outputs checked, bounded and turned into nbformat outputs by the grader (hostile
data: every text capped, every image a PNG of bounded size)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from .. import names
from .worker_process import error_fields


def cell_outcomes(
    raw: Any, sent: list[dict], output_limit: int, shown: CellOutputs | None = None
) -> list[CellOutcome]:
    """The outcome of each cell that was sent, at most once each, in the order reported;
    its outputs within what `shown` (the notebook's) may still hold."""
    shown = CellOutputs() if shown is None else shown
    numbers = {cell["number"] for cell in sent}
    outcomes = []
    for item in raw if isinstance(raw, list) else []:
        number = item.get("number") if isinstance(item, dict) else None
        if type(number) is not int or number not in numbers:
            continue
        numbers.discard(number)
        status = item.get("status") if item.get("status") in CELL_STATUSES else "error"
        error = item.get("error")
        error = (
            error_fields(error)
            if isinstance(error, dict)
            else (names.text(error) or None)
        )
        outcomes.append(
            CellOutcome(
                number,
                status,
                error,
                names.text(item.get("output"), output_limit),
                shown.outputs(item.get("outputs"), output_limit),
            )
        )
    return outcomes


CELL_STATUSES = ("ok", "error", "timeout", "skipped")


@dataclass
class CellOutcome:
    number: int
    status: str  # ok | error | timeout | skipped
    error: Any = None
    output: str = ""
    # nbformat v4 outputs, built here (CellOutputs)
    outputs: list[dict] = field(default_factory=list)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# outputs read per cell (the worker sends at most ~10: text, result, 4 figures, notes,
# error)
MAX_OUTPUTS = 16
MAX_RESULT = 10_000  # characters of a result's repr
MAX_IMAGES = 20  # figures per notebook, at most 4 per cell
MAX_CELL_IMAGES = 4
MAX_IMAGE_BYTES = 1024 * 1024  # PNG bytes of one figure
MAX_IMAGE_CHARS_EACH = 4 * ((MAX_IMAGE_BYTES + 2) // 3)  # its base64 characters
MAX_IMAGE_CHARS = 8 * 1024 * 1024  # base64 characters of all the figures of a notebook
MAX_OUTPUT_CHARS = 4_000_000  # characters of text in all the outputs of a notebook
# lines of a traceback: a header, 30 frames of two lines, a note, the error
MAX_TRACEBACK = 64
ERROR_LIMITS = {"ename": 100, "evalue": names.MAX_TEXT}
LINE_LIMIT = 300


class CellOutputs:
    """The outputs of a notebook's cells as nbformat v4 dicts, built here from the
    worker's plain data (worker/display.py) read as hostile: each of its type or
    dropped, every text capped, PNGs checked, and the whole notebook's outputs bounded
    (figures in number and bytes, text in characters)."""

    def __init__(self) -> None:
        self.images, self.image_chars, self.chars = (
            MAX_IMAGES,
            MAX_IMAGE_CHARS,
            MAX_OUTPUT_CHARS,
        )

    def outputs(self, raw: Any, output_limit: int) -> list[dict]:
        kept: list[dict] = []
        for item in raw[:MAX_OUTPUTS] if isinstance(raw, list) else []:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "image":
                in_cell = sum(
                    output["output_type"] == "display_data" for output in kept
                )
                output = (
                    self._image(item.get("png")) if in_cell < MAX_CELL_IMAGES else None
                )
            else:
                output = self._text_output(kind, item, output_limit)
            if output is not None:
                kept.append(output)
        return kept

    def _text_output(self, kind: Any, item: Any, output_limit: int) -> dict | None:
        if (
            kind in ("stream", "result")
            and isinstance(item.get("text"), str)
            and item["text"]
        ):
            text = names.text(
                item["text"], output_limit if kind == "stream" else MAX_RESULT
            )
            if not self._spend(len(text)):
                return None
            if kind == "stream":
                return {"output_type": "stream", "name": "stdout", "text": text}
            return {
                "output_type": "execute_result",
                "execution_count": None,
                "data": {"text/plain": text},
                "metadata": {},
            }
        if (
            kind == "error"
            and isinstance(item.get("traceback"), list)
            and all(isinstance(item.get(key), str) for key in ERROR_LIMITS)
        ):
            fields = {
                key: names.text(item[key], limit) for key, limit in ERROR_LIMITS.items()
            }
            lines = [
                names.text(line, LINE_LIMIT)
                for line in item["traceback"][:MAX_TRACEBACK]
                if isinstance(line, str)
            ]
            if not self._spend(sum(map(len, [*fields.values(), *lines]))):
                return None
            return {"output_type": "error", **fields, "traceback": lines}
        return None

    def _image(self, png: Any) -> dict | None:
        """A figure, only if `png` is strict base64 of a PNG within the caps."""
        if (
            not isinstance(png, str)
            or self.images <= 0
            or len(png) > min(self.image_chars, MAX_IMAGE_CHARS_EACH)
        ):
            return None
        try:
            data = base64.b64decode(png, validate=True)
        # not ASCII, not the base64 alphabet, bad padding
        except (ValueError, binascii.Error):
            return None
        if (
            not data.startswith(PNG_SIGNATURE)
            or len(data) > MAX_IMAGE_BYTES
            or base64.b64encode(data) != png.encode()
        ):
            return None
        self.images, self.image_chars = self.images - 1, self.image_chars - len(png)
        return {
            "output_type": "display_data",
            "data": {"image/png": png, "text/plain": "<Figure>"},
            "metadata": {},
        }

    def _spend(self, chars: int) -> bool:
        """Whether the notebook's outputs can still hold `chars` more characters (they
        are then counted)."""
        if chars > self.chars:
            return False
        self.chars -= chars
        return True
