"""The grader's handle on real worker processes: notebooks that misbehave, calls that hang, crash or lie."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from autograder.errors import NotPlainData, StudentError, WorkerCrashed, WorkerTimeout
from autograder.running import protocol
from autograder.running.protocol import Unsupported
from autograder.running.launch import Launch
from autograder.running.sandbox import build_launch
from autograder.running.outcomes import MissingFunction
from autograder.running.session import StudentSession
from autograder.running.worker_process import MARGIN, Worker
from toycourse import make_course, notebook_runner, wire


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def limits(course):
    return course.assignment().limits


@pytest.fixture(scope="module")
def worker(course):
    with Worker(build_launch(course.assignment().release_dir)) as worker:
        yield worker


@pytest.fixture
def run(worker, limits):
    with notebook_runner(worker, limits) as run:
        yield run


def statuses(session):
    return [cell.status for cell in session.execution.cells]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def running(pid: int) -> bool:
    """Still running: neither gone nor ended and waiting to be collected by a parent that is stopped."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def host_pids(worker, pids_inside: list[int]) -> list[int]:
    """Host pids of the worker's descendants known inside the worker (maybe a PID namespace) as `pids_inside`."""
    parents, inside = {}, {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            text = Path(f"/proc/{entry}/status").read_text()
            status = dict(line.split(":", 1) for line in text.splitlines())
        except (OSError, ValueError):
            continue
        parents[int(entry)] = int(status["PPid"])
        inside[int(entry)] = int(status["NSpid"].split()[-1])
    found, frontier = {}, [worker.process.pid]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                found[inside[pid]] = pid
                frontier.append(pid)
    return [found[pid] for pid in pids_inside]


# -- the notebook ----------------------------------------------------------------------------------


def test_the_toy_limits_are_short(limits):
    assert (limits.cell_timeout, limits.call_timeout, limits.timeout) == (2.0, 2.0, 20.0)


def test_a_cell_that_raises_does_not_stop_later_cells(run):
    session = run(["x = 1", "raise ValueError('boom')", "def f():\n    return x + 1"])
    assert session.execution.status == "ok"
    assert statuses(session) == ["ok", "error", "ok"]
    error = session.execution.cells[1].error
    assert error == {"type": "ValueError", "message": "boom", "where": "cell 2, line 1, in <module>: raise ValueError('boom')"}
    assert session.call("f") == 2


def test_a_syntax_error_names_the_cell_and_line(run):
    session = run(["def f(:\n    pass", "def g():\n    return 1"])
    assert statuses(session) == ["error", "ok"]
    error = session.execution.cells[0].error
    assert error["type"] == "SyntaxError" and error["where"].startswith("cell 1, line 1")
    assert session.call("g") == 1


def test_system_exit_and_keyboard_interrupt_only_end_their_cell(run):
    session = run(["raise SystemExit(3)", "import sys\nsys.exit()", "raise KeyboardInterrupt",
                   "def alive():\n    return 'yes'"])
    assert statuses(session) == ["error", "error", "error", "ok"]
    assert [c.error["type"] for c in session.execution.cells[:3]] == ["SystemExit", "SystemExit", "KeyboardInterrupt"]
    assert session.call("alive") == "yes"


def test_magics_and_shell_lines_do_not_break_the_notebook(run):
    session = run([
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])",
        "!pip list",
        "files = !ls",
        "%%capture\nprint('hidden')\ncaptured = 5",
        "%time timed = 21 * 2",
        "%load_ext autoreload\n%autoreload 2",
        "def result():\n    return timed + captured, files",
    ])
    assert statuses(session) == ["ok"] * 7
    outputs = [cell.output for cell in session.execution.cells]
    assert "skipped %matplotlib" in outputs[0] and "skipped !pip" in outputs[1]
    assert "skipped %load_ext" in outputs[5] and "skipped %autoreload" in outputs[5]
    assert session.call("result") == (47, [])


def test_cell_output_is_kept_and_lots_of_it_is_truncated(run):
    session = run(["print('hello')", "for i in range(5000):\n    print('x' * 99)"], max_output_kb=1)
    first, second = (cell.output for cell in session.execution.cells)
    assert first == "hello\n"
    kept, note = second.split("\n[... ")
    assert len(kept) == 1024 and set(kept) <= {"x", "\n"}
    assert note == f"{5000 * 100 - 1024} more characters of output dropped]"


def test_skipped_cells_do_not_run(run):
    session = run(["x = 1", "x = 2", "def get():\n    return x"], skip=(2,))
    assert statuses(session) == ["ok", "skipped", "ok"]
    assert session.call("get") == 1


def test_an_endless_top_level_loop_is_stopped_and_the_rest_runs(run):
    session = run(["def before():\n    return 1", "while True:\n    pass", "def after():\n    return 2"],
                  cell_timeout=0.5)
    assert statuses(session) == ["ok", "timeout", "ok"]
    assert session.restarts == 0  # stopped inside the cell by its own limit, not by killing the process
    assert session.execution.cells[1].error == "cell 2 did not finish within 0.5 s"
    assert session.call("before") == 1 and session.call("after") == 2


def test_a_loop_that_swallows_the_timeout_is_skipped_on_a_restart(run):
    stubborn = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    session = run(["def before():\n    return 1", stubborn, "def after():\n    return 2"], cell_timeout=0.5)
    assert session.execution.status == "ok" and session.restarts == 1
    assert statuses(session) == ["ok", "timeout", "ok"]
    assert "was skipped" in session.execution.cells[1].error
    assert session.call("before") == 1 and session.call("after") == 2


def test_the_whole_submission_time_limit(run):
    session = run(["import time\ntime.sleep(30)"], timeout=1.5, cell_timeout=10)
    assert session.execution.status == "timeout"
    assert session.execution.message == "the notebook used up its time limit of 1.5 s in cell 1"
    with pytest.raises(WorkerTimeout, match="used up its time limit"):
        session.call("anything")


# -- calls -----------------------------------------------------------------------------------------


def test_calls_take_and_return_plain_data(run):
    session = run(["import numpy as np\ndef square(x):\n    return np.asarray(x, dtype=float) ** 2",
                   "def pair(a, b=0):\n    return (a, b)"])
    assert np.array_equal(session.call("square", np.array([1.0, -2.0])), [1.0, 4.0])
    assert session.square(3.0).shape == ()  # attribute access calls too; a numpy scalar stays 0-d
    assert session.call("pair", 1, b=[2, 3]) == (1, [2, 3])


def test_arguments_are_copies(run):
    session = run(["def mutate(a):\n    a[0] = 99\n    return a"])
    original = np.array([1.0, 2.0])
    assert np.array_equal(session.call("mutate", original), [99.0, 2.0])
    assert np.array_equal(original, [1.0, 2.0])


def test_an_endless_loop_in_a_function_times_out_and_the_session_goes_on(run):
    session = run(["def loop(x):\n    while True:\n        pass", "def fine():\n    return 'fine'"])
    with pytest.raises(WorkerTimeout, match=r"loop\(1\) did not return within 2 s"):
        session.call("loop", 1)
    assert session.call("fine") == "fine" and session.restarts == 0  # same process, same notebook run
    with pytest.raises(WorkerTimeout, match=r"loop\(1\)"):  # loop(2) fails at once with the first verdict
        session.call("loop", 2)


def test_a_function_that_swallows_the_timeout_is_killed_and_the_next_call_starts_from_the_notebook(run):
    session = run(["calls = []\ndef stubborn():\n    calls.append(1)\n    while True:\n        try:\n"
                   "            while True:\n                pass\n        except BaseException:\n            pass",
                   "def count():\n    return len(calls)"], call_timeout=0.5)
    with pytest.raises(WorkerTimeout):
        session.call("stubborn")
    assert session.call("count") == 0  # a new process from the state the notebook left
    assert session.restarts == 0  # the notebook did not have to run again


def test_os_exit_in_a_call_is_a_crash_and_the_next_call_starts_from_the_notebook(run):
    session = run(["import os\ndef die():\n    os._exit(0)", "def fine():\n    return 1"])
    with pytest.raises(WorkerCrashed, match=r"while running die\(\): .*did the code call os._exit\(\)"):
        session.call("die")
    assert session.call("fine") == 1 and session.restarts == 0


def test_a_dead_worker_is_a_crash_then_a_new_worker_runs_the_notebook_again(run, worker):
    session = run(["def fine():\n    return 1"])
    old = worker.process
    old.kill()
    old.wait()
    with pytest.raises(WorkerCrashed):
        session.call("fine")
    assert session.call("fine") == 1 and session.restarts == 1
    assert worker.process.pid != old.pid
    assert run(["def also_fine():\n    return 2"]).call("also_fine") == 2


def test_a_missing_function_suggests_a_near_name(run):
    session = run(["def Square(x):\n    return x * x"])
    with pytest.raises(MissingFunction) as caught:
        session.call("square", 2.0)
    assert str(caught.value) == ("your notebook does not define `square`; did you mean `Square`? "
                                 "The name must be exactly `square`")


def test_a_missing_function_points_at_the_cell_that_failed(run):
    session = run(["import numpy as np", "def area(r):\n    return np.pi * r ** 2\nundefined_name"])
    with pytest.raises(MissingFunction) as caught:
        session.call("perimeter", 1.0)
    message = str(caught.value)
    assert "does not define `perimeter` (cell 2 stopped with NameError" in message
    assert "did you mean" not in message


def test_a_name_that_is_not_a_function(run):
    session = run(["square = 4"])
    with pytest.raises(StudentError, match=r"square\(2\) raised TypeError: 'square' is a int, not a function"):
        session.call("square", 2)


def test_student_exceptions_carry_the_students_line(run):
    session = run(["import numpy as np",
                   "def helper(x):\n    y = x + 1\n    return y / 0",
                   "def outer(x):\n    return helper(x)"])
    with pytest.raises(StudentError) as caught:
        session.call("outer", 1)
    assert caught.value.where == "cell 2, line 3, in helper: return y / 0"
    assert str(caught.value) == ("outer(1) raised ZeroDivisionError: division by zero "
                                 "(at cell 2, line 3, in helper: return y / 0)")


def test_a_stub_says_it_is_not_written_yet(run):
    session = run(["def square(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"])
    with pytest.raises(StudentError, match=r"square\(2.0\) raised NotImplementedError: this function is not "
                                           r"written yet \(at cell 1, line 3, in square"):
        session.call("square", 2.0)


def test_objects_with_lying_eq_or_array_are_unsupported(run):
    session = run(["import numpy as np\n"
                   "class Liar:\n"
                   "    def __eq__(self, other):\n        return True\n"
                   "    def __array__(self, dtype=None, copy=None):\n        return np.zeros(3)\n"
                   "class LyingFloat(float):\n"
                   "    def __eq__(self, other):\n        return True\n"
                   "    __hash__ = float.__hash__\n"
                   "def liar():\n    return Liar()\n"
                   "def lying_float():\n    return LyingFloat(2.5)\n"
                   "def generator():\n    return (i for i in range(3))"])
    assert session.call("liar") == Unsupported("Liar")
    back = session.call("lying_float")
    assert type(back) is float and back == 2.5 and back != 3.0
    assert isinstance(session.call("generator"), Unsupported)


def test_exec_runs_provided_code_in_the_students_namespace(run):
    session = run(["def get():\n    return SIDE"])
    session.exec("SIDE = 3.0")
    assert session.call("get") == 3.0
    with pytest.raises(StudentError, match=r"\(at provided code, line 1, in <module>: 1 / 0\)"):
        session.exec("1 / 0")


def test_a_worker_that_answers_outside_the_protocol_gives_not_plain_data(run):
    # the student's code rewrites the worker's encoder: the grader's strict decoding still holds
    session = run([f"import sys\nsys.modules['{protocol.__name__}'].encode = "
                   "lambda value, _depth=0: {'__ndarray__': 'not an array', 'x': [value]}",
                   "def square(x):\n    return x * x"])
    with pytest.raises(NotPlainData, match=r"square\(2\) returned something the grader cannot read"):
        session.call("square", 2)


# -- processes the notebook leaves behind ----------------------------------------------------------


def test_processes_started_by_the_notebook_end_before_the_tests(worker, limits):
    session = StudentSession(worker, wire([
        "import subprocess\nchild = subprocess.Popen(['sleep', '60'])",
        # an orphan: the shell exits at once and its background sleep is re-parented
        "orphan = subprocess.run(['sh', '-c', 'sleep 61 > /dev/null 2>&1 & echo $!'],"
        " capture_output=True, text=True).stdout.strip()\nprint(child.pid, orphan)",
        "def fine():\n    return 1",
    ]), limits)
    session.run_notebook()
    pids = host_pids(worker, [int(pid) for pid in session.execution.cells[1].output.split()])
    assert [running(pid) for pid in pids] == [True, True]
    assert session.call("fine") == 1  # the first part's process: started once the others were killed
    assert [running(pid) for pid in pids] == [False, False]
    session.close()
    assert [gone(pid) for pid in pids] == [True, True]
    assert worker.process.poll() is None  # the worker itself keeps serving


def test_a_crashed_part_leaves_no_processes_either(run, worker):
    session = run(["import os, subprocess\ndef spawn():\n    return subprocess.Popen(['sleep', '60']).pid",
                   "def die():\n    os._exit(1)"])
    (pid,) = host_pids(worker, [session.call("spawn")])
    assert running(pid)
    with pytest.raises(WorkerCrashed):
        session.call("die")
    assert not running(pid)


def test_the_worker_stops_cleanly(course):
    worker = Worker(build_launch(course.assignment().release_dir))
    worker.ensure_started()
    process = worker.process
    worker.stop()
    assert process.returncode is not None and worker.process is None
    assert gone(process.pid)


@pytest.mark.parametrize("code", ["pass", "print('hello from a broken worker')"], ids=["exits", "babbles"])
def test_a_worker_that_does_not_start_is_a_crash(code):
    worker = Worker(Launch(argv=[sys.executable, "-c", code], env={}))
    with pytest.raises(WorkerCrashed, match="the worker did not start; run `autograder doctor`"):
        worker.ensure_started()
    assert worker.process is None


# -- every read has a deadline, every reply a bound ------------------------------------------------

# A worker process that says it is ready, then sends half of a large reply and stops itself: a
# stopped zygote in the middle of an answer, as a submission can make it (SIGSTOP, same user).
STOPS_MID_REPLY = '''
import os, signal, struct, sys
def frame(data):
    return struct.pack("!Q", len(data)) + data
os.write(1, frame(b'{"ok": true, "ready": true, "pid": 1}'))
os.read(0, 8)
reply = frame(b'{"ok": true, "value": "' + b"x" * 200_000 + b'"}')
os.write(1, reply[:100_000])
os.kill(os.getpid(), signal.SIGSTOP)
'''


def test_a_worker_stopped_in_the_middle_of_a_reply_is_killed_at_the_deadline():
    worker = Worker(Launch(argv=[sys.executable, "-c", STOPS_MID_REPLY], env={}))
    worker.ensure_started()
    process, replies = worker.process, []
    asking = threading.Thread(target=lambda: replies.append(worker.request({"op": "call"}, timeout=0.5)))
    started = time.monotonic()
    asking.start()
    asking.join(timeout=30)
    if asking.is_alive():  # the grader would wait for ever: free the thread, then fail
        process.kill()
        asking.join()
        pytest.fail("the grader kept waiting for the rest of a reply from a stopped worker")
    assert time.monotonic() - started < 0.5 + MARGIN + 3
    assert replies == [{"ok": False, "crashed": "the worker process stopped answering and was restarted"}]
    assert worker.process is None and process.poll() is not None  # killed; the next request starts a new one


def test_a_notebook_that_stops_in_the_middle_of_its_answer_times_out_and_the_worker_stays(run, worker):
    # raw bytes on the child's own reply pipe: a frame header, part of the frame, then nothing
    session = run(["import os, stat, struct, time\n"
                   "def square(x):\n"
                   "    for fd in map(int, os.listdir('/proc/self/fd')):\n"
                   "        try:\n"
                   "            if stat.S_ISFIFO(os.fstat(fd).st_mode) and os.get_blocking(fd) and "
                   "os.O_WRONLY == (__import__('fcntl').fcntl(fd, __import__('fcntl').F_GETFL) & os.O_ACCMODE):\n"
                   "                os.write(fd, struct.pack('!Q', 1000) + b'{\"ok\": true, \"va')\n"
                   "        except OSError:\n"
                   "            pass\n"
                   "    time.sleep(60)"])
    zygote = worker.process.pid
    started = time.monotonic()
    with pytest.raises(WorkerTimeout, match="did not return within 1 s"):
        session.call("square", 2.0, timeout=1)
    assert time.monotonic() - started < 1 + 2 + 1  # the zygote's deadline (limit + grace), not the grader's
    assert worker.process.pid == zygote  # the zygote gave up on the child, not the grader on the zygote


def test_a_reply_over_the_size_limit_fails_that_call_only(run):
    session = run(["def big():\n    return np.zeros(3_000_000)", "def small():\n    return 2.0",
                   "import numpy as np"], max_reply_mb=1)
    with pytest.raises(NotPlainData, match=r"big\(\) returned .* MB of data, more than the 1 MB a reply may hold"):
        session.call("big")
    assert session.call("small") == 2.0  # the same notebook answers the next call


def test_a_value_that_repeats_one_list_counts_every_repetition(run):
    session = run(["def wide():\n    return [[0] * 100_000] * 300"])
    value = session.call("wide")
    assert len(value) == 300 and all(isinstance(row, Unsupported) for row in value)  # none fits what is left


# -- each function on its own: stand-ins for the reference -----------------------------------------


def Reference():  # noqa: N802
    """The trusted side's functions that the stand-ins ask for: a module file, which the grader's reference
    process imports by path as it does a course's."""
    path = Path(__file__).with_name("session_reference.py")
    spec = importlib.util.spec_from_file_location("session_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STAND_INS = {"square": (), "cube": ("square",)}  # cube uses square; square uses nothing


def test_the_graded_functions_a_function_uses_are_the_reference_when_a_part_isolates(worker, limits):
    session = StudentSession(worker, wire(["def square(x):\n    return x * 3",  # wrong
                                           "def cube(x):\n    return square(x) * x"]), limits,
                             stand_ins=STAND_INS, reference=Reference())
    session.run_notebook()
    try:
        assert session.cube(2.0) == 12.0 and session.used == []  # no part yet: the student's own square
        session.begin_part("cube", isolating=True)
        assert session.cube(2.0) == 8.0 and session.used == ["square"]  # square answered by the grader
        assert (session.own.cube(2.0), session.isolated.cube(2.0)) == (12.0, 8.0)
        assert session.square(2.0) == 6.0  # the function called is always the student's
        session.begin_part("training", isolating=False)
        assert session.cube(2.0) == 12.0
    finally:
        session.close()


def test_a_function_it_does_not_use_is_the_students_own(worker, limits):
    """square(x) = cube(x) / x would get the reference's square were cube a stand-in while square is tested."""
    session = StudentSession(worker, wire(["def square(x):\n    return cube(x) / x",
                                           "def cube(x):\n    return square(x) * x"]), limits,
                             stand_ins=STAND_INS, reference=Reference())
    session.run_notebook()
    try:
        session.begin_part("square", isolating=True)
        with pytest.raises(StudentError, match="RecursionError"):
            session.square(2.0)
        assert session.used == []
        session.begin_part("cube", isolating=True)
        assert session.cube(2.0) == 8.0 and session.used == ["square"]  # a right cube on a wrong square
    finally:
        session.close()


def test_a_missing_helper_stands_in_only_for_the_call(worker, limits):
    session = StudentSession(worker, wire(["def cube(x):\n    return square(x) * x"]), limits,
                             stand_ins=STAND_INS, reference=Reference())
    session.run_notebook()
    try:
        session.begin_part("cube", isolating=True)
        assert session.cube(2.0) == 8.0 and session.used == ["square"]
        with pytest.raises(StudentError, match="NameError: name 'square' is not defined"):
            session.own.cube(2.0)  # the stand-in is gone after the call
        with pytest.raises(MissingFunction):
            session.square(2.0)  # and never stands in for the function under test
    finally:
        session.close()


def test_each_part_has_its_own_time_beyond_the_notebooks(worker, limits):
    """The worker's own deadline spans the notebook's time and every part's: calls of a later part are
    not cut when the submission as a whole has run longer than the notebook's `timeout`."""
    tight = dataclasses.replace(limits, timeout=2.0, part_timeout=10.0, call_timeout=2.0)
    session = StudentSession(worker, wire(["import time\ndef slow():\n    time.sleep(1.2)\n    return 1"]), tight,
                             parts=2)
    session.run_notebook()
    try:
        session.begin_part("first", isolating=False)
        assert session.slow() == 1
        session.begin_part("second", isolating=False)
        assert [session.slow(), session.slow()] == [1, 1]  # 3.6 s since the start: past the notebook's 2 s
    finally:
        session.close()
