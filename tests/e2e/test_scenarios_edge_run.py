"""`limes edge run`: the configuration it reads, and the command as its own process
serving one traveller on a border post's simulated devices."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edge.config import ConfigError, load_config
from hardware_sim.scenarios import select
from proto.clients import CentralClient, central_pb2
from proto.tls import TlsFiles

CONFIG = """
[station]
border_point = "{border_point}"
direction = "EXIT"

[devices]
reader = "{reader}"
camera = "{camera}"
chip_reader = "{chip_reader}"
csca = ["{csca}"]

[services]
central = "{central}"
matcher = "{matcher}"

[tls]
ca = "{ca}"
certificate = "{certificate}"
key = "{key}"
"""
PKI = dict(ca="pki/ca.pem", certificate="pki/station-GATE-7.pem", key="pki/station-GATE-7.key")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(text)
    return path


def test_config_maps_onto_gate_config_with_paths_from_its_folder(tmp_path):
    path = write(tmp_path, CONFIG.format(border_point="PORT-1", reader="/dev/ttyUSB0", camera="0",
                                         chip_reader="ACS 00 00", csca="csca", central="c:1", matcher="m:2", **PKI)
                 + "[gate]\ncapture_budget_s = 3\nstate_dir = \"state\"\n[policy]\noptional = [\"watchlist.face\"]\n"
                 + "offline_max_age_s = 3600\n"
                 + "[budgets]\nchip = 2.5\nperson_alerts = 1\n")
    config = load_config(path, "GATE-7")
    assert (config.station.station_id, config.station.border_point, config.station.direction) == \
        ("GATE-7", "PORT-1", "EXIT")
    assert config.csca_paths == (tmp_path / "csca",) and config.state_dir == tmp_path / "state"
    assert (config.reader_url, config.camera_source, config.chip_reader) == ("/dev/ttyUSB0", "0", "ACS 00 00")
    assert (config.central_address, config.matcher_address, config.capture_budget_s) == ("c:1", "m:2", 3.0)
    assert config.policy.optional == frozenset({"watchlist.face"}) and config.policy.offline_max_age_s == 3600.0
    assert config.budgets == {"chip": 2.5, "person_alerts": 1.0}
    assert config.tls == TlsFiles(tmp_path / "pki/ca.pem", tmp_path / "pki/station-GATE-7.pem",
                                  tmp_path / "pki/station-GATE-7.key")
    assert not config.plaintext


MINIMAL = "[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n"


def test_stale_crls_refer_unless_the_config_says_warn(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "plaintext = true\n"), "GATE-7")
    assert config.crl_policy == "refer"
    warned = load_config(write(tmp_path, MINIMAL + "plaintext = true\n[policy]\nstale_crl = 'warn'\n"), "GATE-7")
    assert warned.crl_policy == "warn"


def test_the_risk_score_that_refers_is_configured(tmp_path):
    assert load_config(write(tmp_path, MINIMAL + "plaintext = true\n"), "GATE-7").policy.risk_refer_at == 0.5
    strict = load_config(write(tmp_path, MINIMAL + "plaintext = true\n[policy]\nrisk_refer_at = 0.3\n"), "GATE-7")
    assert strict.policy.risk_refer_at == 0.3


def test_plaintext_only_when_the_config_says_so(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "plaintext = true\n"), "GATE-7")
    assert (config.tls, config.plaintext) == (None, True)
    with pytest.raises(ConfigError) as missing:
        load_config(write(tmp_path, MINIMAL), "GATE-7")
    assert missing.value.field == "tls" and "plaintext = true" in missing.value.reason
    with pytest.raises(ConfigError) as both:
        load_config(write(tmp_path, MINIMAL + "plaintext = true\n[tls]\nca='a'\ncertificate='b'\nkey='c'\n"),
                    "GATE-7")
    assert both.value.field == "services.plaintext"
    with pytest.raises(ConfigError) as partial:
        load_config(write(tmp_path, MINIMAL + "[tls]\nca='a'\ncertificate='b'\n"), "GATE-7")
    assert partial.value.field == "tls.key"


def test_a_gate_refuses_to_start_with_another_stations_certificate(tmp_path, dev_pki):
    from edge.gate import GateStation
    from edge.runtime import GateConfig, start_gate
    from proto.tls import TlsError

    config = GateConfig(station=GateStation("GATE-7"), reader_url="loop://", camera_source="0", chip_reader="none",
                        csca_paths=(), central_address="127.0.0.1:1", matcher_address="127.0.0.1:1",
                        tls=dev_pki.station("GATE-8"))
    with pytest.raises(TlsError, match="names station 'GATE-8', not station 'GATE-7'"):
        start_gate(config)


@pytest.mark.parametrize("text, field", [
    ("[devices]\nreader = 'x'\n", "devices.camera"),
    ("[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\ncolour='red'\n", "devices.colour"),
    ("[printer]\n", "printer"),
    ("[devices]\nreader=1\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n",
     "devices.reader"),
    ("[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n"
     "[gate]\ncapture_budget_s = -1\n", "gate.capture_budget_s"),
    ("[station]\ndirection='SIDEWAYS'\n[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n"
     "[services]\ncentral='c'\nmatcher='m'\n", "station.direction"),
    ("[devices\n", "gate.toml"),
    ("[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n"
     "[policy]\noptional = [1]\n", "policy.optional"),
    ("[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n"
     "[budgets]\nchipp = 1\n", "budgets.chipp"),
    ("[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n"
     "[budgets]\nchip = 0\n", "budgets.chip"),
    ("[devices]\nreader='r'\ncamera='c'\nchip_reader='p'\ncsca='a'\n[services]\ncentral='c'\nmatcher='m'\n"
     "[policy]\noffline_max_age_s = 0\n", "policy.offline_max_age_s"),
    (MINIMAL + "[policy]\nstale_crl = 'ignore'\n", "policy.stale_crl"),
    (MINIMAL + "[policy]\nrisk_refer_at = 0\n", "policy.risk_refer_at"),
    (MINIMAL + "[policy]\nrisk_refer_at = 'high'\n", "policy.risk_refer_at"),
])
def test_bad_config_names_the_field(tmp_path, text, field):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text), "GATE-7")
    assert error.value.field.endswith(field)


@pytest.mark.slow
def test_edge_run_serves_one_traveller_as_its_own_process(faces_dir, tmp_path):
    from hardware_sim.devices import SimulatedGateDevices
    from hardware_sim.pcscd import PcscdUnavailable
    from limes.borderpost import seed_alerts
    from limes.stack import local_services

    [scenario] = select(["genuine"])
    traveller = scenario.traveller
    try:
        devices = SimulatedGateDevices(faces_dir, tmp_path).start()
    except PcscdUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"pcscd with vpcd is required under CI: {error}")
        pytest.skip(f"pcscd with vpcd not available: {error}")
    try:
        with local_services(tmp_path) as services:
            seed_alerts(services, [traveller], faces_dir)
            _register_station(services, "TEST-EGATE-07")
            devices.issuing_pki(traveller.nationality)
            station_tls = services.station_tls("TEST-EGATE-07")  # as `limes pki dev-certs --station` makes it
            config = write(tmp_path, CONFIG.format(
                border_point="TEST-PORT", reader=devices.reader_port, camera=devices.camera_url,
                chip_reader=devices.chip_reader, csca=devices.csca_dir, central=services.central_address,
                matcher=services.matcher_address, ca=station_tls.ca, certificate=station_tls.certificate,
                key=station_tls.key))
            gate = subprocess.Popen(
                [sys.executable, "-m", "limes", "edge", "run", "--station", "TEST-EGATE-07", "--config", str(config),
                 "--json", "--max-travellers", "1"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                banner = gate.stderr.readline()  # the gate has opened its devices
                assert "waiting for documents" in banner, banner + gate.stderr.read()
                devices.step_up(traveller)
                lines = _lines(gate.stdout)
                line = lines.get(timeout=60)
                devices.take_back()
                assert gate.wait(timeout=30) == 0, gate.stderr.read()
            finally:
                if gate.poll() is None:
                    gate.kill()
                    gate.wait()
            outcome = json.loads(line)
            assert outcome["station"] == "TEST-EGATE-07"
            assert outcome["decision"] == "open", outcome["reasons"]
            assert outcome["traveller"]["document_number"] == traveller.document_number
            assert outcome["recorded"]
            client = CentralClient(services.central_address, tls=services.user_tls("test"))
            try:
                history = client.call("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
                    document=central_pb2.TravelDocument(number=traveller.document_number,
                                                        issuing_state=traveller.nationality)))
            finally:
                client.close()
            [crossing] = history.crossings
            assert (crossing.crossing_id, crossing.station_id, crossing.border_point) == \
                (outcome["crossing_id"], "TEST-EGATE-07", "TEST-PORT")
            assert crossing.direction == central_pb2.Crossing.EXIT
    finally:
        devices.stop()


def _register_station(services, station: str) -> None:
    """As an administrator registers a new gate at central before it goes into service."""
    admin = CentralClient(services.central_address, tls=services.user_tls("demo-admin"))
    try:
        admin.call("GrantRole", central_pb2.RoleRequest(
            principal=central_pb2.Principal(kind="station", name=station, role="gate")))
    finally:
        admin.close()


def _lines(stream) -> "queue.Queue[str]":
    """stdout lines as they come, so that a hung gate fails the test at a timeout instead of blocking it."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines
