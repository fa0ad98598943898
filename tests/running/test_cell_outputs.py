"""What the cells showed, as a hostile worker may report it: only valid nbformat outputs,
built by the grader, each text capped and each image a PNG within its caps."""

from __future__ import annotations

import base64

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.running.cell_outputs import PNG_SIGNATURE, cell_outcomes
from toycourse import wire

KEYS = {"stream": {"output_type", "name", "text"},
        "execute_result": {"output_type", "execution_count", "data", "metadata"},
        "display_data": {"output_type", "data", "metadata"},
        "error": {"output_type", "ename", "evalue", "traceback"}}
SMALL_PNG = PNG_SIGNATURE + b"\0" * 16
GOOD = base64.b64encode(SMALL_PNG).decode()


def kinds(outputs):
    return [output["output_type"] for output in outputs]


def assert_valid(outputs):
    """Outputs as nbformat's schema wants them, with the keys of their type only."""
    nbformat.validate(new_notebook(cells=[new_code_cell("", outputs=outputs)]))
    for output in outputs:
        assert set(output) == KEYS[output["output_type"]]


def png_of(output) -> bytes:
    return base64.b64decode(output["data"]["image/png"], validate=True)


def test_a_hostile_reply_gives_only_valid_capped_outputs():
    huge = base64.b64encode(PNG_SIGNATURE + b"\0" * (2 << 20)).decode()
    almost_1_mb = base64.b64encode(PNG_SIGNATURE + b"\0" * 1_000_000).decode()
    bad = [{"type": "image", "png": "not base64 at all!"}, {"type": "image", "png": GOOD + "\n"},
           {"type": "image", "png": GOOD[:-2]}, {"type": "image", "png": GOOD.replace("=", "") + "A="},
           {"type": "image", "png": base64.b64encode(b"GIF89a" + b"\0" * 16).decode()},
           {"type": "image", "png": huge}, {"type": "image", "png": 7}, {"type": "image"},
           {"type": "stream", "text": ["a", "list"]}, {"type": "result", "text": None},
           {"type": "error", "ename": 1, "evalue": "", "traceback": []},
           {"type": "error", "ename": "E", "evalue": "v", "traceback": "not a list"},
           {"output_type": "display_data", "data": {"text/html": "<script>alert(1)</script>"}, "metadata": {}},
           "text", None, 7, ["nested"]]
    raw = [
        {"number": 1, "status": "ok", "output": "", "outputs": bad},
        {"number": 2, "status": "error", "output": "x", "outputs": [
            {"type": "stream", "text": "s" * 10**6}, {"type": "result", "text": "r" * 10**6},
            {"type": "error", "ename": "E" * 10**4, "evalue": "v" * 10**6,
             "traceback": ["l" * 10**4] * 1000 + [5, None]}]},
        {"number": 3, "status": "ok", "output": "", "outputs": [
            {"type": "image", "png": GOOD, "metadata": {"isolated": "yes"}, "data": {"text/html": "<b>"}}]},
        *({"number": n, "status": "ok", "output": "", "outputs": [{"type": "image", "png": almost_1_mb}]}
          for n in range(4, 14)),
        *({"number": n, "status": "ok", "output": "", "outputs": [{"type": "image", "png": GOOD}] * 1000}
          for n in range(14, 40)),
        {"number": 40, "status": "ok", "output": "", "outputs": "not a list"},
    ]
    outcomes = cell_outcomes(raw, wire([""] * 40), output_limit=1000)
    outputs = [cell.outputs for cell in outcomes]
    assert outputs[0] == [] and outputs[-1] == []
    stream, result, error = outputs[1]
    assert len(stream["text"]) < 1100 and len(result["data"]["text/plain"]) < 10_100
    assert len(error["ename"]) < 200 and len(error["evalue"]) < 600
    assert len(error["traceback"]) <= 64 and all(len(line) < 400 for line in error["traceback"])
    assert outputs[2] == [{"output_type": "display_data", "data": {"image/png": GOOD, "text/plain": "<Figure>"},
                           "metadata": {}}]  # built by the grader: nothing of the child's dict passes through
    images = [png_of(o) for cell in outputs for o in cell if o["output_type"] == "display_data"]
    assert len(images) == 20 and all(image.startswith(PNG_SIGNATURE) for image in images)
    assert all(kinds(cell) in ([], ["display_data"] * len(cell)) and len(cell) <= 4 for cell in outputs[2:])
    assert sum(len(base64.b64encode(image)) for image in images) <= 8 * 2**20  # 8 MB of figures in all
    assert 1 < sum(len(image) > 10**6 for image in images) < 10
    for cell in outputs:
        assert_valid(cell)
