"""The driver and the emulator end to end through a real pseudo-terminal."""
import time
from datetime import date

import pytest

from drivers.devices.docreader import DocumentReader, ReaderError, ReaderEvent
from drivers.mrz import generate_td1, parse
from hardware_sim.docreader import ReaderEmulator

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


@pytest.fixture
def emulator():
    # A generous ACK timeout: a busy CI machine must not cause spurious retransmissions.
    with ReaderEmulator(ack_timeout=1.0) as emu:
        yield emu


@pytest.fixture
def reader(emulator):
    with DocumentReader(emulator.port, frame_timeout=0.2) as device:
        yield device


def until(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_emulator_serves_a_pty(emulator):
    assert emulator.port.startswith("/dev/pts/")


def test_present_delivers_status_then_mrz(emulator, reader):
    emulator.present(TD3)
    assert reader.next_event(2.0) == ReaderEvent("present")
    assert reader.next_event(2.0) == ReaderEvent("mrz", mrz=TD3)
    assert reader.status == "present"
    assert until(lambda: emulator.stats.acks_received == 2)
    assert emulator.stats.retransmissions == 0


def test_generated_document_parses_after_the_trip(emulator, reader):
    text = generate_td1(issuing_state="D", surname="Müller", given_names="Jürgen",
                        document_number="T220001293", nationality="D", birth_date=date(1964, 8, 12),
                        sex="M", expiry_date=date(2031, 10, 31))
    emulator.present(text)
    mrz = parse(reader.wait_for_document(2.0), today=date(2026, 1, 1))
    assert (mrz.surname, mrz.given_names, mrz.document_number) == ("MUELLER", "JUERGEN", "T220001293")


def test_garbage_then_a_valid_frame(emulator, reader):
    emulator.send_raw(b"\x00\xffnoise\r\n")
    emulator.send_raw(b"\x02M1P<UTO half a frame")
    emulator.present(TD3)
    assert reader.wait_for_document(3.0) == TD3
    assert reader.stats.noise_bytes >= 9
    assert reader.stats.naks_sent >= 1


def test_corrupted_frame_is_naked_and_the_retransmission_succeeds(emulator, reader):
    emulator.corrupt_next_frame()
    emulator.present(TD3)   # its status frame goes out with a bad checksum first
    assert reader.next_event(3.0) == ReaderEvent("present")
    assert reader.next_event(3.0) == ReaderEvent("mrz", mrz=TD3)
    assert reader.stats.naks_sent == 1 and "checksum" in reader.stats.last_garbled
    assert until(lambda: emulator.stats.acks_received == 2)
    assert (emulator.stats.naks_received, emulator.stats.retransmissions) == (1, 1)
    assert emulator.stats.abandoned == 0
    assert reader.stats.frames == 2 and reader.stats.duplicates == 0


def test_no_document_times_out_with_none(reader):
    assert reader.wait_for_document(0.2) is None


def test_ping_answers_with_the_window_state(emulator, reader):
    assert reader.ping(1.0)
    assert reader.next_event(1.0) == ReaderEvent("ready")
    emulator.present(TD3)
    assert reader.wait_for_document(2.0) == TD3
    assert reader.ping(1.0)
    assert reader.status == "present"
    assert emulator.stats.inquiries == 2


def test_remove_and_reader_fault(emulator, reader):
    emulator.remove()
    assert reader.next_event(2.0) == ReaderEvent("removed")
    emulator.fail("window dirty")
    with pytest.raises(ReaderError, match="window dirty"):
        reader.wait_for_document(2.0)


def test_unanswered_frames_are_retried_then_abandoned():
    with ReaderEmulator(ack_timeout=0.02, max_retries=2) as emu:   # nobody on the line
        emu.present(TD3)
        assert until(lambda: emu.stats.abandoned == 2)
        assert emu.stats.frames_sent == 2 and emu.stats.retransmissions == 4


def test_reader_reconnects_when_the_device_comes_back(tmp_path):
    link = str(tmp_path / "docreader")
    first = ReaderEmulator(link=link).start()
    reader = DocumentReader(link, frame_timeout=0.2)
    try:
        first.present(TD3)
        assert reader.wait_for_document(2.0) == TD3
        first.stop()
        assert until(lambda: reader.status == "disconnected")
        with ReaderEmulator(link=link) as second:
            assert until(lambda: reader.connected, timeout=5.0)
            second.present(TD3)
            assert reader.wait_for_document(3.0) == TD3
        assert reader.stats.reconnects == 1
    finally:
        reader.close()


def test_page_images_arrive_before_the_mrz_in_one_capture(emulator, reader):
    from drivers.devices.docreader import ImageFormat, Light, PageImage
    visible = PageImage(Light.VISIBLE, ImageFormat.JPEG, bytes(range(256)) * 40)
    infrared = PageImage(Light.INFRARED, ImageFormat.PNG, b"\x89PNG infrared page")
    emulator.present(TD3, images=[visible, infrared])
    capture = reader.wait_for_capture(5.0)
    assert capture.mrz == TD3
    assert capture.images == (visible, infrared) and capture.lost_images == ()
    assert capture.image("V") == visible and capture.image(Light.ULTRAVIOLET) is None
    assert reader.stats.images == 2


def test_a_reader_that_could_not_read_the_mrz_still_sends_the_image(emulator, reader):
    from drivers.devices.docreader import ImageFormat, Light, PageImage
    visible = PageImage(Light.VISIBLE, ImageFormat.JPEG, b"\xff\xd8 a page \xff\xd9")
    emulator.present("", images=[visible])
    capture = reader.wait_for_capture(5.0)
    assert capture.mrz == "" and capture.images == (visible,)


def test_an_image_cut_short_on_the_line_is_reported_lost(emulator, reader):
    from drivers.devices.docreader import ImageFormat, Light, PageImage, image_frames
    partial = image_frames(PageImage(Light.VISIBLE, ImageFormat.JPEG, bytes(2000)))[:2]
    emulator.send_raw(b"".join(frame.encode() for frame in partial))   # sequence bits as a copy would
    emulator.present(TD3)
    capture = reader.wait_for_capture(5.0)
    assert capture.mrz == TD3 and capture.images == ()
    assert reader.stats.images_lost == 1
