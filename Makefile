# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# JupyterHub's proxy, from npm, for the test of the service under a real Hub (skipped without npm)
PROXY := $(VENV)/proxy/node_modules/.bin/configurable-http-proxy
# test files run in this many processes side by side, each file whole in one (its fixtures once);
# three on two cores: many tests wait (on servers, budgets, sleeps) while others compute
TEST_JOBS ?= 3

.PHONY: demo serve test install release clean
STUDENTS := $(basename $(notdir $(wildcard examples/submissions/*.ipynb)))

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(PROXY):
	@command -v npm >/dev/null \
		&& npm install --silent --no-audit --no-fund --prefix $(VENV)/proxy configurable-http-proxy@4 \
		|| echo "no npm here: the test of the service under JupyterHub will skip"

release: $(STAMP)
	$(BIN)/autograder release student-admissions
	$(BIN)/autograder release gradient-descent

demo: $(STAMP)
	$(BIN)/autograder release student-admissions
	$(BIN)/python solutions/student_admissions.py
	$(BIN)/autograder grade student-admissions examples/submissions --json out/results.json --csv out/results.csv \
		--gradebook --feedback out/feedback
	$(BIN)/autograder report student-admissions --json out/results.json -o out/report.html
	@echo "demo: scores in gradebook.db (PATH=$(BIN):\$$PATH nbgrader export), feedback in" \
		"out/feedback/<student>/student-admissions/, class report out/report.html, results out/results.{json,csv}"

# the course service on 127.0.0.1:8000, a sign-in link for each example student and the instructor
serve: $(STAMP)
	$(BIN)/autograder release student-admissions
	$(BIN)/python solutions/student_admissions.py
	@for s in $(STUDENTS); do PATH=$(BIN):$$PATH nbgrader db student add $$s --log-level=ERROR; done
	@for s in $(STUDENTS); do echo "$$s: $$($(BIN)/autograder token $$s | tail -1 | cut -d' ' -f3)"; done
	@echo "instructor: $$($(BIN)/autograder token instructor --instructor | tail -1 | cut -d' ' -f3)"
	@echo "their notebooks: examples/submissions/; Ctrl-C stops the service"
	$(BIN)/autograder serve --jobs 2

test: $(STAMP) $(PROXY)
	$(BIN)/ruff check autograder
	$(BIN)/ruff format --check autograder
	$(BIN)/mypy autograder
	$(BIN)/autograder validate student-admissions
	$(BIN)/autograder validate gradient-descent
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

clean:
	rm -rf $(VENV) out
