"""The course's late-submission policy (nbgrader's `AssignLatePenalties.plugin_class`),
checked before any score is stored: a plugin that cannot be used is the course's
configuration to fix, said before the first submission, not after its scores were
committed (the gradebook applies the penalty once the scores are in, as nbgrader does).
"""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path

from ..errors import ConfigError

KEY = "AssignLatePenalties.plugin_class"


def check_late_plugin(config, config_file: Path) -> None:
    """ConfigError naming `config_file` and the key when nbgrader could not use the
    course's plugin: a class that does not import, one that is no nbgrader plugin or
    cannot be made, or one whose `late_submission_penalty` does not take (student_id,
    score, total_seconds_late). What the method returns is the course's own policy: it
    is not called here (a real student's penalty may depend on who they are)."""
    from nbgrader.preprocessors import AssignLatePenalties

    try:
        late = AssignLatePenalties(
            config=config, log=logging.getLogger("autograder.nbgrader")
        )
        late.init_plugin()  # as nbgrader does for each late submission
        penalty = getattr(late.plugin_inst, "late_submission_penalty", None)
        if not callable(penalty):
            raise TypeError(
                f"{type(late.plugin_inst).__name__} has no late_submission_penalty "
                "method"
            )
        inspect.signature(penalty).bind("student", 0.0, 0.0)
    except Exception as error:  # the course's own code and configuration
        detail = re.sub(
            r"<[\w.]+ object at 0x[0-9a-f]+>", "AssignLatePenalties", str(error)
        )
        detail = (detail.strip().splitlines() or [""])[0][:300]
        raise ConfigError(
            config_file,
            KEY,
            f"nbgrader cannot use this late-submission plugin ({type(error).__name__}: "
            f"{detail}); name a LateSubmissionPlugin subclass whose "
            "late_submission_penalty(student_id, score, total_seconds_late) returns "
            "the penalty, or remove the setting. Nothing was stored",
        ) from error
