"""The cluster's trust without a cluster: the warning for a plain address on another machine (decided from the
address alone, and said once by the command before anything is sent), and the client's TLS settings."""

from __future__ import annotations

import pytest

from autograder.batch.trust import cluster_security, cluster_tls, tls_settings, unprotected
from autograder.cli import main
from autograder.errors import UsageError

from toycourse import make_course


@pytest.mark.parametrize("address", ["tcp://10.1.2.3:8786", "10.1.2.3:8786", "tcp://grading.example.org:8786",
                                     "ws://10.1.2.3:8786", "tcp://[2001:db8::1]:8786", "tcp://:8786"])
def test_a_plain_address_on_another_machine_is_warned_of(address):
    warning = unprotected(address)
    assert warning.startswith(f"the Dask scheduler {address} is reached without TLS: any machine")
    assert "give tls://HOST:PORT with --tls-ca-file, --tls-cert and --tls-key" in warning


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tcp://127.8.0.1:1",
                                     "tcp://localhost:8786", "TCP://LocalHost:8786", "tcp://[::1]:8786",
                                     "tcp://[::ffff:127.0.0.1]:8786", "tls://10.1.2.3:8786", "wss://10.1.2.3:8786",
                                     "inproc://10.1.2.3/1/2"])
def test_tls_or_this_machine_is_not_warned_of(address):
    assert unprotected(address) is None


def test_the_command_line_warns_of_a_plain_remote_scheduler_before_grading(tmp_path, capsys):
    course = make_course(tmp_path)
    nothing = tmp_path / "nothing"  # no submission: nothing is sent anywhere (192.0.2.0/24 is never routed)
    nothing.mkdir()
    code = main(["--course", str(course.root), "grade", "toy", str(nothing), "--scheduler", "tcp://192.0.2.7:8786"])
    warnings = [line for line in capsys.readouterr().err.splitlines() if "without TLS" in line]
    assert code == 0
    assert len(warnings) == 1 and warnings[0].startswith("warning: the Dask scheduler tcp://192.0.2.7:8786 is")


def test_tls_files_need_a_tls_address(tmp_path, capsys):
    course = make_course(tmp_path)
    ca = tmp_path / "ca.pem"
    for scheduler in (["--scheduler", "tcp://127.0.0.1:9"], []):
        assert main(["--course", str(course.root), "grade", "toy", str(tmp_path), "--tls-ca-file", str(ca),
                     *scheduler]) == 2
        assert "are for a Dask scheduler reached over TLS: give --scheduler tls://HOST:PORT" in capsys.readouterr().err


def test_a_tls_address_needs_the_course_certificates(tmp_path):
    with pytest.raises(UsageError, match="needs the course's certificates: give --tls-ca-file, --tls-cert"):
        cluster_security("tls://127.0.0.1:9")
    missing = tmp_path / "missing.pem"
    with tls_settings("tls://127.0.0.1:9", missing, missing, None), \
            pytest.raises(UsageError, match="cannot use the TLS files .*missing.pem"):
        cluster_security("tls://127.0.0.1:9")
    security = cluster_security("tcp://127.0.0.1:9")  # Dask's settings as they are, leaving nothing behind
    assert (security.require_encryption, security.tls_ca_file) == (False, None)


def test_a_configuration_that_requires_encryption_refuses_a_plain_address():
    dask = pytest.importorskip("dask")
    with dask.config.set({"distributed.comm.require-encryption": True}), \
            pytest.raises(UsageError, match="requires encryption .* give --scheduler tls://HOST:PORT"):
        cluster_security("tcp://127.0.0.1:9")


def test_the_files_are_dask_settings_only_while_the_batch_runs(tmp_path):
    dask = pytest.importorskip("dask")
    said = []
    ca = tmp_path / "ca.pem"
    settings = cluster_tls("tls://127.0.0.1:9", ca, None, None, warn=said.append)
    assert dask.config.get("distributed.comm.tls.ca-file") is None  # not before the batch starts
    with settings:
        assert dask.config.get("distributed.comm.tls.ca-file") == str(ca)
    assert dask.config.get("distributed.comm.tls.ca-file") is None
    assert said == []
    with cluster_tls("tcp://192.0.2.7:8786", None, None, None, warn=said.append):
        pass
    assert len(said) == 1 and "without TLS" in said[0]
