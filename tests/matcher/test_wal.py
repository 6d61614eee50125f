import numpy as np
import pytest

from matcher.wal import ENROL, REMOVE, EnrolmentLog, LogCorruptError, Record, encode, replay


def records():
    return [Record(ENROL, "alice", np.arange(4, dtype=np.float32)), Record(REMOVE, "bob"),
            Record(ENROL, "Zoë", np.full(4, 0.5, dtype=np.float32))]


def test_appended_records_replay_in_order(tmp_path):
    log = EnrolmentLog(tmp_path / "log-00000000.wal")
    log.append(records()[:2])
    log.append(records()[2:])
    log.close()
    replayed, end = replay(tmp_path / "log-00000000.wal")
    assert [(r.op, r.subject_id) for r in replayed] == [(ENROL, "alice"), (REMOVE, "bob"), (ENROL, "Zoë")]
    assert replayed[0].vector.tolist() == [0, 1, 2, 3]
    assert end == (tmp_path / "log-00000000.wal").stat().st_size


@pytest.mark.parametrize("cut", [1, 5, 9, 20])
def test_torn_last_record_is_ignored_and_cut_before_appending(tmp_path, cut):
    path = tmp_path / "log-00000000.wal"
    whole = b"".join(encode(r) for r in records()[:2])
    path.write_bytes(whole + encode(records()[2])[:cut])
    replayed, end = replay(path)
    assert [r.subject_id for r in replayed] == ["alice", "bob"] and end == len(whole)
    log = EnrolmentLog(path, end)
    log.append([Record(REMOVE, "carol")])
    log.close()
    assert [r.subject_id for r in replay(path)[0]] == ["alice", "bob", "carol"]


def test_last_record_with_bad_crc_is_a_torn_write(tmp_path):
    path = tmp_path / "log-00000000.wal"
    last = bytearray(encode(records()[2]))
    last[-1] ^= 0xFF
    path.write_bytes(encode(records()[0]) + bytes(last))
    assert [r.subject_id for r in replay(path)[0]] == ["alice"]


def test_damage_before_whole_records_stops_replay(tmp_path):
    path = tmp_path / "log-00000000.wal"
    first = bytearray(encode(records()[0]))
    first[-1] ^= 0xFF
    path.write_bytes(bytes(first) + encode(records()[1]))
    with pytest.raises(LogCorruptError, match="bad record at byte 0"):
        replay(path)
