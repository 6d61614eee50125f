"""`limes bench files`: opening traveller files with deduplication against a large travellers gallery.

A synthetic gallery of N faces (matcher.synthetic, as `limes bench matcher` builds it) is written
with the real Gallery, then served by `limes matcher serve` in its own process; central runs in
this process over a SQLite file, with the matcher's travellers gallery configured, as a border
post runs it. A gate client then, for travellers never seen (non-mated faces), records the first
entry (untimed) and times CheckTravellerFile and EnrolTraveller: each a 1:N search of the live
face at the matcher, EnrolTraveller also the file's rows, its sealed template and face image, and
the matcher's Enrol (its log written) before central commits. Faces already in a file under
another identity (mated probes of gallery subjects given a file) time the duplicate answer.
Latencies are the gate client's, on loopback: central's whole work, both gRPC hops included.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from common import machine
from common.output import add_json_flag, emit
from common.sealing import open_or_create
from limes.bench.matcher import MatcherProcess, batches
from limes.bench.matcher_shared import default_factory, mated_probes
from limes.bench.summary import summary
from matcher import synthetic

TARGET_MS_P95 = 50.0
MODEL, VERSION = "synthetic-dlib-128", "1"
STATION = "BENCH-GATE-01"


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = (f"Traveller files: EnrolTraveller (1:N deduplication, then the file opened) against a "
                         f"synthetic travellers gallery; the target is p95 <= {TARGET_MS_P95:.0f} ms at central.")
    bench.add_argument("--gallery", type=int, default=1_000_000, help="faces in the travellers gallery "
                                                                      "(default 1,000,000)")
    bench.add_argument("--enrolments", type=int, default=500, help="new travellers enrolled, timed (default 500)")
    bench.add_argument("--duplicates", type=int, default=100,
                       help="travellers whose face is in another identity's file, timed (default 100)")
    bench.add_argument("--seed", type=int, default=0)
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _letters(index: int, width: int = 6) -> str:
    """A name part of letters only for `index` (names are compared without digits: drivers.alertmatch)."""
    return "".join(chr(65 + index // 26 ** k % 26) for k in reversed(range(width)))


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (160, 200), (150, 120, 100)).save(out, format="JPEG", quality=88)
    return out.getvalue()


def _build_gallery(data_dir: Path, key_file: Path, size: int, seed: int) -> float:
    """The travellers gallery of `size` synthetic faces, subjects id0, id1, ..., snapshot taken; build seconds."""
    from central.travellers.files import TRAVELLERS_GALLERY
    from matcher.config import GalleryConfig
    from matcher.registry import Registry

    registry = Registry(data_dir, background=False, snapshot_every=2 ** 62, sealer=open_or_create(key_file))
    config = GalleryConfig.checked(TRAVELLERS_GALLERY, MODEL, VERSION, synthetic.DIMENSION, 0,
                                   default_factory(size), min(20_000, size))
    gallery, _ = registry.create(config)
    started = time.perf_counter()
    for block, first, end in synthetic.blocks(size):
        photos = synthetic.enrolment_photos(seed, block, synthetic.population_block(seed, block, end - first))
        for start, stop in batches(first, end, end):
            gallery.enrol([(f"id{i}", photos[i - first]) for i in range(start, stop)])
        if end % 1_000_000 == 0:
            print(f"bench files: {end} enrolled", file=sys.stderr, flush=True)
    gallery.snapshot()
    registry.close()
    return time.perf_counter() - started


def _give_files(database_url: str, key_file: Path, subjects: list[int]) -> None:
    """Traveller files, under identities of their own, for these gallery subjects (the duplicates' owners),
    sealed as central keeps them: else central's background resealer would still be at work (a batch, a
    pause, a batch) when the benchmark ends, and write into the folder being removed."""
    from central.database import models as m
    from central.database.engine import Database
    from central.travellers.files import reseal_templates

    database = Database(database_url, sealer=open_or_create(key_file))
    database.migrate()

    def work(session):
        point = m.BorderPoint(code="BENCH-POINT", name="")
        session.add(point)
        session.flush()
        for i in subjects:
            person = m.Traveller(surname=f"OWNER{i}", given_names="", name_key=f"owner{i}",
                                 birth_date=dt.date(1970, 1, 1), nationality="USA", sex="")
            session.add(person)
            session.flush()
            session.add(m.TravellerFile(file_id=f"id{i}", traveller_id=person.id, template=b"\0" * 512,
                                        template_model=MODEL, template_model_version=VERSION,
                                        border_point_id=point.id, created_at=m.utcnow()))
        session.flush()
        reseal_templates(session, len(subjects))
    database.run(work)
    database.dispose()


def run(gallery_size: int, enrolments: int, duplicates: int, seed: int = 0) -> dict:
    import grpc

    from central.access.roles import AccessPolicy, Kind, Role
    from central.alerts.matcher_client import GrpcFaceMatcher
    from central.rpc.server import serve
    from central.travellers.files import TRAVELLERS_GALLERY
    from proto.limes.v1 import central_pb2 as pb
    from proto.limes.v1 import central_pb2_grpc, common_pb2

    rng = np.random.default_rng(seed + 1)
    owners = np.sort(rng.choice(gallery_size, size=min(duplicates, gallery_size), replace=False))
    mated = mated_probes(seed, gallery_size, owners)
    strangers = synthetic.photos(rng, synthetic.population(rng, enrolments), np.arange(enrolments))
    jpeg = _jpeg()
    with tempfile.TemporaryDirectory(prefix="limes-bench-files-") as work:
        work_dir = Path(work)
        key_file = work_dir / "keys" / "at-rest.key"
        build_s = _build_gallery(work_dir / "matcher", key_file, gallery_size, seed)
        database_url = f"sqlite:///{work_dir / 'central.sqlite'}"
        _give_files(database_url, key_file, [int(i) for i in owners])
        with MatcherProcess(work_dir / "matcher", key_file) as matcher:
            travellers = GrpcFaceMatcher(matcher.address, TRAVELLERS_GALLERY, plaintext=True)
            server, port = serve("127.0.0.1:0", database_url, plaintext=True, sealer=open_or_create(key_file),
                                 access=AccessPolicy(bootstrap={(Kind.STATION, STATION): (Role.GATE,)}),
                                 traveller_gallery=travellers)
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = central_pb2_grpc.CentralStub(channel)
            metadata = (("x-limes-station", STATION),)

            def traveller(kind: str, index: int, vector: np.ndarray):
                """A traveller never seen: CheckTravellerFile, the first entry recorded (untimed), EnrolTraveller;
                (check ms, check status, enrol ms, enrolment reply)."""
                crossing_id = str(uuid.uuid4())
                document = pb.TravelDocument(number=f"{kind[0]}{index:08d}", type="P", issuing_state="USA")
                person = pb.Traveller(surname=kind + _letters(index), given_names="BENCH", nationality="USA",
                                      birth_date=(dt.date(1950, 1, 1) + dt.timedelta(days=index % 20000)).isoformat())
                face = common_pb2.FaceTemplate(vector=vector.tolist(), model=MODEL, model_version=VERSION)
                started = time.perf_counter()
                check = stub.CheckTravellerFile(pb.CheckTravellerFileRequest(document=document, traveller=person,
                                                                             face=face), metadata=metadata)
                check_ms = (time.perf_counter() - started) * 1000
                stub.RecordCrossing(pb.RecordCrossingRequest(
                    crossing_id=crossing_id, station_id=STATION, border_point="BENCH-POINT",
                    direction=pb.Crossing.ENTRY, occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(),
                    document=document, traveller=person, decision=pb.Crossing.OPEN), metadata=metadata)
                started = time.perf_counter()
                reply = stub.EnrolTraveller(pb.EnrolTravellerRequest(crossing_id=crossing_id, face=face,
                                                                     live_capture_jpeg=jpeg), metadata=metadata)
                return check_ms, pb.TravellerFileCheck.Status.Name(check.status), \
                    (time.perf_counter() - started) * 1000, reply

            try:
                for i in range(min(5, enrolments)):  # warm up: connections, prepared statements
                    traveller("WARM", i, synthetic.photos(rng, synthetic.population(rng, 1), np.arange(1))[0])
                new = [traveller("NEW", i, v) for i, v in enumerate(strangers)]
                twins = [traveller("TWIN", i, v) for i, v in enumerate(mated)]
            finally:
                channel.close()
                server.stop(grace=1).wait()
                travellers.close()
    enrol_ms = [t[2] for t in new]
    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "limes bench files " + " ".join(sys.argv[3:]) if sys.argv[1:3] == ["bench", "files"] else None,
        "gallery": gallery_size, "index_factory": default_factory(gallery_size), "at_rest": "sealed",
        "gallery_build_s": round(build_s, 1),
        "new_travellers": len(new), "opened": sum(bool(t[3].file_id) for t in new),
        "new_check_statuses": {s: sum(t[1] == s for t in new) for s in sorted({t[1] for t in new})},
        "enrol_ms": summary(enrol_ms),
        "check_ms": summary([t[0] for t in new]),
        "duplicates": len(twins),
        "duplicates_found_at_check": sum(t[1] == "DUPLICATE" for t in twins),
        "duplicates_refused_at_enrolment": sum(not t[3].file_id and "multiple identity" in t[3].reason
                                               for t in twins),
        "duplicate_check_ms": summary([t[0] for t in twins]),
        "target_ms_p95": TARGET_MS_P95,
        "machine": machine.describe(), "load_average": machine.load_average(),
    }
    result["meets_target"] = result["enrol_ms"]["p95"] <= TARGET_MS_P95
    return result


def _bench(args: argparse.Namespace) -> int:
    if args.gallery < 1 or args.enrolments < 1 or args.duplicates < 0:
        print("limes bench files: --gallery and --enrolments must be at least 1, --duplicates at least 0",
              file=sys.stderr)
        return 2
    emit(run(args.gallery, args.enrolments, args.duplicates, args.seed), args.json, _render)
    return 0


def _render(r: dict) -> str:
    return "\n".join([
        f"travellers gallery of {r['gallery']} ({r['index_factory']}, sealed), built in {r['gallery_build_s']} s",
        f"EnrolTraveller (dedup + file opened), {r['new_travellers']} new travellers, {r['opened']} opened: "
        f"p50 {r['enrol_ms']['p50']} ms, p95 {r['enrol_ms']['p95']} ms "
        f"(target {r['target_ms_p95']:.0f}: {'met' if r['meets_target'] else 'NOT met'})",
        f"CheckTravellerFile of a new traveller: p50 {r['check_ms']['p50']} ms, p95 {r['check_ms']['p95']} ms",
        f"faces in another identity's file: {r['duplicates_found_at_check']} of {r['duplicates']} found at the "
        f"check, {r['duplicates_refused_at_enrolment']} refused at enrolment; check p95 "
        f"{r['duplicate_check_ms']['p95']} ms",
        f"load average {r['load_average']}",
    ])
