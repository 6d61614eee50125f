"""The simulated devices of one e-gate, and a traveller stepping up to it.

What the gate sees comes only through device interfaces: MRZ frames on a
pseudo-terminal, a chip behind pcscd's vpcd reader, an MJPEG camera stream,
a fingerprint module on another pseudo-terminal, the trusted CSCA
certificates as files in a folder (as a border post receives its master
list), and the gate's EAC credentials (an inspection system's CV certificates
and key under the test CVCA the simulated chips trust) in another.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
from cryptography.hazmat.primitives.serialization import Encoding

from hardware_sim.camera import CameraSimulator, Scene, scene_named
from hardware_sim.chip import VirtualChip
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES
from hardware_sim.chip.vpcd import VpcdCard
from hardware_sim.docreader import ReaderEmulator
from hardware_sim.eac_pki import TestEacPki, make_test_eac_pki
from hardware_sim.fingerprint_scanner import ScannerEmulator, finger_image
from hardware_sim.pcscd import Pcscd
from hardware_sim.pki import TestPki, make_test_pki
from hardware_sim.travellers import SimulatedTraveller

# The vpcd driver's second slot (port + 1): the reader of a second station's chips under the one pcscd.
SECOND_SLOT_READER = "Virtual PCD 00 01"
# Time for the camera to show the new traveller before the document lands,
# as a traveller steps into the gate before putting the passport down.
SETTLE_S = 0.4
# The kind of test PKI each simulated state signs with (hardware_sim.pki.KeyKind; others ecdsa-p256).
# Several states' CSCAs and Document Signers spell their EC curve out instead of naming it; AUT
# stands for them here, so that the scenario library proves the gate reads such certificates.
STATE_PKI_KEYS = {"AUT": "ecdsa-brainpool-explicit"}
# DG3 holds the right then the left index finger (ISO/IEC 19794 positions 2 and 7).
CHIP_FINGER_POSITIONS = (2, 7)


class SimulatedGateDevices:
    def __init__(self, faces: Path, state_dir: Path, *, settle_s: float = SETTLE_S,
                 beside: "SimulatedGateDevices | None" = None):
        self.faces = faces
        self.settle_s = settle_s  # 0 for benchmarks: the traveller is already in view
        self.csca_dir = state_dir / "csca"
        self.csca_dir.mkdir(parents=True, exist_ok=True)
        # One machine runs one pcscd (hardware_sim.pcscd): a second station's devices (the officer desk's
        # `beside` the gate's) use its vpcd driver's second slot, reader "Virtual PCD 00 01" on port + 1.
        self._beside = beside
        self.pcscd = beside.pcscd if beside is not None else Pcscd()
        self.reader = ReaderEmulator()
        self.camera = CameraSimulator()
        self.scanner = ScannerEmulator()
        # One EAC PKI for the simulated states' passports with fingers; the gate holds its terminal.
        self.eac_dir = state_dir / "eac"
        self.eac: TestEacPki = make_test_eac_pki()
        self.eac.terminal.credentials().save(self.eac_dir)
        self._pkis: dict[str, TestPki] = {}
        # Issuers whose CSCA never reaches the gate's trust folder (documents the gate must not trust).
        self._untrusted_pkis: dict[str, TestPki] = {}
        self._card: VpcdCard | None = None
        self._scene_change: threading.Timer | None = None

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> "SimulatedGateDevices":
        if self._beside is None:
            self.pcscd.start()
        self.reader.start()
        self.scanner.start()
        self.camera.start()
        self.camera.show(Scene.empty())
        return self

    def stop(self) -> None:
        self.take_back()
        self.camera.stop()
        self.scanner.stop()
        self.reader.stop()
        if self._beside is None:
            self.pcscd.stop()

    def __enter__(self) -> "SimulatedGateDevices":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what the gate is told -------------------------------------------------
    @property
    def reader_port(self) -> str:
        return self.reader.port

    @property
    def camera_url(self) -> str:
        return self.camera.url

    @property
    def chip_reader(self) -> str:
        return SECOND_SLOT_READER if self._beside is not None else self.pcscd.reader

    @property
    def _vpcd_port(self) -> int:
        return self.pcscd.port + (1 if self._beside is not None else 0)

    @property
    def scanner_port(self) -> str:
        return self.scanner.port

    # -- a traveller -------------------------------------------------------------
    def issuing_pki(self, state: str) -> TestPki:
        """Each issuing state signs its own passports; its CSCA and CRL go into
        the gate's trust folder, as a border post receives them."""
        if state not in self._pkis:
            pki = _state_pki(state)
            (self.csca_dir / f"{state}.pem").write_bytes(pki.csca.certificate.public_bytes(Encoding.PEM))
            (self.csca_dir / f"{state}.crl").write_bytes(pki.crl.public_bytes(Encoding.DER))
            self._pkis[state] = pki
        return self._pkis[state]

    def untrusted_pki(self, state: str) -> TestPki:
        """A PKI of the same state whose CSCA the border post never received."""
        if state not in self._untrusted_pkis:
            self._untrusted_pkis[state] = _state_pki(state)
        return self._untrusted_pkis[state]

    def step_up(self, traveller: SimulatedTraveller, *, page_image: bool = False, reader_reads_mrz: bool = True,
                has_chip: bool = True) -> None:
        """The traveller walks into the gate and lays the passport on the reader.

        For a desk reader: `page_image` sends the data page photographed (hardware_sim.datapage, with
        realistic damage), `reader_reads_mrz` False a reader whose own OCR could not read the MRZ (the
        host reads it from the image), `has_chip` False a document without a chip."""
        self.camera.show(self._scene(traveller))
        photo = (self.faces / traveller.document_photo).read_bytes()
        if has_chip:
            pki = (self.untrusted_pki if traveller.untrusted_issuer else self.issuing_pki)(traveller.nationality)
            fingers = [(position, finger_image(seed, 1)) for position, seed in
                       zip(CHIP_FINGER_POSITIONS, traveller.chip_fingers)]
            chip = personalise_chip(traveller.chip_mrz(), chip_photo(photo), pki,
                                    faults=traveller.personalise_faults, profile=PROFILES[traveller.chip_profile],
                                    fingers=fingers, cvca=self.eac.cvca if fingers else None)
            self._card = VpcdCard(VirtualChip.personalised(chip, _chip_key(traveller),
                                                           faults=traveller.chip_faults), self._vpcd_port)
            self._card.insert()
        if self.settle_s:
            time.sleep(self.settle_s)
        if traveller.live_finger is not None:
            self.scanner.place(finger_image(*traveller.live_finger))
        images = [_page_image(traveller, photo)] if page_image else []
        self.reader.present(traveller.mrz() if reader_reads_mrz else "", images=images)
        if traveller.recovers_after_s is not None and traveller.live_face:
            # The traveller steps out of the shadow while the gate is already capturing.
            self._scene_change = threading.Timer(traveller.recovers_after_s, self.camera.show,
                                                 (Scene.approach(self.faces / traveller.live_face),))
            self._scene_change.start()

    def _scene(self, traveller: SimulatedTraveller) -> Scene:
        if not traveller.live_face:
            return Scene.empty()
        photos = [str(self.faces / traveller.live_face)]
        if traveller.companion_face:
            photos.append(str(self.faces / traveller.companion_face))
        return scene_named(traveller.scene, photos)

    def take_back(self) -> None:
        """The traveller takes the passport and leaves."""
        if self._scene_change is not None:
            self._scene_change.cancel()
            self._scene_change.join()  # a change under way finishes before the camera goes empty
            self._scene_change = None
        if self._card is not None:
            self._card.remove()
            self._card = None
        self.scanner.lift()
        self.reader.remove()
        self.camera.show(Scene.empty())


def _chip_key(traveller: SimulatedTraveller) -> str:
    # The chip's BAC key comes from its true MRZ, also when the printed one is damaged.
    from drivers.mrz import parse

    return parse(traveller.chip_mrz()).bac_key_seed_input


def chip_photo(photo: bytes, height: int = 480) -> bytes:
    """The photo as a chip holds it: a JPEG of passport-photo size (about 20-40 KB)."""
    image = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("photo does not decode")
    if image.shape[0] > height:
        width = round(image.shape[1] * height / image.shape[0])
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("photo does not encode as JPEG")
    return encoded.tobytes()


def _page_image(traveller: SimulatedTraveller, photo: bytes):
    """The traveller's data page as the reader photographs it: drawn, then damaged (a seed per document)."""
    import cv2
    import numpy as np

    from drivers.devices.docreader.images import ImageFormat, Light, PageImage
    from hardware_sim.datapage import Damage, PrintedPage, damage_page, encode_jpeg, render_page

    page = PrintedPage(surname=traveller.surname, given_names=traveller.given_names,
                       nationality=traveller.nationality, sex=traveller.sex, birth_date=traveller.birth_date,
                       document_number=traveller.document_number, expiry_date=traveller.expiry_date,
                       issue_date=traveller.expiry_date.replace(year=traveller.expiry_date.year - 10),
                       issuing_state=traveller.nationality, mrz=traveller.mrz())
    portrait = cv2.cvtColor(cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    seed = sum(traveller.document_number.encode())
    damage = Damage.realistic(np.random.default_rng(seed))
    return PageImage(Light.VISIBLE, ImageFormat.JPEG,
                     encode_jpeg(damage_page(render_page(page, portrait), damage, seed), damage.jpeg_quality))


def _state_pki(state: str) -> TestPki:
    """A new test PKI of the kind the state signs with."""
    return make_test_pki(state, key=STATE_PKI_KEYS.get(state, "ecdsa-p256"))
