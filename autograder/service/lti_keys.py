"""The tool's own RSA key pair, made once and kept with the course: published as a
JSON Web Key Set (the LMS checks the tool's messages with it), signing the deep linking
responses and the requests for access tokens to the platform's grade and roster
services.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path

from ..errors import UsageError
from .lti_store import Platform

KEY_FILE = Path("service") / "lti" / "tool-key.pem"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem "
    "https://purl.imsglobal.org/spec/lti-ags/scope/score "
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)


def tool_key(root: Path):
    """The tool's RSA private key, made once and kept with the course (0600)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = root / KEY_FILE
    if not path.is_file():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:  # two services at once: the first key stays, and both use it
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise UsageError(
            f"{path} is not the tool's private key ({error}); move it away and a new "
            "one is made (the LMS then needs the new public key: it reads /.well-known/"
            "jwks.json)"
        ) from None


def public_jwks(root: Path) -> dict:
    """The tool's public key as a JSON Web Key Set, its kid the key's thumbprint."""
    return {"keys": [_public_jwk(tool_key(root))]}


def _public_jwk(key) -> dict:
    from jwt.algorithms import RSAAlgorithm

    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    thumbprint = {k: jwk[k] for k in ("e", "kty", "n")}
    canonical = json.dumps(thumbprint, sort_keys=True, separators=(",", ":"))
    kid = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return jwk | {"kid": kid, "alg": "RS256", "use": "sig"}


def signed_by_tool(root: Path, claims: dict) -> str:
    """`claims` as a JWT signed with the tool's key, its kid the one the JWKS gives."""
    import jwt

    key = tool_key(root)
    kid = _public_jwk(key)["kid"]
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def access_token(client, platform: Platform, root: Path) -> tuple[str, float]:
    """An access token of the platform for the grade and roster services (client
    credentials, with a JWT signed by the tool's key), and for how many seconds."""
    now = int(time.time())
    assertion = signed_by_tool(
        root,
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        },
    )
    answer = client.post(
        platform.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": (
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ),
            "client_assertion": assertion,
            "scope": SCOPES,
        },
    )
    answer.raise_for_status()
    data = answer.json()
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise ValueError("the platform gave no access token")
    seconds = data.get("expires_in")
    return data["access_token"], float(seconds) if isinstance(seconds, int) else 3600.0
