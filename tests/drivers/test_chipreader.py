"""read_chip against the in-memory virtual chip: a full read, extended and
short blocks, each fault ending in its own exception or recorded step, and
fuzzed chip answers that must only ever give the reader's own errors."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.transceiver import CallableTransceiver
from drivers.emrtd.reader import (
    DG1,
    DG2,
    EF_COM,
    EF_SOD,
    AccessControlError,
    ChipIntegrityError,
    ChipLinkError,
    ChipProtocolError,
    ChipReadError,
    read_chip,
)
from hardware_sim.chip import ChipFaults, VirtualChip

MRZ = "L898902C<369080619406236"
DG11 = 0x010B


def sample_files(dg2_size: int = 12_000) -> dict[int, bytes]:
    """Files with LDS framing (tag, length) around filler content."""
    return {
        EF_COM: tlv.encode(0x60, tlv.encode(0x5F01, b"0107") + tlv.encode(0x5C, b"\x61\x75")),
        DG1: tlv.encode(0x61, tlv.encode(0x5F1F, b"P<UTOERIKSSON<<ANNA<MARIA".ljust(88, b"<"))),
        DG2: tlv.encode(0x75, bytes(i % 251 for i in range(dg2_size))),
        EF_SOD: tlv.encode(0x77, bytes(range(200)) * 9),
    }


@pytest.mark.parametrize("extended", [True, False])
def test_full_read_returns_every_file(extended):
    files = sample_files()
    chip = VirtualChip(files, MRZ, extended_length=extended)
    result = read_chip(chip, MRZ)
    assert result.ok and result.extended_length is extended
    assert result.files == files
    assert [step.name for step in result.steps] == [
        "read EF.CardAccess", "select eMRTD application", "basic access control", "read EF.COM", "read DG14",
        "read DG1", "read DG2", "read DG15", "read EF.SOD"]
    assert [step.name for step in result.steps if step.outcome == "absent"] == [
        "read EF.CardAccess", "read DG14", "read DG15"]  # a BAC-only chip without CA or AA
    assert result.access.method == "BAC" and result.chip_authentication is None
    assert all(step.seconds >= 0 for step in result.steps)
    reads = sum(1 for command, _ in chip.log if command[1] == 0xB0)
    # DG2 alone needs 12_004 / 0xDF = 54 short reads; extended reads one block per file after the probe.
    assert reads == (8 if extended else 4 + 2 + 54 + 9)


def test_short_reads_on_a_chip_without_extended_length_even_if_asked_not_to_probe():
    chip = VirtualChip(sample_files(), MRZ, extended_length=False)
    assert read_chip(chip, MRZ, extended_length=False).ok


def test_missing_data_group_is_recorded_as_absent():
    result = read_chip(VirtualChip(sample_files(), MRZ), MRZ, files=(DG1, DG11, DG2))
    absent = [step for step in result.steps if step.outcome == "absent"]
    assert [step.name for step in absent] == ["read EF.CardAccess", "read DG14", "read DG11", "read DG15"]
    assert "6A82" in absent[2].detail
    assert result.ok and DG11 not in result.files and DG2 in result.files


def test_wrong_mrz_key_is_an_access_control_error():
    with pytest.raises(AccessControlError, match="6300") as caught:
        read_chip(VirtualChip(sample_files(), MRZ), "X12345678<069080619406236")
    assert caught.value.step == "basic access control"
    assert [s.outcome for s in caught.value.partial.steps] == ["absent", "ok", "failed"]


def test_card_removed_mid_read_is_a_link_error_with_partial_result():
    chip = VirtualChip(sample_files(), MRZ, faults=ChipFaults(remove_after_reads=3))
    with pytest.raises(ChipLinkError, match="removed") as caught:
        read_chip(chip, MRZ)
    partial = caught.value.partial
    assert EF_COM in partial.files and DG2 not in partial.files
    assert partial.steps[-1].outcome == "failed" and not partial.ok


@pytest.mark.parametrize("faults", [ChipFaults(corrupt_after_reads=3), ChipFaults(wrong_mac_after_reads=3)])
def test_corrupted_or_wrongly_maced_answers_are_integrity_errors(faults):
    with pytest.raises(ChipIntegrityError, match="MAC|malformed|padding|cryptogram"):
        read_chip(VirtualChip(sample_files(), MRZ, faults=faults), MRZ)


def test_not_an_emrtd_is_a_protocol_error():
    with pytest.raises(ChipProtocolError, match="6A82"):
        read_chip(CallableTransceiver(lambda apdu: b"\x6a\x82"), MRZ)


def test_file_with_garbage_header_is_a_protocol_error():
    files = sample_files()
    files[DG1] = b"\x61\x84\xff\xff\xff\xff\x00\x00"  # claims 4 GiB
    with pytest.raises(ChipProtocolError, match="DG1"):
        read_chip(VirtualChip(files, MRZ), MRZ)


_ERRORS = (ChipReadError,)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=12))
def test_random_answers_give_only_reader_errors(answers):
    """Whatever a broken card says, read_chip ends in a ChipReadError."""
    queue = iter(answers)

    def card(apdu: bytes) -> bytes:
        return next(queue, b"\x6f\x00")

    with pytest.raises(_ERRORS):
        read_chip(CallableTransceiver(card), MRZ)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_tampered_protected_answers_give_only_reader_errors(data):
    """A real chip session where one protected answer is truncated, bit-flipped,
    replaced by a random status word or by random bytes."""
    chip = VirtualChip(sample_files(dg2_size=300), MRZ, extended_length=False)
    victim = data.draw(st.integers(3, 12), label="victim exchange")
    how = data.draw(st.sampled_from(["truncate", "flip", "status", "random"]), label="tampering")
    seen = []

    def card(apdu: bytes) -> bytes:
        answer = chip.process(apdu)
        seen.append(apdu)
        if len(seen) != victim:
            return answer
        if how == "truncate":
            return answer[:data.draw(st.integers(0, max(0, len(answer) - 1)))]
        if how == "flip":
            position = data.draw(st.integers(0, len(answer) - 1))
            return answer[:position] + bytes([answer[position] ^ 0x01]) + answer[position + 1:]
        if how == "status":
            return data.draw(st.binary(min_size=2, max_size=2))
        return data.draw(st.binary(max_size=300))

    try:
        result = read_chip(CallableTransceiver(card), MRZ)
    except ChipReadError:
        return
    # Only tampering that kept the exchange meaningful may succeed (e.g. a flipped trailer status byte
    # the MAC does not cover); the files must then still be exactly the chip's.
    assert all(result.files[file_id] == content for file_id, content in chip.files.items()
               if file_id in result.files)


@pytest.mark.parametrize("extended", [True, False])
def test_file_beyond_32k_is_read_with_odd_ins(extended):
    files = sample_files(dg2_size=70_000)
    chip = VirtualChip(files, MRZ, extended_length=extended)
    result = read_chip(chip, MRZ)
    assert result.ok and result.files[DG2] == files[DG2]
    odd_reads = [command for command, _ in chip.log if command[1] == 0xB1]
    assert odd_reads  # offsets past 0x7FFF cannot be sent with INS B0


def test_file_claiming_more_than_any_lds_file_is_refused():
    files = sample_files()
    files[DG2] = b"\x75\x83\x20\x00\x00" + bytes(20)  # claims 2 MiB
    with pytest.raises(ChipProtocolError, match="claims"):
        read_chip(VirtualChip(files, MRZ), MRZ)
