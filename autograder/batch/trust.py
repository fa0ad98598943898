"""The trust a Dask cluster implies (`--scheduler`), and the settings that hold it to
the course's machines.

Every worker that joins the scheduler is sent the course bundle (the hidden tests and
the reference solutions included), and the result it returns for a submission is the
grade: whoever can join is trusted. Dask enforces who can with TLS: the scheduler, its
workers and the client each hold a certificate of the course's own CA and accept no
other (`dask scheduler --tls-ca-file ...`). Here are the client's side of it, built in
one place from Dask's own configuration (`distributed.comm.tls.*`, which `grade --tls-*`
set), and the warning for a scheduler on another machine reached without TLS. Imported
by the command before it grades: nothing here imports Dask until it is needed.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UsageError

TLS_SCHEMES = ("tls", "wss")  # the addresses Dask reaches over TLS
TLS_FILES = "--tls-ca-file, --tls-cert and --tls-key"


def cluster_tls(
    address: str | None,
    ca_file: Path | None,
    cert: Path | None,
    key: Path | None,
    warn: Callable[[str], None],
):
    """The command's --scheduler and --tls-* as Dask's settings while the batch runs (a
    context manager), once `warn` has been told when the scheduler is reached without
    TLS on another machine."""
    warning = unprotected(address) if address else None
    if warning:
        warn(warning)
    return tls_settings(address, ca_file, cert, key)


TLS_ATTRIBUTES = (
    ("CA", "tls_ca_file"),
    ("certificate", "tls_client_cert"),
    ("key", "tls_client_key"),
)


def cluster_security(address: str):
    """The client's Dask security settings for `address`, from Dask's configuration
    (`distributed.comm.tls.*`, which --tls-* set): for tls:// (or wss://), TLS with our
    certificate, the course CA's, and encryption required; for another scheme what the
    configuration says, which must not require encryption."""
    from distributed.security import Security

    over_tls = scheme(address) in TLS_SCHEMES
    try:
        security = Security(require_encryption=True) if over_tls else Security()
    except ValueError as error:  # a TLS version Dask does not take
        raise UsageError(
            f"Dask's TLS configuration is not usable ({error}); check "
            "distributed.comm.tls"
        ) from None
    if not over_tls:
        if security.require_encryption:
            raise UsageError(
                "Dask's configuration requires encryption "
                "(distributed.comm.require-encryption) "
                f"and {address} is not TLS: give --scheduler tls://HOST:PORT"
            )
        return security
    # Security declares these in its __slots__ only, so they are read by name
    tls_files: dict[str, str | None] = {
        name: getattr(security, attribute) for name, attribute in TLS_ATTRIBUTES
    }
    if not (tls_files["CA"] and tls_files["certificate"]):
        raise UsageError(
            f"{address} is reached over TLS, which needs the course's certificates: "
            f"give {TLS_FILES} (or Dask's distributed.comm.tls.ca-file, .client.cert "
            "and .client.key)"
        )
    try:
        # opens the files now: a wrong path or key is said here
        security.get_connection_args("client")
    except (OSError, ValueError) as error:
        files = ", ".join(
            f"{name} {path}"
            for name, path in tls_files.items()
            if path and "\n" not in path
        )
        raise UsageError(
            f"cannot use the TLS files ({files}): {error}; check {TLS_FILES}"
        ) from None
    return security


def tls_settings(
    address: str | None, ca_file: Path | None, cert: Path | None, key: Path | None
):
    """--tls-ca-file, --tls-cert and --tls-key as Dask's own settings while the batch
    runs (a context manager); they are for a scheduler reached over TLS only."""
    given = {
        setting: str(path)
        for setting, path in (
            ("distributed.comm.tls.ca-file", ca_file),
            ("distributed.comm.tls.client.cert", cert),
            ("distributed.comm.tls.client.key", key),
        )
        if path
    }
    if given and (address is None or scheme(address) not in TLS_SCHEMES):
        raise UsageError(
            f"{TLS_FILES} are for a Dask scheduler reached over TLS: give --scheduler "
            "tls://HOST:PORT"
        )
    return _dask_settings(given)


@contextlib.contextmanager
def _dask_settings(given: dict[str, str]):
    """Dask's configuration with `given` from entering to leaving (never before: nothing
    is left set if the batch does not start)."""
    if not given:
        yield
        return
    import dask

    with dask.config.set(given):
        yield


def unprotected(address: str) -> str | None:
    """A warning when `address` is a scheduler reached without TLS on another machine
    (else None): whoever can reach its port can join as a worker, be sent the course and
    return any result."""
    try:
        host = urlsplit("//" + address.split("://", 1)[-1]).hostname or ""
    except ValueError:  # not an address (an unclosed "[")
        host = ""
    if scheme(address) in (*TLS_SCHEMES, "inproc") or _loopback(host):
        return None
    return (
        f"the Dask scheduler {address} is reached without TLS: any machine that can "
        "reach its port can join as a worker, be sent the hidden tests and reference "
        "solutions, and return any grade; start the cluster over TLS with the "
        f"course's certificates and give tls://HOST:PORT with {TLS_FILES} (README: A "
        "Dask cluster over TLS)"
    )


def _loopback(host: str) -> bool:
    """Whether `host` is this machine by its name alone (a name that needs resolving is
    taken for another)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return bool(
        ip.is_loopback
        or (ip.version == 6 and ip.ipv4_mapped and ip.ipv4_mapped.is_loopback)
    )


def scheme(address: str) -> str:
    # Dask's default scheme
    return address.split("://", 1)[0].lower() if "://" in address else "tcp"
