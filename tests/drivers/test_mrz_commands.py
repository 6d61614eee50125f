import io
import json

from limes.cli import build_parser

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def run(argv, capsys, stdin=None, monkeypatch=None):
    parser = build_parser()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr()


def test_check_valid_mrz_from_stdin(capsys, monkeypatch):
    code, out = run(["mrz", "check", "--json"], capsys, stdin=TD3, monkeypatch=monkeypatch)
    result = json.loads(out.out)
    assert code == 0 and result["valid"] and result["document_number"] == "L898902C3"
    assert result["birth_date"] == "1974-08-12"


def test_check_lists_problems_and_fails(capsys):
    code, out = run(["mrz", "check", TD3.replace("C36", "C35")], capsys)
    assert code == 1
    assert "document_number: check digit is 5, computed 6" in out.out


def test_generate_the_specimen(capsys):
    code, out = run(["mrz", "generate", "--state", "UTO", "--surname", "Eriksson", "--given-names",
                     "Anna Maria", "--number", "L898902C3", "--birth", "1974-08-12", "--sex", "F",
                     "--expiry", "2012-04-15", "--optional", "ZE184226B"], capsys)
    assert code == 0 and out.out.strip() == TD3


def test_generate_refuses_bad_input(capsys):
    code, out = run(["mrz", "generate", "--state", "ZZZ", "--surname", "X", "--number", "1"], capsys)
    assert code == 2 and "issuing_state" in out.err


def test_transliterate_prints_input_and_mrz_form(capsys):
    code, out = run(["mrz", "transliterate", "Ευάγγελος Παπαδόπουλος", "--json"], capsys)
    assert code == 0
    assert json.loads(out.out) == {"input": "Ευάγγελος Παπαδόπουλος", "mrz": "EVANGELOS<PAPADOPOULOS"}


def test_transliterate_refuses_what_no_table_covers(capsys):
    code, out = run(["mrz", "transliterate", "Анна 2", "--json"], capsys)
    assert code == 1 and "cannot transliterate '2'" in json.loads(out.out)["error"]
