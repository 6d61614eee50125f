"""`limes pki dev-certs`: a local CA and the certificates for mutual TLS between
the services, for the demo, tests and development (see proto/dev_pki.py).

It joins the `limes pki` group that the chip commands also use.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.output import add_json_flag, emit


def register(sub) -> None:
    from drivers.chip_commands import command_group
    from proto import dev_pki

    pki = command_group(sub, "pki", "trusted CSCAs and test PKIs", "pki_command")
    dev = pki.add_parser(
        "dev-certs", help="make a local CA and certificates for mutual TLS between gates and services",
        description=dev_pki.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dev.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="folder for the CA and certificates (made when missing; what is there is kept)")
    dev.add_argument("--station", action="append", default=[], metavar="ID",
                     help="a station (gate or desk) to certify; repeatable (default: DEMO-EGATE-01)")
    dev.add_argument("--user", action="append", default=[], metavar="NAME",
                     help="a user (officer tool, administrator) to certify; repeatable (default: demo-admin)")
    dev.add_argument("--host", action="append", default=[], metavar="NAME",
                     help="a further DNS name or IP address of the services, beside the loopback ones; repeatable")
    add_json_flag(dev)
    dev.set_defaults(func=_dev_certs)


def _dev_certs(args: argparse.Namespace) -> int:
    from proto.dev_pki import DevPkiError, dev_certs

    try:
        issued = dev_certs(args.out, stations=tuple(args.station or ["DEMO-EGATE-01"]),
                           users=tuple(args.user or ["demo-admin"]), hosts=tuple(args.host))
    except (DevPkiError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    emit(issued.as_dict(), args.json, lambda _: _render(issued))
    return 0


def _render(issued) -> str:
    server, ca = issued.server, issued.ca
    lines = [f"development PKI in {issued.folder} ({len(issued.created)} file(s) made, the rest kept)",
             f"  {'CA':<28} {ca}", f"  {'central and matcher':<28} {server.certificate}"]
    lines += [f"  {'station ' + name:<28} {files.certificate}" for name, files in issued.stations.items()]
    lines += [f"  {'user ' + name:<28} {files.certificate}" for name, files in issued.users.items()]
    station = next(iter(issued.stations.items()), None)
    lines += ["", "central and matcher:",
              f"  limes central serve --tls-ca {ca} --tls-cert {server.certificate} --tls-key {server.key}"]
    if station:
        name, files = station
        lines += [f"a gate's configuration (limes edge run --station {name}):",
                  f"  [tls]\n  ca = \"{ca}\"\n  certificate = \"{files.certificate}\"\n  key = \"{files.key}\""]
    lines.append("These keys are for development: a real border post issues certificates from its own CA.")
    return "\n".join(lines)
