"""Each cell's outputs as Jupyter would show them, on real worker processes: what it printed, its
result, its figures, its error; rebuilt by the grader from plain data, however the notebook lies."""

from __future__ import annotations

import base64
import io
import json

import matplotlib.image
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.grade import Grader
from autograder.running.sandbox import build_launch
from autograder.running.worker_process import Worker
from toycourse import TOML, make_course, notebook_runner

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYS = {"stream": {"output_type", "name", "text"},
        "execute_result": {"output_type", "execution_count", "data", "metadata"},
        "display_data": {"output_type", "data", "metadata"},
        "error": {"output_type", "ename", "evalue", "traceback"}}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def worker(course):
    with Worker(build_launch(course.assignment().release_dir)) as worker:
        yield worker


@pytest.fixture
def run(worker, course):
    with notebook_runner(worker, course.assignment().limits) as run:
        yield run


def outputs_of(session):
    return [cell.outputs for cell in session.execution.cells]


def kinds(outputs):
    return [output["output_type"] for output in outputs]


def assert_valid(outputs):
    """Outputs as nbformat's schema wants them, with the keys of their type only."""
    nbformat.validate(new_notebook(cells=[new_code_cell("", outputs=outputs)]))
    for output in outputs:
        assert set(output) == KEYS[output["output_type"]]


def png_of(output) -> bytes:
    return base64.b64decode(output["data"]["image/png"], validate=True)


# -- always: what a cell printed, how it failed ----------------------------------------------------


def test_a_print_becomes_a_stream_output(run):
    session = run(["print('hello')", "x = 1", "import sys\nprint('oops', file=sys.stderr)"])
    assert outputs_of(session) == [
        [{"output_type": "stream", "name": "stdout", "text": "hello\n"}],
        [],
        [{"output_type": "stream", "name": "stdout", "text": "oops\n"}],
    ]
    assert [cell.output for cell in session.execution.cells] == ["hello\n", "", "oops\n"]  # kept as it was


def test_a_raising_cell_is_an_error_output_with_the_students_own_frames(run):
    session = run(["import numpy as np\ndef helper(x):\n    y = x + 1\n    raise ValueError(f'bad input {y}')",
                   "print('before')\nnp.apply_along_axis(helper, 0, np.ones(1))"])
    cell = session.execution.cells[1]
    assert cell.status == "error"
    assert cell.error == {"type": "ValueError", "message": "bad input [2.]",
                          "where": "cell 1, line 4, in helper: raise ValueError(f'bad input {y}')"}  # as before
    stream, error = cell.outputs
    assert stream["text"] == "before\n"
    assert (error["ename"], error["evalue"]) == ("ValueError", "bad input [2.]")
    header, *frames = error["traceback"]
    assert header.startswith("ValueError") and header.endswith("Traceback (most recent call last)")
    assert frames == ["Cell 2, line 2, in <module>", "    np.apply_along_axis(helper, 0, np.ones(1))",
                      "Cell 1, line 4, in helper", "    raise ValueError(f'bad input {y}')",
                      "ValueError: bad input [2.]"]  # numpy's frames and the worker's are not there
    assert_valid(cell.outputs)


def test_syntax_errors_and_timeouts_are_error_outputs_too(run):
    session = run(["def f(:\n    pass", "import time\ndef wait():\n    time.sleep(30)\nwait()"], cell_timeout=0.5)
    syntax, timeout = (cell.outputs for cell in session.execution.cells)
    assert syntax == [{"output_type": "error", "ename": "SyntaxError", "evalue": "invalid syntax",
                       "traceback": ["Cell 1, line 1", "    def f(:", "SyntaxError: invalid syntax"]}]
    (error,) = timeout
    assert (error["ename"], error["evalue"]) == ("TimeoutError", "cell 2 did not finish within 0.5 s")
    assert error["traceback"][1:] == ["Cell 2, line 4, in <module>", "    wait()", "Cell 2, line 3, in wait",
                                      "    time.sleep(30)", "TimeoutError: cell 2 did not finish within 0.5 s"]
    assert session.execution.cells[1].error == "cell 2 did not finish within 0.5 s"


# -- with display: results and figures -------------------------------------------------------------

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('loss');"


def test_with_display_a_last_expression_is_an_execute_result(run):
    session = run(["x = 41\nx + 1", "x + 1;", "x = 2", "None", "print('a')\n'text'  # a comment",
                   "'y' * 20_000", "for i in range(2):\n    i"], display=True)
    results = [[o["data"]["text/plain"] for o in outputs if o["output_type"] == "execute_result"]
               for outputs in outputs_of(session)]
    assert results[:5] == [["42"], [], [], [], ["'text'"]]
    assert kinds(session.execution.cells[4].outputs) == ["stream", "execute_result"]
    (long,) = results[5]
    assert long.startswith("'yyy") and len(long) < 10_100 and long.endswith("more characters]")
    assert results[6] == []  # the last statement is a loop, not an expression
    for outputs in outputs_of(session):
        assert_valid(outputs)


def test_with_display_a_repr_that_raises_or_hangs_is_a_note_and_the_cell_ran_fine(run):
    session = run(["class Shy:\n    def __repr__(self):\n        raise ValueError('no repr')\nShy()",
                   "class Slow:\n    def __repr__(self):\n        while True:\n            pass\nSlow()",
                   "def after():\n    return 1"], display=True)
    shy, slow, _ = session.execution.cells
    assert (shy.status, slow.status) == ("ok", "ok")  # as without display: showing a value is not running the cell
    assert shy.outputs[0]["data"]["text/plain"] == "[the value was not shown: its repr raised ValueError]"
    assert "showing it took longer than the cell's time" in slow.outputs[0]["data"]["text/plain"]
    assert session.call("after") == 1


def test_with_display_a_plot_is_a_png_image(run):
    session = run([PLOT, "plt.figure()\nplt.plot([1, 2])\nraise ValueError('after the plot')"], display=True)
    plotted, raised = session.execution.cells
    (image,) = plotted.outputs  # the `;` hides the title's Text
    assert image["data"]["text/plain"] == "<Figure>"
    data = png_of(image)
    assert data.startswith(PNG_SIGNATURE)
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert kinds(raised.outputs) == ["display_data", "error"]  # as Jupyter: the figure of a failing cell shows
    assert_valid(plotted.outputs)
    assert_valid(raised.outputs)


def test_figures_beyond_the_caps_are_a_note(run):
    six = "for i in range(6):\n    plt.figure()\n    plt.plot([0, i])"
    session = run(["import matplotlib.pyplot as plt", *[six] * 6], display=True)
    images = [kinds(outputs).count("display_data") for outputs in outputs_of(session)]
    assert images == [0, 4, 4, 4, 4, 4, 0]  # 4 per cell, 20 per notebook
    notes = [o["text"] for outputs in outputs_of(session) for o in outputs if o["output_type"] == "stream"]
    assert notes == ["[2 more figures not kept]"] * 5 + ["[6 more figures not kept]"]


def test_a_figure_that_cannot_be_drawn_is_a_note_and_the_cell_stands(run):
    session = run(["import matplotlib.pyplot as plt\nfigure = plt.figure()\nplt.plot([1, 2])\n"
                   "def refuse(event):\n    raise RuntimeError('no drawing')\n"
                   "figure.canvas.mpl_connect('draw_event', refuse)"], display=True)
    (cell,) = session.execution.cells
    assert cell.status == "ok" and cell.error is None
    texts = [o["text"] for o in cell.outputs if o["output_type"] == "stream"]
    assert texts == ["[a figure was not kept: drawing it raised RuntimeError]"]


def test_without_display_no_result_and_no_image(run):
    session = run(["x = 41\nx + 1", PLOT, "print('shown')\nplt.plot([1])"])
    assert outputs_of(session) == [[], [], [{"output_type": "stream", "name": "stdout", "text": "shown\n"}]]


def test_display_does_not_change_the_grading_fields(run):
    sources = ["print('a')\n1 + 1", PLOT, "def f(:\n    pass", "raise KeyError('k')", "import time\ntime.sleep(5)",
               "'last'", "def g():\n    return 2"]
    fields = [[(c.number, c.status, c.error, c.output) for c in run(sources, display=display, cell_timeout=0.5)
               .execution.cells] for display in (False, True)]
    assert fields[0] == fields[1]


def test_outputs_never_make_the_notebooks_reply_too_large(run):
    """A notebook whose reply fits without outputs still runs: its figures go first, then its outputs."""
    noise = "import numpy as np\nimport matplotlib.pyplot as plt\nplt.imshow(np.random.rand(400, 400))\nprint('drawn')"
    session = run([noise], display=True, max_reply_mb=0.2)  # a 400x400 noise PNG: about 0.35 MB
    (cell,) = session.execution.cells
    assert (session.execution.status, cell.status, cell.output) == ("ok", "ok", "drawn\n")
    assert [o.get("text") for o in cell.outputs] == [
        "drawn\n", "[the figures were not kept: the notebook's reply would be too large]"]
    session = run(["print('x' * 150_000)"], max_reply_mb=0.2, max_output_kb=150)  # the stream doubles the text
    (cell,) = session.execution.cells
    assert (session.execution.status, cell.status, len(cell.output), cell.outputs) == ("ok", "ok", 150_001, [])


# -- the display run: the notebook once more, on its own, before grading ----------------------------

LEAKY = """SEEN = []

def square(x):
    SEEN.append(repr(x))
    return np.asarray(x, dtype=float) ** 2"""


def graded_both_ways(course, name: str, notebook) -> tuple:
    """The notebook graded without and with the outputs collected."""
    path = course.write(name, notebook)
    with Grader(course.assignment()) as plain, Grader(course.assignment(), display=True) as shown:
        return plain.grade(name, path), shown.grade(name, path)


def same_grading(plain, shown) -> bool:
    return plain.to_dict() | {"seconds": 0} == shown.to_dict() | {"seconds": 0}


def test_the_display_run_shows_the_visible_check_and_grading_is_the_same(tmp_path):
    course = make_course(tmp_path)
    plain, shown = graded_both_ways(course, "bob", course.answered("def square(x):\n    return x * 2",
                                                                 ("print('mine')", "square(3)")))
    assert same_grading(plain, shown) and plain.outputs is None
    check = shown.outputs["4"]  # the master's visible check (skipped while grading) ran in the display run
    assert check[-1]["output_type"] == "error" and check[-1]["ename"] == "AssertionError"
    assert shown.outputs["5"] == [{"output_type": "stream", "name": "stdout", "text": "mine\n"}]
    assert shown.outputs["6"][0]["data"]["text/plain"] == "6"  # square(3), as Out[n]


def test_no_output_can_show_what_a_hidden_test_passed(tmp_path):
    course = make_course(tmp_path)
    plain, shown = graded_both_ways(course, "mallory", course.answered(LEAKY, ("print(SEEN)",)))
    assert shown.score == plain.score == 3.0
    everything = json.dumps(shown.outputs)
    assert "print(SEEN)" not in everything and "-2." not in everything  # the suite's array([1., -2., 0.5])
    assert shown.outputs["5"][0]["text"] == "['3.0']\n"  # what the notebook's own visible check passed


def test_drawing_and_showing_values_cost_the_grading_nothing(tmp_path):
    toml = TOML.replace("timeout = 20", "timeout = 6").replace("cell_timeout = 2", "cell_timeout = 3")
    course = make_course(tmp_path, toml=toml)
    slow_plots = tuple("import time\ntime.sleep(0.9)\nplt.plot(np.random.rand(300_000))" for _ in range(5))
    deep = "SCALE = " + " + ".join(["0.001"] * 1000)  # compiles, but is too deep for ast.parse's tree
    plain, shown = graded_both_ways(course, "carol", course.answered(f"{deep}\n{LEAKY}",
                                                                   ("import matplotlib.pyplot as plt",) + slow_plots))
    assert same_grading(plain, shown) and plain.status == "graded" and plain.score == 3.0
