"""Who may frame the service's pages: the origins of the LMSs registered for LTI and of the pages their
verified launches name, each a plain https origin (or http on this machine), read from a real SQLite
database; nothing else, and nothing that could say more than an origin in a CSP header."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine

from autograder.service.embedding import Embedding, origin_of
from autograder.service.lti import CLAIM
from autograder.service.lti_store import MAX_ORIGINS, LtiStore, Platform


@pytest.mark.parametrize(("url", "origin"), [
    ("https://school.instructure.com/courses/1", "https://school.instructure.com"),
    ("https://LMS.example:8443/x?y#z", "https://lms.example:8443"),
    ("http://localhost:5000/course", "http://localhost:5000"),
    ("http://127.0.0.1/course", "http://127.0.0.1"),
    ("http://[::1]:81/", "http://[::1]:81"),
    ("http://lms.example/course", None),  # http off this machine: no secure cookie would work there
    ("javascript:alert(1)", None),
    ("https://a;b/", None),  # what would end the CSP's directive
    ("https://a b/", None),
    ("https://lms.example:99999/", None),
    ("https://user:pw@lms.example/", "https://lms.example"),
    ("", None),
    (None, None),
    (["https://lms.example"], None),
    ("https://" + "a" * 3000, None),
])
def test_an_origin_is_a_plain_secure_host_and_port_or_nothing(url, origin):
    assert origin_of(url) == origin


def platform(issuer: str = "https://canvas.instructure.com") -> Platform:
    return Platform(issuer, "client-1", "https://sso.canvaslms.com/api/lti/authorize_redirect",
                    "https://sso.canvaslms.com/jwks", "https://sso.canvaslms.com/token", ["dep-1"])


def launched(return_url, linking_url=None) -> dict:
    claims = {CLAIM + "launch_presentation": {"return_url": return_url}}
    if linking_url is not None:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": linking_url}
    return claims


def test_only_the_pages_a_registered_lms_names_may_frame(tmp_path):
    store = LtiStore(create_engine(f"sqlite:///{tmp_path / 'gradebook.db'}"))
    embedding = Embedding(store)
    assert asyncio.run(embedding.ancestors()) == "'none'"  # no LMS registered: nobody

    canvas = platform()
    store.register(canvas)
    embedding.refresh()
    # not the issuer's host (every hosted Canvas's, where anyone may make a course page) nor the
    # authorization's: identifiers and addresses of the platform, not the school's pages
    assert asyncio.run(embedding.ancestors()) == "'none'"
    embedding.learn(canvas, launched("https://school.instructure.com/courses/7/external_tools",
                                   "https://school.instructure.com/courses/7/deep_linking_response"))
    embedding.learn(canvas, launched("http://evil.example/", "javascript:alert(1)"))
    embedding.learn(canvas, {CLAIM + "launch_presentation": "https://other.example"})  # not an object
    assert asyncio.run(embedding.ancestors()) == "'self' https://school.instructure.com"

    # another instance sharing the database learns them too; removing the LMS forgets them all
    assert "https://school.instructure.com" in Embedding(store).refresh()
    assert store.remove(canvas.issuer, canvas.client_id)
    assert embedding.refresh() == () and asyncio.run(embedding.ancestors()) == "'none'"


def test_a_database_that_cannot_be_read_keeps_the_list_read_last(tmp_path):
    database = tmp_path / "gradebook.db"
    store = LtiStore(create_engine(f"sqlite:///{database}"))
    canvas = platform()
    store.register(canvas)
    embedding = Embedding(store)
    embedding.learn(canvas, launched("https://school.instructure.com/x"))
    store.engine.dispose()
    database.unlink()
    database.mkdir()  # no database there any more: every read fails
    assert embedding.refresh() == ("https://school.instructure.com",)


def test_a_platform_teaches_a_bounded_number_of_origins(tmp_path):
    store = LtiStore(create_engine(f"sqlite:///{tmp_path / 'gradebook.db'}"))
    canvas = platform()
    store.register(canvas)
    embedding = Embedding(store)
    for n in range(MAX_ORIGINS + 5):
        embedding.learn(canvas, launched(f"https://school{n}.example/"))
    assert len(store.learned_origins()) == MAX_ORIGINS
    assert not store.learn_origin(canvas, "https://school1.example")  # known: not twice
