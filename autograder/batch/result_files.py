"""The batch's results files: the JSON (then the journal goes) and the CSV, each whole
or not at all, and what a file the disk refused costs: what the journal keeps for
--resume, and which results are lost."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .journal_file import discard
from .run import BatchRun


def finish(run: BatchRun) -> bool:
    """The final JSON is written: the journal is no longer needed (unless another batch
    has taken it over since). False when it could not be removed."""
    return run.journal is None or discard(run.journal)


@dataclass
class Written:
    """What `write_results` wrote, and what the disk refused."""

    # the files written: "results: FILE", "scores: FILE"
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # each file the disk refused: what was kept, what was lost
    refused: list[str] = field(default_factory=list)


def kept_in(json_path: Path | None, csv_path: Path | None) -> str:
    """Where a result is kept when its gradebook row or page could not be written
    (`Publisher`'s `kept`)."""
    files = " and ".join(str(path) for path in (json_path, csv_path) if path)
    return (
        f"its score goes to {files} at the end of the batch (said below if one cannot "
        "be written)"
        if files
        else "no results file holds it (no --json or --csv): the score table does"
    )


def write_results(
    run: BatchRun, json_path: Path | None, csv_path: Path | None
) -> Written:
    """The JSON (then the journal is removed) and the CSV, each whole or not at all; a
    file the disk refuses is said with what was kept and what was lost, and the journal
    is left for --resume."""
    from ..errors import storage_cause
    from ..outputs.exports import write_csv, write_json

    written = Written()
    if json_path:
        try:
            write_json(run.report, json_path)
        except OSError as error:
            written.refused.append(_json_refused(json_path, run, error))
        else:
            written.lines.append(f"results: {json_path}")
            if run.journal_failure is not None:  # set with the first of `unsaved`
                written.warnings.append(
                    f"{len(run.unsaved)} result(s) could not be added to the journal "
                    f"{run.journal} ({storage_cause(run.journal_failure)}); "
                    f"{json_path} holds them"
                )
            if not finish(run):
                written.warnings.append(
                    f"the journal {run.journal} could not be removed: delete it "
                    f"({json_path} holds every result)"
                )
    if csv_path:
        try:
            write_csv(run.report, csv_path)
        except OSError as error:
            kept = (
                f"{json_path} holds every result"
                if written.lines
                else "the score table above shows the scores"
            )
            written.refused.append(
                f"could not write {csv_path}: {storage_cause(error)}; {kept}"
            )
        else:
            written.lines.append(f"scores: {csv_path}")
    return written


def _json_refused(path: Path, run: BatchRun, error: OSError) -> str:
    """What a JSON the disk refused costs: what the journal keeps for --resume, and
    which results are lost."""
    from ..errors import storage_cause
    from ..names import text

    said = (
        f"could not write {path}: {storage_cause(error)}; the journal {run.journal} "
        f"keeps {run.journaled} of the {len(run.report.submissions)} result(s): free "
        "some space, then run the same command with --resume, which keeps them and "
        "grades the rest"
    )
    if run.unsaved:
        names = ", ".join(text(name, 60) for name in run.unsaved[:10])
        more = f" and {len(run.unsaved) - 10} more" if len(run.unsaved) > 10 else ""
        said += (
            f"; lost, and graded again then: the results of {names}{more} (the disk "
            "refused them to the journal too), whose scores are in the table above"
        )
    return said
