"""`limes docreader` against the emulator."""
import json
import threading

from hardware_sim.docreader import ReaderEmulator
from limes.cli import build_parser

TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
       "D231458907UTO7408122F1204159<<<<<<<6")


def run(argv, capsys):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args), capsys.readouterr()


def test_listen_prints_the_document(capsys):
    with ReaderEmulator() as emu:
        threading.Timer(0.2, emu.present, args=(TD2,)).start()
        code, out = run(["docreader", "listen", emu.port, "--timeout", "3", "--json"], capsys)
    assert code == 0 and json.loads(out.out) == {"documents": [TD2]}


def test_listen_times_out(capsys):
    with ReaderEmulator() as emu:
        code, out = run(["docreader", "listen", emu.port, "--timeout", "0.2"], capsys)
    assert code == 1 and out.out == ""


def test_ping(capsys, tmp_path):
    with ReaderEmulator() as emu:
        code, out = run(["docreader", "ping", emu.port, "--json"], capsys)
    assert code == 0 and json.loads(out.out) == {"answered": True, "status": "ready"}
    code, out = run(["docreader", "ping", str(tmp_path / "none")], capsys)
    assert code == 1 and "cannot open" in out.out
