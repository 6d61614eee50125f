"""The host driver against a bare pty whose other end the test drives byte by byte."""
import os
import select
import time
import tty

import pytest

from drivers.devices.docreader import DocumentReader, ReaderError, ReaderEvent
from drivers.devices.docreader.protocol import ACK, NAK, Frame, FrameDecoder, Status, mrz_frame, status_frame

TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
       "7408122F1204159UTO<<<<<<<<<<<6\n"
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


class Line:
    """The reader's end of the line, written and read directly by the test."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def receive(self, count: int, timeout: float = 2.0) -> bytes:
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < count and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.05)[0]:
                data += os.read(self.master, count - len(data))
        return data

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1


@pytest.fixture
def line():
    pty = Line()
    yield pty
    pty.close()


@pytest.fixture
def reader(line):
    with DocumentReader(line.path, frame_timeout=0.2) as device:
        yield device


def test_mrz_frame_is_acked_and_delivered(line, reader):
    line.send(mrz_frame(TD1, 1).encode())
    assert reader.wait_for_document(2.0) == TD1
    assert line.receive(1) == bytes([ACK])


def test_status_frames_become_events_and_status(line, reader):
    line.send(status_frame(Status.PRESENT, 0).encode())
    assert reader.next_event(2.0) == ReaderEvent("present")
    assert reader.status == "present"
    line.send(status_frame(Status.REMOVED, 1).encode())
    assert reader.next_event(2.0) == ReaderEvent("removed")
    assert reader.status == "ready"
    assert line.receive(2) == bytes([ACK, ACK])


def test_bad_checksum_is_naked_and_the_retransmission_taken(line, reader):
    wire = mrz_frame(TD1, 0).encode()
    line.send(wire[:-1] + (b"0" if wire[-1:] != b"0" else b"1"))
    assert line.receive(1) == bytes([NAK])
    assert reader.wait_for_document(0.1) is None
    line.send(wire)
    assert reader.wait_for_document(2.0) == TD1
    assert reader.stats.naks_sent == 1 and "checksum" in reader.stats.last_garbled


def test_a_copy_of_a_taken_frame_is_acked_but_not_delivered_twice(line, reader):
    wire = mrz_frame(TD1, 1).encode()
    line.send(wire)
    assert reader.wait_for_document(2.0) == TD1
    line.send(wire)   # as if our ACK had been lost
    assert line.receive(2) == bytes([ACK, ACK])
    assert reader.wait_for_document(0.3) is None
    assert reader.stats.duplicates == 1
    line.send(mrz_frame(TD1, 0).encode())   # the next frame flips the bit
    assert reader.wait_for_document(2.0) == TD1


def test_noise_is_skipped_without_nak(line, reader):
    line.send(b"\x00\xff line noise " + mrz_frame(TD1, 0).encode())
    assert reader.wait_for_document(2.0) == TD1
    assert line.receive(1) == bytes([ACK])
    assert reader.stats.noise_bytes == len(b"\x00\xff line noise ")
    assert reader.stats.naks_sent == 0


def test_a_frame_whose_tail_never_comes_is_naked_after_frame_timeout(line, reader):
    line.send(mrz_frame(TD1, 0).encode()[:20])
    assert line.receive(1, timeout=2.0) == bytes([NAK])
    assert "silent" in reader.stats.last_garbled


def test_ping_sends_an_inquiry_and_waits_for_a_status(line, reader):
    assert not reader.ping(0.2)
    decoder = FrameDecoder()
    sent = decoder.feed(line.receive(len(Frame("I", 0).encode()), timeout=1.0))
    assert sent == [Frame("I", 0)]
    line.send(status_frame(Status.READY, 1).encode())
    assert reader.next_event(2.0) == ReaderEvent("ready")


def test_reader_fault_raises_from_wait_for_document(line, reader):
    line.send(status_frame(Status.ERROR, 0, "lamp failure").encode())
    with pytest.raises(ReaderError, match="lamp failure"):
        reader.wait_for_document(2.0)
    assert reader.status == "error"


def test_no_document_times_out_with_none(reader):
    started = time.monotonic()
    assert reader.wait_for_document(0.2) is None
    assert 0.2 <= time.monotonic() - started < 1.0


def test_vanished_port_is_reported_and_wait_raises(line):
    reader = DocumentReader(line.path, frame_timeout=0.2)
    try:
        line.close()
        assert reader.next_event(2.0).kind == "disconnected"
        assert reader.status == "disconnected" and not reader.connected
        with pytest.raises(ReaderError, match="unavailable"):
            reader.wait_for_document(0.3)
    finally:
        reader.close()


def test_opening_a_missing_port_is_a_clear_error(tmp_path):
    with pytest.raises(ReaderError, match="cannot open document reader"):
        DocumentReader(str(tmp_path / "no-such-tty"))


def test_loop_url_and_use_after_close():
    reader = DocumentReader("loop://")
    assert reader.wait_for_document(0.05) is None
    reader.close()
    with pytest.raises(ReaderError, match="closed"):
        reader.wait_for_document(0.1)


def test_a_failing_port_thread_surfaces_as_reader_error(line, monkeypatch):
    class BrokenDecoder(FrameDecoder):
        def feed(self, data):
            raise RuntimeError("decoder bug")

    monkeypatch.setattr("drivers.devices.docreader.reader.FrameDecoder", BrokenDecoder)
    with DocumentReader(line.path) as reader:
        line.send(b"x")
        with pytest.raises(ReaderError, match="stopped: RuntimeError: decoder bug"):
            reader.wait_for_document(2.0)
