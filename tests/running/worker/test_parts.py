"""Each part starts from the state the notebook left: nothing one part stores, in memory, in files or in a
process it starts, reaches the next; the notebook's own state reaches every part; the notebook's process
(its threads included) does not run while a part does. Real workers, with and without the sandbox's
fresh /tmp per submission."""

from __future__ import annotations

import pytest
from toycourse import make_course, notebook_runner

from autograder.errors import StudentError, WorkerCrashed
from autograder.running.sandbox import build_launch, fresh_tmp
from autograder.running.worker_process import Worker

NOTEBOOK = [
    "import os, threading, time, subprocess\n"
    "remembered = []\n"
    "open('from-notebook.txt', 'w').write('notebook')\n"
    "open('/tmp/notebook-tmp.txt', 'w').write('notebook')",
    # part side: remember in memory and on disk, and report what an earlier part left
    "def remember(value):\n"
    "    remembered.append(value)\n"
    "    open('from-part.txt', 'w').write(str(value))\n"
    "    open('/tmp/part-tmp.txt', 'w').write(str(value))\n"
    "    os.makedirs('made-by-part', exist_ok=True)\n"
    "    open('from-notebook.txt', 'w').write('changed by a part')\n"
    "    return value",
    "def seen():\n"
    "    def read(path):\n"
    "        try:\n"
    "            return open(path).read()\n"
    "        except OSError:\n"
    "            return None\n"
    "    return [list(remembered), read('from-part.txt'), read('/tmp/part-tmp.txt'),\n"
    "            os.path.exists('made-by-part'), read('from-notebook.txt'), read('/tmp/notebook-tmp.txt')]",
]
UNTOUCHED = [[], None, None, False, "notebook", "notebook"]


@pytest.fixture(scope="module", params=["fresh", "shared"])
def run(request, tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp(f"parts-{request.param}"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOGRADER_FRESH_TMP", "on" if request.param == "fresh" else "off")
        launch = build_launch(course.assignment().release_dir)
    if request.param == "fresh" and fresh_tmp(launch) is not None:
        pytest.skip(f"no /tmp of its own per submission here: {fresh_tmp(launch)}")
    if request.param == "shared" and launch.missing:
        pytest.skip("without the sandbox the worker's /tmp is the machine's: only the submission's folder is put back")
    with Worker(launch) as worker, notebook_runner(worker, course.assignment().limits) as run:
        yield run


def test_what_a_part_stores_in_memory_and_files_is_gone_in_the_next_part(run):
    session = run(NOTEBOOK)
    session.begin_part("first", isolating=False)
    assert session.call("seen") == UNTOUCHED
    session.call("remember", 1)
    assert session.call("seen") == [[1], "1", "1", True, "changed by a part", "notebook"]
    session.begin_part("second", isolating=False)
    assert session.call("seen") == UNTOUCHED
    session.call("remember", 2)
    session.begin_part("third", isolating=False)
    assert session.call("seen") == UNTOUCHED
    assert session.restarts == 0  # the notebook ran once


def test_a_part_that_deletes_or_locks_the_notebooks_files_costs_the_next_part_nothing(run):
    session = run([*NOTEBOOK, "def vandal():\n    import shutil\n    os.remove('/tmp/notebook-tmp.txt')\n"
                   "    os.chmod('from-notebook.txt', 0)\n    here = os.getcwd()\n"
                   "    os.chdir('/')\n    os.rename(here, here + '-moved')\n    os.chmod(here + '-moved', 0o500)"])
    session.begin_part("first", isolating=False)
    session.call("vandal")
    session.begin_part("second", isolating=False)
    assert session.call("seen") == UNTOUCHED


def test_the_notebooks_threads_and_processes_do_not_run_while_a_part_does(run):
    session = run([
        "import os, threading, time, subprocess\nbeats = []\n"
        "def beat():\n    while True:\n        beats.append(1)\n        open('/tmp/beat', 'w').write(str(len(beats)))\n"
        "        time.sleep(0.01)\nthreading.Thread(target=beat, daemon=True).start()\n"
        "subprocess.Popen(['sh', '-c', 'while true; do date +%s%N > /tmp/loop; sleep 0.01; done'])\ntime.sleep(0.1)",
        "def standing_still(path):\n    first = open(path).read()\n    time.sleep(0.3)\n"
        "    return first == open(path).read()"])
    session.begin_part("first", isolating=False)
    assert session.call("standing_still", "/tmp/beat") is True  # the notebook's thread is stopped
    assert session.call("standing_still", "/tmp/loop") is True  # what the notebook started was killed


def test_a_process_a_part_starts_is_gone_in_the_next_part(run):
    session = run(["import os, subprocess, time\n"
                   "def spawn():\n    p = subprocess.Popen(['sh', '-c', 'while true; do date > /tmp/alive; sleep 0.01;"
                   " done'])\n    time.sleep(0.2)\n    return os.path.exists('/tmp/alive')",
                   "def still():\n    time.sleep(0.2)\n    return os.path.exists('/tmp/alive')"])
    session.begin_part("first", isolating=False)
    assert session.call("spawn") is True
    session.begin_part("second", isolating=False)
    assert session.call("still") is False


def test_a_part_whose_process_dies_costs_its_own_call_and_the_next_call_starts_from_the_notebook(run):
    session = run([*NOTEBOOK, "def die():\n    os._exit(3)"])
    session.begin_part("first", isolating=False)
    session.call("remember", 1)
    with pytest.raises(WorkerCrashed, match="(exited with code 3|ended unexpectedly); did the code call os._exit"):
        session.call("die")
    assert session.call("seen") == UNTOUCHED and session.restarts == 0


def test_a_part_cannot_fork_the_notebook_again(run):
    session = run(["def noop():\n    return 1"])
    session.begin_part("first", isolating=False)
    assert session.call("noop") == 1
    session.worker.request({"op": "part"}, 10)  # only the grader asks for parts; a second one is a new process
    assert session.worker.request({"op": "call", "name": "noop", "args": [], "kwargs": {"__tuple__": []},
                                   "timeout": 5}, 10).get("value") == 1


def test_the_notebooks_errors_still_reach_the_tests(run):
    session = run(["raise ValueError('boom')", "def fine():\n    return 2"])
    session.begin_part("first", isolating=False)
    assert session.call("fine") == 2
    with pytest.raises(StudentError):
        session.call("missing_name")


WAKE = [
    "import os, signal, sys\nmemory = []",
    "def remember(value):\n    memory.append(value)\n    return [os.getpid(), list(memory)]",
    "def recall():\n    return list(memory)",
    # the part's process stops reading the grader's requests and wakes the notebook's, which then serves them
    "def wake():\n    me = sys._getframe(1).f_locals['self']\n    r, w = os.pipe()\n    wake.keep = w\n"
    "    os.dup2(r, me.rfd)\n    os.kill(os.getppid(), signal.SIGCONT)\n    return True",
]


def test_a_part_that_wakes_the_notebooks_process_carries_nothing_to_the_next_part(run):
    session = run(WAKE)
    session.begin_part("first", isolating=False)
    assert session.call("wake") is True
    session.call("remember", "from the first part")  # answered by whichever process reads the requests
    session.begin_part("second", isolating=False)
    try:
        seen = session.call("recall")
    except WorkerCrashed as crashed:  # the worker saw that the notebook's process ran: it runs the notebook again
        assert "ran while the tests did" in str(crashed)
        seen = session.call("recall")
    assert seen == []


def test_folders_nested_too_deep_to_put_back_cost_that_submission_only(run):
    session = run(["import os\nfolder = os.open('/tmp', os.O_RDONLY)\nfor _ in range(1200):\n"
                   "    os.mkdir('d', dir_fd=folder)\n    folder = os.open('d', os.O_RDONLY, dir_fd=folder)",
                   "def fine():\n    return 1"])
    session.begin_part("first", isolating=False)
    with pytest.raises(WorkerCrashed, match="nested too deep"):
        session.call("fine")
    assert run(["def also_fine():\n    return 2"]).call("also_fine") == 2  # the same worker, the next submission


def test_the_tests_of_one_part_share_its_process(run):
    session = run(["import os\ndef pid():\n    return os.getpid()"])
    session.begin_part("first", isolating=False)
    first = session.call("pid")
    session.begin_part("".join(["fir", "st"]), isolating=False)  # the next test names its part anew
    assert session.call("pid") == first
    session.begin_part("second", isolating=False)
    assert session.call("pid") != first
