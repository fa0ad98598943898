"""The service's HTML: Jinja2 templates with every value escaped (student text
included), no inline script (the page script is /static/service.js, which the CSP
allows alone).

The page script polls the JSON API: a submission's status, its place in the queue, and
its score appear without reloading, the moment the status changes (the API answers a
page that waits for it then: `changes.py`); an instructor's table refreshes likewise.
"""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{{ course }}{% endblock %} · autograder</title>
<link rel="stylesheet" href="{{ base }}/static/service.css">
<script src="{{ base }}/static/service.js" defer></script></head>
<body><header><strong>{{ course }}</strong>
{% if person %}<span>{{ person.name }}
{% if person.instructor %} (instructor){% endif %}</span>
<form method="post" action="{{ base }}/logout">
<input type="hidden" name="csrf" value="{{ csrf }}">
<button>Sign out</button></form>{% endif %}</header>
<main>{% block main %}{% endblock %}</main></body></html>
"""

SIGN_IN = """{% extends "layout" %}{% block main %}
<h1>Sign in</h1>
<p>{{ message or "Open the sign-in link your instructor gave you." }}</p>
{% endblock %}"""

STUDENT = """{% extends "layout" %}{% block main %}
<h1>Your assignments</h1>
<table><tr><th>Assignment</th><th>Due</th><th>Latest</th><th>Best</th><th>Release</th></tr>
{% for a in assignments %}<tr><td>{{ a.name }}</td><td>{{ a.due or "—" }}</td>
<td>{{ a.latest }}</td><td>{{ a.best }}</td>
<td><a href="{{ base }}/release/{{ a.name }}">{{ a.notebook }}</a></td></tr>
{% endfor %}</table>
<h2>Submit a notebook</h2>
<form method="post" action="{{ base }}/submit" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label>Assignment <select name="assignment">{% for a in assignments %}
<option>{{ a.name }}</option>{% endfor %}</select></label>
<input type="file" name="notebook" accept=".ipynb" required>
<button>Submit</button></form>
<h2>Your submissions</h2>
<table data-poll="{{ base }}/api/submissions"><tr><th>Submitted</th><th>Assignment</th>
<th>Status</th><th>Score</th><th></th></tr>
{% for s in submissions %}<tr data-id="{{ s.id }}"><td>{{ s.submitted_at }}</td>
<td>{{ s.assignment }}</td><td class="status">{{ s.status }}</td>
<td class="score">{{ s.score_text }}</td>
<td><a href="{{ base }}/submissions/{{ s.id }}">details</a></td>
</tr>{% endfor %}</table>
{% endblock %}"""

SUBMISSION = """{% extends "layout" %}{% block main %}
<h1>{{ s.assignment }}, submitted {{ s.submitted_at }}</h1>
<p data-submission="{{ base }}/api/submissions/{{ s.id }}">
Status: <strong class="status">{{ s.status }}</strong>
<span class="position">{% if s.position is not none %}
({{ s.position }} ahead of it in the queue){% endif %}</span>
· Score: <span class="score">{{ s.score_text }}</span></p>
<p class="message">{{ s.message or "" }}</p>
<p><a class="feedback" href="{{ base }}/submissions/{{ s.id }}/feedback"
{% if s.status not in final %}hidden{% endif %}>Read the feedback</a>
· <a href="{{ base }}/">back</a></p>
{% endblock %}"""

INSTRUCTOR = """{% extends "layout" %}{% block main %}
<h1>The class</h1>
<p><a href="{{ base }}/instructor/scores.csv">Scores as CSV</a> · Class report:
{% for a in assignments %}
<a href="{{ base }}/instructor/report/{{ a.name }}">{{ a.name }}</a>{% endfor %}
<form method="post" action="{{ base }}/instructor/regrade">
<input type="hidden" name="csrf" value="{{ csrf }}">
<button>Regrade every final submission</button></form></p>
<table data-poll="{{ base }}/api/class" data-instructor="1"><tr><th>Student</th>
<th>Assignment</th><th>Status</th><th>Score that counts</th><th>Submissions</th>
<th>Time to feedback</th><th>LMS</th><th></th></tr>
{% for r in rows %}<tr data-id="{{ r.id }}"><td>{{ r.student }}</td>
<td>{{ r.assignment }}</td>
<td class="status">{{ r.status }}</td><td class="score">{{ r.score_text }}</td>
<td>{{ r.count }}</td><td>{{ r.seconds }}</td><td class="lms">{{ r.lms }}</td>
<td><form method="post" action="{{ base }}/instructor/regrade/{{ r.id }}">
<input type="hidden" name="csrf" value="{{ csrf }}"><button>Regrade</button></form>
</td></tr>{% endfor %}
</table>{% endblock %}"""

SWITCH = """{% extends "layout" %}{% block main %}
<h1>Sign in as {{ other.name }}?</h1>
<p>{% if now %}You are signed in as <strong>{{ now.name }}</strong>. {% endif %}This
link signs in <strong>{{ other.name }}</strong>: what you submit next would be theirs.
Use it only if it is yours.</p>
<form method="post" action="{{ base }}/login">
<input type="hidden" name="login" value="{{ login }}">
<input type="hidden" name="token" value="{{ token }}">
<button>Sign in as {{ other.name }}</button></form>
{% if now %}<p><a href="{{ base }}/">Stay {{ now.name }}</a></p>{% endif %}
{% endblock %}"""

ERROR = """{% extends "layout" %}{% block main %}
<h1>{{ title }}</h1><p>{{ message }}</p><p><a href="{{ base }}/">back</a></p>
{% endblock %}"""

NEW_WINDOW = """{% extends "layout" %}{% block main %}
<h1>Open in a new window</h1>
<p>Your browser keeps this tool's cookies out of your LMS's page, so it cannot sign you
in here.</p>
<p><a href="{{ login }}" target="_blank" rel="noopener">Open {{ course }} in a new
window</a></p>
{% endblock %}"""

CSS = """body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;
padding:1rem}
header{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ccc}
header form{margin-left:auto}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}
.status{font-weight:600}"""

SCRIPT = """"use strict";
const FINAL = ["graded", "invalid", "timeout", "crashed"];
function text(s) {
  return s.score === null ? "—" : `${s.score} / ${s.max_score}`;
}
async function poll() {
  const one = document.querySelector("[data-submission]");
  const table = document.querySelector("[data-poll]");
  let done = true, changed = false;
  try {
    if (one) {  // answered as soon as the status is another than the one shown
      const seen = one.querySelector(".status").textContent;
      const r = await fetch(
        `${one.dataset.submission}?wait=20&seen=${encodeURIComponent(seen)}`);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);  // signed out, or gone
      const s = await r.json();
      changed = s.status !== seen;
      one.querySelector(".status").textContent = s.status;
      one.querySelector(".score").textContent = text(s);
      one.querySelector(".position").textContent =
        s.position === null ? "" : `(${s.position} ahead of it in the queue)`;
      document.querySelector(".message").textContent = s.message || "";
      const link = document.querySelector(".feedback");
      link.hidden = !FINAL.includes(s.status);
      done = FINAL.includes(s.status);
    }
    if (table) {
      const r = await fetch(table.dataset.poll);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const rows = (await r.json()).submissions;
      for (const s of rows) {
        const row = table.querySelector(`tr[data-id="${s.id}"]`);
        if (!row) {  // a submission the page does not show yet
          location.reload();
          return;
        }
        row.querySelector(".status").textContent = s.status;
        row.querySelector(".score").textContent = text(s);
        const lms = row.querySelector(".lms");
        if (lms) lms.textContent = s.lms || "";
        const waiting = (s.lms || "").startsWith("pending");
        if (!FINAL.includes(s.status) || waiting) done = false;
      }
    }
  } catch (error) {
    done = false;
  }
  setTimeout(poll, changed ? 0 : done ? 5000 : 700);
}
document.addEventListener("DOMContentLoaded", poll);
"""

TEMPLATES = {
    "layout": LAYOUT,
    "sign_in": SIGN_IN,
    "student": STUDENT,
    "submission": SUBMISSION,
    "instructor": INSTRUCTOR,
    "switch": SWITCH,
    "error": ERROR,
    "new_window": NEW_WINDOW,
}
environment = Environment(
    loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True)
)


def render(name: str, **values) -> str:
    return environment.get_template(name).render(**values)
