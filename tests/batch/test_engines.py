"""Which engine a command line's --jobs and --scheduler choose, and what each starts ahead."""

from __future__ import annotations

import pytest

from autograder.batch import engines
from autograder.errors import UsageError
from autograder.running.sandbox import build_launch

from toycourse import make_course

pytestmark = pytest.mark.slow


def test_a_scheduler_is_a_cluster_and_refuses_jobs(tmp_path):
    assignment = make_course(tmp_path).assignment()
    with pytest.raises(UsageError, match="--jobs does not apply with --scheduler"):
        engines.start(assignment, 2, "tcp://127.0.0.1:8786")
    cluster = engines.start(assignment, None, "tcp://127.0.0.1:8786")
    assert isinstance(cluster, engines.Cluster) and cluster.address == "tcp://127.0.0.1:8786"


def test_jobs_choose_this_process_or_grader_processes_started_ahead(tmp_path):
    assignment = make_course(tmp_path).assignment()
    launch = build_launch(assignment.release_dir)
    with engines.start(assignment, 1, None, 5, launch) as here:
        assert isinstance(here, engines.Here)
        ((_, early),) = here.early.values()
        assert early.process.poll() is None  # its worker is starting already
    assert early.process is None
    with engines.start(assignment, 3, None, 2, launch) as processes:
        assert isinstance(processes, engines.Processes) and processes.jobs == 3
        started = [p.process for p in processes.pool]
        assert len(started) == 2 and all(p.poll() is None for p in started)  # no more than the work
    assert processes.pool == [] and all(p.poll() is not None for p in started)
    with engines.start(assignment, 3, None, 0, launch) as nothing:
        assert isinstance(nothing, engines.Here) and nothing.early[next(iter(nothing.early))][1] is None
    unknown = engines.start(assignment, 2, None, None, launch)  # --resume: the journal decides
    assert isinstance(unknown, engines.Processes) and unknown.pool == []
    with pytest.raises(UsageError, match="--jobs must be 1 or more"):
        engines.start(assignment, 0, None, 3, launch)
