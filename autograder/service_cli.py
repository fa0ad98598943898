"""The service's verbs of the command: `serve`, `token`, `submit` and `lti`, each a thin
layer over `service/` (the rest of the command is cli.py and commands.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

from .commands import _root
from .errors import ExitCode, UsageError


def add_verbs(verbs) -> None:
    serve = verbs.add_parser(
        "serve", help="grade each notebook as it is submitted (the course service)"
    )
    serve.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="grade N submissions at a time (default: 1)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    serve.add_argument(
        "--port",
        type=int,
        help="default: 8000, or where JupyterHub says when it started the service",
    )
    serve.add_argument(
        "--hub-instructors",
        default="instructors",
        metavar="GROUP",
        help="as a JupyterHub service: the Hub group of the instructors",
    )
    serve.add_argument(
        "--gradebook",
        metavar="URL",
        help="database of the queue (default: the course's gradebook)",
    )
    serve.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster of this scheduler (tcp:// or tls://); --jobs "
        "is then how many submissions are sent to it at a time",
    )
    serve.add_argument(
        "--lease",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a grading whose service stopped is taken up again after this long "
        "(default: 30)",
    )
    serve.set_defaults(verb=cmd_serve)

    token = verbs.add_parser(
        "token", help="a sign-in link for one person of the course"
    )
    token.add_argument("person", help="a student of the gradebook's roster")
    token.add_argument("--instructor", action="store_true")
    token.add_argument("--revoke", action="store_true", help="revoke their tokens")
    token.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="the service's address, for the link",
    )
    token.add_argument("--gradebook", metavar="URL")
    token.set_defaults(verb=cmd_token)

    submit = verbs.add_parser("submit", help="submit a notebook to the course service")
    submit.add_argument("notebook", type=Path)
    submit.add_argument("--url", required=True, help="the service's address")
    submit.add_argument("--token", required=True, help="your sign-in token")
    submit.add_argument("--assignment")
    submit.set_defaults(verb=cmd_submit)

    lti = verbs.add_parser("lti", help="connect the course service to an LMS (LTI 1.3)")
    actions = lti.add_subparsers(title="actions", metavar="ACTION")
    register = actions.add_parser(
        "register", help="register an LMS (a platform) and its deployments"
    )
    register.add_argument("--issuer", required=True, metavar="ISS")
    register.add_argument("--client-id", required=True, metavar="ID")
    for option in ("--auth-url", "--jwks-url", "--token-url"):
        register.add_argument(option, metavar="URL")
    register.add_argument(
        "--deployment-id",
        action="append",
        default=[],
        metavar="DEP",
        help="a deployment of the tool in the LMS (repeatable)",
    )
    register.add_argument(
        "--context-id",
        action="append",
        default=[],
        metavar="COURSE",
        help="the LMS's id of this course: launches from others are refused "
        "(repeatable; default: any course of the deployments)",
    )
    register.add_argument(
        "--frame-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="the LMS's own pages (https://school.instructure.com), which may show "
        "the tool in a frame (repeatable; also learned from its launches)",
    )
    register.add_argument(
        "--remove", action="store_true", help="remove this registration instead"
    )
    register.add_argument("--gradebook", metavar="URL")
    register.set_defaults(verb=cmd_lti_register)
    listed = actions.add_parser("list", help="the LMSs registered")
    listed.add_argument("--gradebook", metavar="URL")
    listed.set_defaults(verb=cmd_lti_list)
    roster = actions.add_parser(
        "roster", help="bring the LMS's course members into nbgrader's roster"
    )
    roster.add_argument("--gradebook", metavar="URL")
    roster.set_defaults(verb=cmd_lti_roster)
    lti.set_defaults(verb=lambda args: lti.print_help() or ExitCode.USAGE)


def cmd_lti_roster(args) -> int:
    from .service.server import lti_roster

    for line in lti_roster(_root(args), args.gradebook):
        print(line)
    return ExitCode.OK


def cmd_lti_register(args) -> int:
    from .service.server import lti_register

    print(lti_register(_root(args), args.gradebook, args))
    return ExitCode.OK


def cmd_lti_list(args) -> int:
    from .service.server import lti_store

    store = lti_store(_root(args), args.gradebook)
    found = store.platforms()
    for p in found:
        print(
            f"{p.issuer}  client {p.client_id}  deployments {', '.join(p.deployments)}"
        )
        print(f"    auth {p.auth_url}  keys {p.jwks_url}  token {p.token_url}")
        framing = sorted(store.learned_origins(p)) or ["none known yet"]
        print(f"    pages that may frame the tool: {', '.join(framing)}")
    if not found:
        print(
            "no LMS registered: `autograder lti register --issuer ... --client-id ...`"
        )
    return ExitCode.OK


def cmd_serve(args) -> int:
    from .batch.parallel import check_jobs
    from .service.server import address, serve

    jobs = check_jobs(args.jobs)
    if not 0 < args.lease <= 86_400:  # nan is refused too
        raise UsageError("--lease must be a number of seconds, 0 < s <= 86400")
    host, port = address(args.host, args.port)
    print(f"serving on http://{host}:{port} (Ctrl-C stops)", flush=True)
    root, hub_group = _root(args), args.hub_instructors
    serve(root, args.gradebook, jobs, host, port, args.lease, hub_group, args.scheduler)
    return ExitCode.OK


def cmd_token(args) -> int:
    from .service.server import revoke, token

    if args.revoke:
        count = revoke(_root(args), args.gradebook, args.person)
        print(f"revoked {count} token(s) of {args.person}")
        return ExitCode.OK
    secret = token(_root(args), args.gradebook, args.person, args.instructor)
    print(f"token: {secret}")
    print(f"sign-in link: {args.url.rstrip('/')}/login?token={secret}")
    return ExitCode.OK


def cmd_submit(args) -> int:
    from .service.server import submit

    status = submit(args.notebook, args.url, args.token, args.assignment)
    score = (
        f"{status['score']:g} / {status['max_score'] or 0:g}"
        if status.get("score") is not None
        else "no score"
    )
    print(f"{status['assignment']}: {status['status']}, {score}")
    if status.get("message"):
        print(status["message"])
    if status.get("feedback_url"):
        print(f"feedback: {urljoin(args.url, status['feedback_url'])}")
    return ExitCode.OK if status["status"] == "graded" else ExitCode.FAILED
