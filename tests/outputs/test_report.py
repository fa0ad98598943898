"""The class report, from the JSON of a real graded batch of the toy course."""

from __future__ import annotations

import base64
import html
import io
import re

import pytest
from matplotlib import image

from autograder.cli import main
from autograder.errors import UsageError
from autograder.outputs.exports import write_json
from autograder.outputs.report import render, summarize, write_report
from autograder.results import GradeReport

from toybatch import toy_graded  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results_json(toy_graded, tmp_path_factory):
    _, report = toy_graded
    path = tmp_path_factory.mktemp("report") / "results.json"
    write_json(report, path)
    return path


def test_summary_counts_pass_rates_failures_and_times(toy_graded):
    course, report = toy_graded
    summary = summarize(course.assignment(), report)
    assert sorted(summary.scores) == [0.0, 0.0, 1.0, 3.0]
    assert summary.pass_rates == {"square": 0.25}  # only alice has full marks
    assert [(f.test, f.failures) for f in summary.failing] == [
        ("test_array", 3), ("test_curve", 3), ("test_number", 2)]
    number = summary.failing[2]
    assert number.messages["square(3.0) returned 6.0, expected 9.0"] == 1
    assert [row[1] for row in summary.slowest] == sorted((s.seconds for s in report.submissions), reverse=True)


def test_the_page_has_both_plots_and_the_tables(toy_graded, results_json, tmp_path):
    course, _ = toy_graded
    page = write_report(course.assignment(), results_json, tmp_path / "report.html").read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    assert [alt for alt, _ in images] == ["score histogram", "pass rate per part"]
    histogram = image.imread(io.BytesIO(base64.b64decode(images[0][1])), format="png")
    assert histogram[..., :3].std() > 0.05
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>")[1])).split())
    assert "4 submission(s); 4 graded" in text
    assert "square 25% 1.00" in text  # part, share with full marks, mean score ((3 + 0 + 0 + 1) / 4)
    assert "square of an array 3" in text
    assert "1× square(3.0) returned 6.0, expected 9.0" in text
    assert all(name in text.split("Slowest submissions")[1] for name in ("alice", "bob", "carol", "dan"))


def test_results_of_another_assignment_or_no_file_are_usage_errors(toy_graded, results_json, tmp_path):
    course, report = toy_graded
    other = tmp_path / "other.json"
    write_json(GradeReport("student-admissions", report.submissions), other)
    with pytest.raises(UsageError, match="the results are for 'student-admissions', not 'toy'"):
        write_report(course.assignment(), other, tmp_path / "r.html")
    with pytest.raises(UsageError, match="no results file"):
        write_report(course.assignment(), tmp_path / "missing.json", tmp_path / "r.html")


def test_the_report_command(toy_graded, results_json, tmp_path, capsys):
    course, _ = toy_graded
    output = tmp_path / "out" / "class.html"
    code = main(["--course", str(course.root), "report", "toy", "--json", str(results_json), "-o", str(output)])
    assert code == 0 and output.is_file()
    assert f"class report: {output}" in capsys.readouterr().out


def test_known_mistakes_are_counted_once_per_submission_and_per_part(toy_graded):
    course, report = toy_graded
    copy = GradeReport.from_dict(report.to_dict())
    for submission in copy.submissions:
        if submission.student in ("bob", "dan"):
            for test in submission.part("square").tests:
                test.misconception = "square.doubles" if test.outcome != "passed" else None
    summary = summarize(course.assignment(), copy)
    assert summary.mistakes == {("square", "square.doubles"): 2}
    assert "<td>square</td><td>square.doubles</td><td class=\"n\">2</td>" in render(summary)
