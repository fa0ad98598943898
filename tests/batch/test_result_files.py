"""The batch's results files: written whole, the journal removed after the JSON, and a
file the disk refuses said with what was kept and what was lost."""

from __future__ import annotations

import json

from autograder.batch.result_files import kept_in, write_results
from autograder.batch.run import BatchRun
from autograder.results import GradeReport, SubmissionResult


def batch(tmp_path, journal=True) -> BatchRun:
    results = [SubmissionResult(student=s, notebook=f"{s}.ipynb", status="graded", score=1.0, max_score=2.0)
               for s in ("a", "b")]
    run = BatchRun(GradeReport("toy", results), graded=2, resumed=0)
    if journal:
        run.journal = tmp_path / "r.json.partial.jsonl"
        run.journal.write_text("")
        run.journaled = 2
    return run


def test_the_json_then_the_csv_are_written_and_the_journal_goes(tmp_path):
    run = batch(tmp_path)
    written = write_results(run, tmp_path / "r.json", tmp_path / "r.csv")
    assert written.lines == [f"results: {tmp_path / 'r.json'}", f"scores: {tmp_path / 'r.csv'}"]
    assert not written.warnings and not written.refused
    assert [s["student"] for s in json.loads((tmp_path / "r.json").read_text())["submissions"]] == ["a", "b"]
    assert (tmp_path / "r.csv").is_file() and not run.journal.exists()


def test_a_json_the_disk_refuses_keeps_the_journal_and_says_how_to_resume(tmp_path):
    run = batch(tmp_path)
    (tmp_path / "file").write_text("")
    written = write_results(run, tmp_path / "file" / "r.json", tmp_path / "r.csv")
    assert len(written.refused) == 1 and run.journal.exists()
    assert "keeps 2 of the 2 result(s)" in written.refused[0] and "--resume" in written.refused[0]
    assert written.lines == [f"scores: {tmp_path / 'r.csv'}"]


def test_results_the_journal_could_not_hold_are_said_to_be_in_the_json(tmp_path):
    run = batch(tmp_path)
    run.unsaved, run.journal_failure = ["b"], OSError(28, "No space left on device")
    written = write_results(run, tmp_path / "r.json", None)
    assert written.warnings == [f"1 result(s) could not be added to the journal {run.journal} (the disk is "
                                f"full (No space left on device)); {tmp_path / 'r.json'} holds them"]


def test_where_a_result_is_kept_names_the_files_or_the_table():
    assert kept_in(None, None) == "no results file holds it (no --json or --csv): the score table does"
    # said before those files are written: a promise that the end of the batch keeps or corrects
    assert kept_in("r.json", "r.csv") == ("its score goes to r.json and r.csv at the end of the batch (said "
                                          "below if one cannot be written)")
