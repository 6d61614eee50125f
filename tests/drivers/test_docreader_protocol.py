"""The frame codec alone: bytes in, events out, no port."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.devices.docreader.protocol import (
    ACK,
    CR,
    ETX,
    NAK,
    STX,
    Control,
    Frame,
    FrameDecoder,
    FrameError,
    Garbled,
    Noise,
    Status,
    checksum,
    mrz_frame,
    mrz_text,
    read_status,
    status_frame,
)

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def test_wire_format():
    wire = Frame("S", 1, b"P").encode()
    body = b"S1P" + bytes([ETX])
    assert wire == bytes([STX]) + body + f"{checksum(body):02X}".encode()
    assert checksum(body) == ord("S") ^ ord("1") ^ ord("P") ^ ETX


def test_mrz_round_trip_uses_cr_between_lines():
    frame = mrz_frame(TD3, 0)
    assert frame.payload.count(bytes([CR])) == 1
    [decoded] = FrameDecoder().feed(frame.encode())
    assert decoded == frame and mrz_text(decoded) == TD3


def test_status_frames():
    assert read_status(status_frame(Status.ERROR, 0, "window dirty")) == (Status.ERROR, "window dirty")
    assert read_status(Frame("S", 0, b"Q")) == (None, "Q")


def test_frames_split_anywhere_reassemble():
    wire = mrz_frame(TD3, 1).encode() + bytes([ACK]) + status_frame(Status.READY, 0).encode()
    decoder = FrameDecoder()
    events = []
    for index in range(len(wire)):
        events += decoder.feed(wire[index:index + 1])
    assert events == [mrz_frame(TD3, 1), Control(ACK), status_frame(Status.READY, 0)]


def test_noise_between_frames_is_reported_and_skipped():
    frame = status_frame(Status.PRESENT, 0)
    events = FrameDecoder().feed(b"\xffjunk" + frame.encode() + b"\r\n" + bytes([NAK]))
    assert events == [Noise(b"\xffjunk"), frame, Noise(b"\r\n"), Control(NAK)]


@pytest.mark.parametrize("wire, reason", [
    (b"\x02S0P\x03" + b"00", "checksum is 00, computed"),
    (b"\x02S0P\x03" + b"ZZ", "not two hex digits"),
    (b"\x02S0P\x03\x06", "control byte 0x06 in the checksum"),
    (b"\x02S0P\x01", "control byte 0x01 inside a frame"),
    (b"\x02S0P\x02", "cut short by a new STX"),
    (b"\x02" + b"A" * 600, "no ETX within"),
])
def test_garbled_frames(wire, reason):
    events = FrameDecoder().feed(wire)
    garbled = [event for event in events if isinstance(event, Garbled)]
    assert len(garbled) == 1 and reason in garbled[0].reason


def test_a_frame_without_kind_or_sequence_bit_is_garbled():
    body = b"S7" + bytes([ETX])
    [event] = FrameDecoder().feed(bytes([STX]) + body + f"{checksum(body):02X}".encode())
    assert isinstance(event, Garbled) and "sequence bit" in event.reason


def test_decoder_resynchronises_after_a_broken_frame():
    good = mrz_frame(TD3, 0)
    events = FrameDecoder().feed(b"\x02M1P<UT" + good.encode())
    assert isinstance(events[0], Garbled) and events[1] == good


def test_ack_inside_a_frame_still_counts_as_ack():
    events = FrameDecoder().feed(b"\x02S0" + bytes([ACK]))
    assert isinstance(events[0], Garbled) and events[1] == Control(ACK)


def test_expire_abandons_a_half_frame():
    decoder = FrameDecoder()
    assert decoder.expire() is None
    decoder.feed(b"\x02M0P<UTO")
    assert decoder.in_frame
    expired = decoder.expire()
    assert isinstance(expired, Garbled) and expired.raw == b"\x02M0P<UTO"
    assert not decoder.in_frame


@pytest.mark.parametrize("frame, message", [
    (Frame("MM", 0), "one ASCII letter"),
    (Frame("1", 0), "one ASCII letter"),
    (Frame("M", 2), "sequence bit"),
    (Frame("M", 0, b"\x03"), "0x03"),
    (Frame("M", 0, b"A" * 513), "exceeds"),
])
def test_unencodable_frames(frame, message):
    with pytest.raises(FrameError, match=message):
        frame.encode()


printable = st.binary(max_size=80).map(lambda b: bytes(x for x in b if 0x20 <= x <= 0x7E or x == CR))


@given(st.lists(st.tuples(st.sampled_from("MSI"), st.integers(0, 1), printable), max_size=5),
       st.integers(1, 17))
def test_any_frames_survive_any_chunking(frames, chunk):
    wire = b"".join(Frame(kind, seq, payload).encode() for kind, seq, payload in frames)
    decoder = FrameDecoder()
    events = []
    for start in range(0, len(wire), chunk):
        events += decoder.feed(wire[start:start + chunk])
    assert events == [Frame(kind, seq, payload) for kind, seq, payload in frames]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_decoder(data):
    decoder = FrameDecoder()
    events = decoder.feed(data)
    consumed = sum(len(e.raw) for e in events if isinstance(e, (Noise, Garbled)))
    assert consumed <= len(data)
    # Whatever came before, a clean frame after a fresh STX is decoded.
    tail = decoder.feed(status_frame(Status.READY, 1).encode())
    assert tail[-1] == status_frame(Status.READY, 1)
