"""Generate the Python gRPC code from proto/limes/v1/*.proto.

Run by ./limes set-up (and safe to run by hand: `python -m proto.generate`).
It regenerates only when a .proto file is newer than its generated module, so
a second run is instant. Generated files are not committed.

Protos are compiled with the repository root as include path, so the Python
modules are `proto.limes.v1.*_pb2` while the protobuf package stays `limes.v1`.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto" / "limes" / "v1"


def stale(proto: Path) -> bool:
    generated = [proto.with_name(proto.stem + suffix) for suffix in ("_pb2.py", "_pb2_grpc.py", "_pb2.pyi")]
    return any(not g.exists() or g.stat().st_mtime < proto.stat().st_mtime for g in generated)


def generate(force: bool = False) -> list[str]:
    import grpc_tools
    from grpc_tools import protoc  # needed only at set-up time

    protos = sorted(PROTO_DIR.glob("*.proto"))
    todo = [p for p in protos if force or stale(p)]
    if not todo:
        return []
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = ["protoc", f"-I{ROOT}", f"-I{well_known}", f"--python_out={ROOT}", f"--pyi_out={ROOT}",
            f"--grpc_python_out={ROOT}", *[str(p.relative_to(ROOT)) for p in todo]]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed on " + ", ".join(p.name for p in todo))
    return [p.name for p in todo]


if __name__ == "__main__":
    done = generate(force="--force" in sys.argv)
    print("generated: " + ", ".join(done) if done else "gRPC code up to date")
