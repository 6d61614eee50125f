"""The virtual chip through the real stack: VpcdCard -> vpcd driver -> pcscd
-> pyscard -> PcscTransceiver -> read_chip; and the vpcd wire protocol alone."""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys

import pytest

from drivers.devices import pcsc
from drivers.emrtd import tlv
from drivers.emrtd.reader import AccessControlError, ChipLinkError, read_chip
from hardware_sim.chip import ChipFaults, VirtualChip
from hardware_sim.chip.vpcd import VpcdCard

MRZ = "L898902C<369080619406236"
FILES = {
    0x011E: tlv.encode(0x60, tlv.encode(0x5F01, b"0107") + tlv.encode(0x5C, b"\x61\x75")),
    0x0101: tlv.encode(0x61, tlv.encode(0x5F1F, b"P<UTOERIKSSON<<ANNA<MARIA".ljust(88, b"<"))),
    0x0102: tlv.encode(0x75, bytes(i % 253 for i in range(40_000))),
    0x011D: tlv.encode(0x77, bytes(range(256)) * 8),
}


def read_through_pcscd(daemon, chip: VirtualChip, mrz: str = MRZ):
    with VpcdCard(chip, daemon.port):
        atr = pcsc.wait_for_card(daemon.reader, timeout=5)
        assert atr == chip.atr
        with pcsc.PcscTransceiver(daemon.reader) as transceiver:
            return read_chip(transceiver, mrz)


@pytest.fixture
def empty_reader(pcscd):
    yield pcscd
    pcsc.wait_for_removal(pcscd.reader, timeout=5)  # the next test starts with an empty reader


@pytest.mark.pcsc
@pytest.mark.parametrize("extended", [True, False])
def test_full_read_through_pcscd(empty_reader, extended):
    chip = VirtualChip(FILES, MRZ, extended_length=extended)
    result = read_through_pcscd(empty_reader, chip)
    assert result.ok and result.files == FILES
    assert result.extended_length is extended  # learnt from the ATR pcscd passed on
    assert empty_reader.reader in pcsc.list_readers()


@pytest.mark.pcsc
def test_wrong_mrz_key_through_pcscd(empty_reader):
    with pytest.raises(AccessControlError):
        read_through_pcscd(empty_reader, VirtualChip(FILES, MRZ), mrz="X12345678<069080619406236")


@pytest.mark.pcsc
def test_card_removed_mid_read_through_pcscd(empty_reader):
    chip = VirtualChip(FILES, MRZ, extended_length=False, faults=ChipFaults(remove_after_reads=10))
    with pytest.raises(ChipLinkError) as caught:
        read_through_pcscd(empty_reader, chip)
    assert 0x011E in caught.value.partial.files and 0x0102 not in caught.value.partial.files


@pytest.mark.pcsc
def test_no_card_times_out(empty_reader):
    with pytest.raises(pcsc.CardAbsent, match="no card"):
        pcsc.wait_for_card(empty_reader.reader, timeout=0.3)
    with pytest.raises(pcsc.CardAbsent):
        pcsc.PcscTransceiver(empty_reader.reader).connect()


@pytest.mark.pcsc
def test_unknown_reader_is_a_pcsc_error(pcscd):
    with pytest.raises(pcsc.PcscError):
        pcsc.PcscTransceiver("No Such Reader 00 00").connect()


def test_no_pcscd_is_reported_clearly():
    """The client library honours PCSCLITE_CSOCK_NAME, so a subprocess can look
    for a pcscd that certainly is not there, whatever runs on this machine."""
    code = ("from drivers.devices import pcsc\n"
            "try:\n    pcsc.list_readers()\n"
            "except pcsc.PcscdNotRunning as error:\n    print('NOT RUNNING', error)\n")
    env = dict(os.environ, PCSCLITE_CSOCK_NAME="/nonexistent/pcscd.comm")
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert output.stdout.startswith("NOT RUNNING") and "pcscd is not running" in output.stdout, output.stderr


def _message(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def _reply(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    header = b""
    while len(header) < 2:
        header += sock.recv(2 - len(header))
    (length,) = struct.unpack(">H", header)
    data = b""
    while len(data) < length:
        data += sock.recv(length - len(data))
    return data


def test_vpcd_wire_protocol_against_a_fake_driver():
    """Plays the driver's side on an ephemeral port: ATR request, power, APDUs, removal."""
    server = socket.create_server(("127.0.0.1", 0))
    chip = VirtualChip(FILES, MRZ)
    card = VpcdCard(chip, server.getsockname()[1])
    card.insert()
    link, _ = server.accept()
    try:
        _message(link, b"\x04")
        assert _reply(link) == chip.atr
        _message(link, b"\x01")  # power on: no answer expected
        _message(link, bytes.fromhex("00A4040C07A0000002471001"))
        assert _reply(link) == b"\x90\x00"
        _message(link, bytes.fromhex("0084000008"))
        assert len(_reply(link)) == 10
        assert card.inserted
        card.remove()
        link.settimeout(5)
        assert link.recv(10) == b""  # the driver sees the card go
        assert not card.inserted and card.error is None
    finally:
        link.close()
        server.close()


@pytest.mark.pcsc
def test_a_read_holds_the_reader_until_it_closes(empty_reader):
    """A second PC/SC client waits for the first one's read (its commands would break the
    first one's secure messaging) and gets the card once that read is closed."""
    import threading
    import time

    with VpcdCard(VirtualChip(FILES, MRZ), empty_reader.port):
        pcsc.wait_for_card(empty_reader.reader, timeout=5)
        first = pcsc.PcscTransceiver(empty_reader.reader).connect()
        connected_at = []
        second = pcsc.PcscTransceiver(empty_reader.reader)
        waiter = threading.Thread(target=lambda: (second.connect(), connected_at.append(time.monotonic())))
        waiter.start()
        time.sleep(0.5)
        assert connected_at == []  # still waiting for the first read
        released_at = time.monotonic()
        first.close()
        waiter.join(timeout=5)
        assert connected_at and connected_at[0] >= released_at
        second.close()
