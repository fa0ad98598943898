"""Frames over a real pipe: whole or refused, under deadlines, bounded before they are parsed."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from autograder.running import framing
from autograder.running.framing import ProtocolError
from autograder.running.protocol import decode, encode


@pytest.fixture
def pipe():
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        try:
            os.close(fd)
        except OSError:
            pass


# -- frames ----------------------------------------------------------------------------------------


def test_frames_round_trip_over_a_pipe(pipe):
    read_end, write_end = pipe
    messages = [{"op": "call", "name": "square", "args": encode([2.0])}, {"ok": True, "value": None}, {}]
    for message in messages:
        framing.write_frame(write_end, message)
    assert [framing.read_frame(read_end) for _ in messages] == messages


def test_a_frame_larger_than_the_pipe_buffer_arrives_whole(pipe):
    read_end, write_end = pipe
    message = {"value": encode(np.arange(300_000, dtype=np.float64))}  # ~3 MB of base64
    writer = threading.Thread(target=framing.write_frame, args=(write_end, message))
    writer.start()
    received = framing.read_frame(read_end)
    writer.join()
    assert np.array_equal(decode(received["value"]), np.arange(300_000, dtype=np.float64))


def test_read_frame_raises_eof_when_the_writer_is_gone(pipe):
    read_end, write_end = pipe
    os.close(write_end)
    with pytest.raises(EOFError):
        framing.read_frame(read_end)


def test_a_truncated_frame_is_eof(pipe):
    read_end, write_end = pipe
    data = b'{"ok": true}'
    os.write(write_end, framing.HEADER.pack(len(data) + 10) + data)
    os.close(write_end)
    with pytest.raises(EOFError):
        framing.read_frame(read_end)


@pytest.mark.parametrize("payload", [b"not json at all", b"\xff\xfe\x00", b"[1, 2, 3]", b'"text"',
                                     b'{"value": ' + b"9" * 5000 + b"}"])
def test_a_frame_that_is_not_a_json_object_is_a_protocol_error(pipe, payload):
    read_end, write_end = pipe
    os.write(write_end, framing.HEADER.pack(len(payload)) + payload)
    with pytest.raises(ProtocolError):
        framing.read_frame(read_end)


def test_an_oversized_frame_is_refused_before_reading_it(pipe):
    read_end, write_end = pipe
    os.write(write_end, framing.HEADER.pack(framing.MAX_FRAME + 1))
    with pytest.raises(ProtocolError, match="MB a reply may hold"):
        framing.read_frame(read_end)


def test_a_reader_past_its_deadline_stops_waiting_for_the_rest_of_a_frame(pipe):
    read_end, write_end = pipe
    os.write(write_end, framing.HEADER.pack(1000) + b'{"ok": tr')  # a writer stopped mid-frame
    started = time.monotonic()
    with pytest.raises(framing.FrameTimeout):
        framing.read_frame(read_end, deadline=time.monotonic() + 0.3)
    assert time.monotonic() - started < 2


def test_a_reader_past_its_deadline_stops_waiting_for_a_frame_to_start(pipe):
    read_end, _ = pipe
    with pytest.raises(framing.FrameTimeout):
        framing.read_frame(read_end, deadline=time.monotonic() + 0.2)


def test_a_writer_past_its_deadline_stops_when_nobody_reads(pipe):
    _, write_end = pipe
    message = {"value": "x" * (4 * 1024 * 1024)}  # far more than a pipe holds
    started = time.monotonic()
    with pytest.raises(framing.FrameTimeout):
        framing.write_frame(write_end, message, deadline=time.monotonic() + 0.3)
    assert time.monotonic() - started < 2
    assert os.get_blocking(write_end)  # the descriptor is left as it was


def test_a_frame_over_the_readers_bound_is_refused_unread_and_can_be_discarded(pipe):
    read_end, write_end = pipe
    framing.write_frame(write_end, {"value": "x" * 5000})
    framing.write_frame(write_end, {"ok": True})
    with pytest.raises(framing.FrameTooLarge) as refused:
        framing.read_frame(read_end, max_bytes=1000)
    assert refused.value.unread == refused.value.size > 5000
    framing.discard(read_end, refused.value.unread, time.monotonic() + 1)
    assert framing.read_frame(read_end) == {"ok": True}  # the stream is in step again


def test_a_frame_of_many_small_items_is_refused_before_it_is_parsed(pipe):
    read_end, write_end = pipe
    data = b'{"value":[' + b"[]," * 1000 + b"[]]}"
    os.write(write_end, framing.HEADER.pack(len(data)) + data)
    with pytest.raises(framing.FrameTooLarge, match="more than 500 items"):
        framing.read_frame(read_end, max_tokens=500)


def test_json_nested_too_deeply_for_the_parser_is_a_protocol_error(pipe):
    read_end, write_end = pipe
    data = b'{"value":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    writer = threading.Thread(target=os.write, args=(write_end, framing.HEADER.pack(len(data)) + data))
    writer.start()
    with pytest.raises(ProtocolError):
        framing.read_frame(read_end)
    writer.join()


def test_objects_count_more_than_list_items_before_a_frame_is_parsed(pipe):
    read_end, write_end = pipe
    data = b'{"value":' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}"  # every level a whole dict when parsed
    os.write(write_end, framing.HEADER.pack(len(data)) + data)
    with pytest.raises(framing.FrameTooLarge):
        framing.read_frame(read_end, max_tokens=900 * framing.OBJECT_WEIGHT - 1)
