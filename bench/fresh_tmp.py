"""What a fresh /tmp per submission costs: the child's set-up, timed inside the real sandbox.

    .venv/bin/python bench/fresh_tmp.py [--runs 200]

In the worker as it is launched for student-admissions (bubblewrap when it works), a process
forks `runs` children the way the zygote does, each setting up its submission's folder with
`worker/scratch.enter` and exiting: once with a fresh /tmp (a user and mount namespace of its
own and a new tmpfs, the default), once with a folder of the shared /tmp (AUTOGRADER_FRESH_TMP=off),
which the zygote also has to delete afterwards (timed here too). Both copy the release folder.
Prints the median wall time per child, fork to reaped, and the difference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course.config import load_assignment  # noqa: E402
from autograder.running.launch import WORKER_MODULE, with_files  # noqa: E402
from autograder.running.sandbox import build_launch  # noqa: E402

INSIDE = '''
import json, os, shutil, statistics, sys, tempfile, time
from WORKER_MODULE import scratch
release, runs = sys.argv[1], int(sys.argv[2])
limits = {"scratch_mb": 1024, "scratch_files": 10000}
result = {}
for fresh in (True, False):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        folder = tempfile.mkdtemp(prefix="submission-")
        pid = os.fork()
        if pid == 0:
            scratch.enter(release, folder, limits, fresh)
            os._exit(0)
        os.waitpid(pid, 0)
        shutil.rmtree(folder, ignore_errors=True)
        times.append(time.perf_counter() - started)
    result["fresh" if fresh else "shared"] = statistics.median(times)
print(json.dumps(result))
'''.replace("WORKER_MODULE", WORKER_MODULE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    assignment = load_assignment("student-admissions", REPO)
    launch = build_launch(assignment.release_dir)
    command = launch.argv[:launch.argv.index("-m")] + ["-c", INSIDE, launch.argv[-1] if launch.missing
                                                       else "/assignment", str(args.runs)]
    if launch.missing:  # a plain process: the release folder is on the host
        command[-2] = str(assignment.release_dir)
    with with_files(command, launch.files) as (argv, fds):
        done = subprocess.run(argv, env=launch.env, pass_fds=fds, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    where = "a plain process (no sandbox)" if launch.missing else "the bubblewrap sandbox"
    print(f"set-up of one submission's folder in {where}, median of {args.runs} children, fork to reaped:")
    print(f"  fresh /tmp (namespaces + tmpfs + copy): {figures['fresh'] * 1000:.2f} ms")
    print(f"  folder of the shared /tmp (copy + delete): {figures['shared'] * 1000:.2f} ms")
    print(f"  a fresh /tmp costs {(figures['fresh'] - figures['shared']) * 1000:+.2f} ms per submission")


if __name__ == "__main__":
    main()
