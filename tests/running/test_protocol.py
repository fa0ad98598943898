"""The wire format: frames over a real pipe, values encoded in the worker and decoded strictly in the grader."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest

from autograder.running import protocol
from autograder.running.framing import ProtocolError
from autograder.running.protocol import Unsupported, decode, encode


def roundtrip(value):
    """encode -> JSON text -> decode, as a value travels from the worker to the grader."""
    return decode(json.loads(json.dumps(encode(value))))


# -- plain values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -7, 2**62, 1.5, -0.0, 1e308, True, False, None, "", "héllo"])
def test_plain_values_round_trip_with_their_type(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_ints_too_large_for_64_bits_become_floats():
    assert roundtrip(2**70) == float(2**70)
    assert type(roundtrip(2**70)) is float


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_floats_round_trip(text):
    value = float(text)
    encoded = encode(value)
    assert encoded == {"__float__": text}
    json.dumps(encoded, allow_nan=False)  # the wire never carries bare NaN/Infinity
    back = roundtrip(value)
    assert type(back) is float
    assert (math.isnan(back) and math.isnan(value)) or back == value


def test_tuples_and_lists_keep_their_kind_when_nested():
    value = (1, [2.0, (3, "x")], [], ())
    back = roundtrip(value)
    assert back == value
    assert type(back) is tuple and type(back[1]) is list and type(back[1][1]) is tuple and type(back[3]) is tuple


# -- arrays ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("array", [
    np.array([1.0, -2.5, np.nan, np.inf]),
    np.arange(12, dtype=np.int32).reshape(3, 4),
    np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    np.array([[True, False], [False, True]]),
    np.array([1 + 2j, -3j], dtype=np.complex64),
    np.zeros((0, 3), dtype=np.float32),
    np.array(7.25),  # 0-d
    np.arange(12.0).reshape(3, 4).T,  # not C-contiguous
    np.arange(10.0)[::3],  # a strided view
], ids=["float64", "int32-2d", "uint8-3d", "bool", "complex64", "empty", "0-d", "transposed", "strided"])
def test_arrays_round_trip_with_dtype_shape_and_values(array):
    back = roundtrip(array)
    assert type(back) is np.ndarray
    assert back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array, equal_nan=True)


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(-1.25), np.int64(-3), np.uint16(9), np.bool_(True)])
def test_numpy_scalars_arrive_as_0d_arrays_of_their_dtype(scalar):
    back = roundtrip(scalar)
    assert type(back) is np.ndarray and back.shape == () and back.dtype == scalar.dtype
    assert back.item() == scalar.item()


def test_array_subclasses_are_reduced_to_plain_arrays():
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])
    back = roundtrip(masked)
    assert type(back) is np.ndarray and np.array_equal(back, [1.0, 2.0, 3.0])


# -- what students might return instead of plain data ----------------------------------------------


class LyingFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __float__(self):
        return 42.0


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


def test_a_float_subclass_with_a_lying_eq_is_reduced_to_its_value():
    back = roundtrip(LyingFloat(2.5))
    assert type(back) is float and back == 2.5
    assert back != 3.0  # the real float compares honestly


def test_an_int_subclass_with_a_lying_eq_is_reduced_to_its_value():
    back = roundtrip(LyingInt(5))
    assert type(back) is int and back == 5 and back != 6


class Anything:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


@pytest.mark.parametrize("value, description", [
    (Anything(), "Anything"),
    (np.array([1, "a"], dtype=object), "numpy array of dtype object"),
    (np.array(["a", "b"]), "numpy array of dtype <U1"),
    ({"a": 1}, "dict"),
    ({1, 2}, "set"),
    (object(), "object"),
    (np.datetime64("2020-01-01"), "numpy.datetime64"),
    (io.StringIO(), "_io.StringIO"),
])
def test_other_objects_become_unsupported_named_by_type(value, description):
    back = roundtrip(value)
    assert isinstance(back, Unsupported)
    assert description.rsplit(".", 1)[-1] in back.description
    assert back != 0 and back != value  # an Unsupported never equals real data


def test_unsupported_inside_a_list_does_not_spoil_the_rest():
    back = roundtrip([1.0, Anything()])
    assert back[0] == 1.0 and isinstance(back[1], Unsupported)


def test_huge_or_deep_containers_are_unsupported():
    assert isinstance(roundtrip([0] * (protocol.MAX_ITEMS + 1)), Unsupported)
    row = [0] * 1000
    repeated = roundtrip([row] * 300)  # one list, many times: each time counts
    assert sum(isinstance(item, Unsupported) for item in repeated) == 300 - protocol.MAX_ITEMS // 1000 + 1
    deep = []
    for _ in range(20):
        deep = [deep]
    back = roundtrip(deep)
    while isinstance(back, list):
        back = back[0]
    assert isinstance(back, Unsupported)


# -- decode trusts nothing -------------------------------------------------------------------------


def npy_payload(array, allow_pickle=False) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.mark.parametrize("data", [
    {"__ndarray__": npy_payload(np.array([{"a": 1}], dtype=object), allow_pickle=True)},
    {"__ndarray__": npy_payload(np.array(["text"]))},
    {"__ndarray__": npy_payload(np.array(["2020-01-01"], dtype="datetime64[D]"))},
    {"__ndarray__": "not base64!"},
    {"__ndarray__": base64.b64encode(b"\x93NUMPY garbage").decode()},
    {"__ndarray__": 12},
    {"__float__": "1.5"},
    {"__float__": "nan", "extra": 1},
    {"__tuple__": "abc"},
    {"__unsupported__": 3},
    {"__import__": "os"},
    {"a": 1},
    {},
], ids=["pickled-npy", "str-dtype", "datetime-dtype", "bad-base64", "bad-npy", "npy-not-str", "float-text",
        "two-keys", "tuple-not-list", "unsupported-not-str", "unknown-key", "plain-dict", "empty-dict"])
def test_decode_rejects_malformed_payloads(data):
    with pytest.raises(ProtocolError):
        decode(data)


def test_decode_rejects_deep_nesting():
    data = 1
    for _ in range(12):
        data = [data]
    with pytest.raises(ProtocolError, match="nested"):
        decode(data)


def test_decode_rejects_malformed_values_inside_containers():
    with pytest.raises(ProtocolError):
        decode([1, {"__tuple__": [{"bogus": 1}]}])


def test_unsupported_repr_and_equality():
    first = Unsupported("Liar")
    assert repr(first) == "<Liar>" and first == Unsupported("Liar") and first != Unsupported("Other")
    assert Unsupported("x" * 1000).description == "x" * 200 + "... [800 more characters]"
    with pytest.raises(TypeError):
        hash(first)


def test_numpy_is_imported_by_the_first_array_not_by_the_wire_format():
    """A command with --jobs 2 starts its grader processes first: what it imports before (the wire format,
    the process engine) must not include NumPy's 0.06 s. An array still goes through once NumPy is in use."""
    import subprocess
    import sys

    code = ("import sys; import autograder.running.protocol as p, autograder.batch.parallel; "
            "print('numpy' in sys.modules); import numpy; "
            "print(p.decode(p.encode(numpy.arange(3.0))).tolist(), p.encode(numpy.float32(0.5)) != 0.5)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["False", "[0.0, 1.0, 2.0] True"]


# -- the messages ----------------------------------------------------------------------------------


def test_the_messages_are_spelled_in_protocol_only():
    """One vocabulary: no other module of the engine writes an op or an event as a string of its own."""
    import re
    from pathlib import Path

    import autograder

    spelled = re.compile(r'"(op|event)":\s*"|(op|event)\s*==\s*"|op in \("')
    found = [f"{path.name}: {line.strip()}" for path in Path(autograder.__file__).parent.rglob("*.py")
             if path.name != "protocol.py" for line in path.read_text().splitlines()
             if spelled.search(line) and "`" not in line]  # code, not a docstring quoting a frame
    assert found == []


def test_a_question_and_its_answer_cross_as_the_schema_says():
    from autograder.running import protocol
    from autograder.running.worker_process import clean_reply

    asked = protocol.question("sigmoid", 3, (np.array([0.0, 1.0]),), {})
    read = clean_reply(json.loads(json.dumps({**asked, "smuggled": "x", "id": 3, "name": "s" * 500})))
    assert set(read) == {"ok", "event", "name", "id", "args", "kwargs"} and read["id"] == 3
    assert read["name"].startswith("s" * 100) and len(read["name"]) < 150  # capped
    assert read["event"] == protocol.Event.REFERENCE
    assert protocol.decode(read["args"])[0].tolist() == [0.0, 1.0]
    assert protocol.answer(3, {"value": 1.0, "refused": True}) == {"answer": 3, "value": 1.0}


def test_a_reply_keeps_only_its_fields_each_of_its_kind():
    from autograder.running.worker_process import clean_reply

    reply = clean_reply({"ok": 1, "timeout": "yes", "cell": "7", "crashed": "", "used": ["a", 3, "b"],
                         "error": "boom", "args": [1], "extra": True})
    assert reply == {"ok": False, "timeout": True, "crashed": "no reason given", "used": ["a", "b"],
                     "error": {"type": "", "message": "boom", "where": ""}}
