"""The package's layout is its architecture: stages as folders, imports only downwards, small modules,
names that differ, and a test file for each module where tests/ mirrors the package."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

import package_imports
from conftest import REPO

PACKAGE = REPO / "autograder"
# Lower first: a module may import only from its own tier or a lower one (docs/ARCHITECTURE.md).
TIERS = [
    ["autograder", "autograder.errors", "autograder.names", "autograder.settings", "autograder.results",
     "autograder.mismatch"],
    ["autograder.course"],  # the course and its configuration
    ["autograder.running"],  # running student code: the untrusted side and its boundary
    ["autograder.suite"],  # the hidden suite
    ["autograder.grade"],  # the grading pipeline for one submission
    ["autograder.outputs"],  # what grading writes
    ["autograder.batch"],  # whole batches
    ["autograder.verbs"],  # the verbs, each a library call
    ["autograder.service"],  # the course service: grade on submit
    ["autograder.authoring"],  # the public module for course authors: nothing of ours imports it
    ["autograder.commands", "autograder.service_cli"],  # what each verb of the command does
    ["autograder.cli"],
    ["autograder.__main__"],
]
MAX_LINES = 300
WORKER = "autograder.running.worker"
WORKER_MAY_IMPORT = ("autograder.running.worker", "autograder.running.protocol", "autograder.running.framing", "autograder.names",
                     "autograder.errors")  # errors: the exceptions names.py raises; it imports nothing
# Modules tested through others, each with the test files that cover it.
TESTED_ELSEWHERE = {
    "autograder.errors": ["test_cli.py", "running/test_notebook_file.py"],
    "autograder.results": ["outputs/test_exports.py", "test_grade.py"],
    "autograder.course.generate": ["verbs/test_release.py", "outputs/test_gradebook.py"],
    "autograder.running.launch": ["running/test_sandbox.py"],
    "autograder.running.pythonview": ["running/test_sandbox.py"],
    "autograder.running.worker_process": ["running/test_session.py", "running/worker/test_display.py"],
    "autograder.running.notebook_run": ["running/test_session.py"],
    "autograder.running.worker.child": ["running/test_session.py"],
    "autograder.running.worker.zygote": ["running/test_session.py", "running/test_sandbox.py"],
    "autograder.running.worker.relay": ["running/test_session.py", "adversarial/test_process_budget.py"],
    "autograder.running.worker.processes": ["running/test_session.py", "adversarial/test_process_budget.py"],
    "autograder.running.worker.shell": ["running/test_session.py"],
    "autograder.outputs.terminal": ["batch/test_progress.py", "test_names.py"],
    "autograder.outputs.table": ["test_cli.py"],
    "autograder.outputs.plots": ["outputs/test_feedback.py", "outputs/test_report.py"],
    "autograder.outputs.executed": ["outputs/test_course_folders.py", "test_course_cycle.py"],
    "autograder.batch.bundle": ["batch/test_cluster.py"],
    "autograder.batch.run": ["batch/test_parallel.py", "batch/test_resume.py", "batch/test_cluster.py"],
    "autograder.service.app": ["service/test_server.py"],
    "autograder.service.lti_store": ["service/test_lti.py"],
    "autograder.service.lti_keys": ["service/test_lti.py"],
    "autograder.service.lti_outbox": ["service/test_lti.py"],
    "autograder.service.lti_links": ["service/test_lti.py"],
    "autograder.service.lti_roster": ["service/test_lti.py"],
    "autograder.service.signin": ["service/test_server.py", "service/test_pages.py"],
    "autograder.service.lti_web": ["service/test_lti.py"],
    "autograder.service_cli": ["service/test_lti.py", "service/test_server.py"],
    "autograder.service.auth": ["service/test_server.py"],
    "autograder.service.course": ["service/test_server.py"],
    "autograder.service.dispatch": ["service/test_server.py"],
    "autograder.service.inbox": ["service/test_server.py"],
    "autograder.service.middleware": ["service/test_server.py"],
    "autograder.service.server": ["service/test_server.py"],
    "autograder.verbs.grade": ["verbs/test_grade_verb.py", "test_commands.py"],  # a basename of its own
    "autograder.verbs.validate": ["test_cli.py", "verbs/test_new.py"],
    "autograder.verbs.doctor": ["running/test_sandbox.py"],
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """The modules of the package that `name` imports, at any depth of its code (lazy imports too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for module, names in package_imports.imports(path.read_text(), package):
        targets = [f"{module}.{alias}" if f"{module}.{alias}" in MODULES else module for alias in names] or [module]
        found.update(target for target in targets if target in MODULES)
    return found - {name}


def tier(name: str) -> int:
    return max(number for number, heads in enumerate(TIERS) for head in heads
               if name == head or (head != "autograder" and name.startswith(head + ".")))


def test_every_module_has_a_tier():
    assert all(isinstance(tier(name), int) for name in MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_only_downwards(name):
    upwards = sorted(other for other in imports(name) if tier(other) > tier(name))
    assert not upwards, f"{name} (tier {tier(name)}) imports from a higher stage: {upwards}"


def test_no_import_cycle():
    graph = {name: imports(name) for name in MODULES}
    done, path = set(), []

    def visit(name: str) -> None:
        if name in path:
            raise AssertionError(f"import cycle: {' -> '.join(path[path.index(name):] + [name])}")
        if name in done:
            return
        path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        path.pop()
        done.add(name)

    for name in MODULES:
        visit(name)


def test_the_worker_imports_nothing_of_the_grader():
    for name in MODULES:
        if name == WORKER or name.startswith(WORKER + "."):
            assert all(other.startswith(WORKER_MAY_IMPORT) for other in imports(name)), (name, imports(name))
    for name in WORKER_MAY_IMPORT[1:]:  # nor do the two modules it shares with the grader
        assert all(other.startswith(WORKER_MAY_IMPORT) for other in imports(name)), (name, imports(name))


def test_stage_packages_import_nothing_themselves():
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            assert not package_imports.imports(path.read_text()), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_small(name):
    assert len(MODULES[name].read_text().splitlines()) <= MAX_LINES


def test_no_two_module_names_differ_by_one_letter():
    names = sorted({path.stem for path in MODULES.values()} - {"__init__", "__main__"})
    close = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if difflib.SequenceMatcher(None, a, b).ratio() > 0.85 or _one_edit(a, b)]
    assert not close


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def test_tests_mirror_the_package():
    """tests/<stage>/test_<module>.py for each module, or the tests that cover it through others."""
    missing = []
    for name, path in MODULES.items():
        if path.name in ("__init__.py", "__main__.py"):
            continue
        relative = path.relative_to(PACKAGE)
        mirror = REPO / "tests" / relative.parent / f"test_{relative.name}"
        if not mirror.is_file() and not all((REPO / "tests" / test).is_file() for test in TESTED_ELSEWHERE.get(name, [""])):
            missing.append(f"{name}: tests/{relative.parent / f'test_{relative.name}'}")
    assert not missing
    assert not [name for name in TESTED_ELSEWHERE if name not in MODULES]


def test_a_higher_stage_import_is_caught():
    assert tier("autograder.running.session") < tier("autograder.suite.assertions")
    assert tier("autograder.results") < tier("autograder.running.protocol")
