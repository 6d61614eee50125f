"""Face images sealed at rest in central's database: unreadable in the file, served opened, resealed
after a key rotation, and refused without their key."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import create_engine, select

from central.database import models as m
from central.database.engine import Database
from central.records import evidence
from common.sealing import Sealer, SealError, add_key, is_sealed
from limes.cli import main


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 50), (90, 120, 150)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def sealed(tmp_path, database_url):
    key = tmp_path / "keys" / "at-rest.key"
    add_key(key)
    url = database_url  # SQLite, or PostgreSQL in CI's second pass
    database = Database(url, sealer=Sealer.from_file(key))
    database.migrate()
    yield database, key, url
    database.dispose()


def stored_column(url) -> list[bytes]:
    """The jpeg column as the database holds it, read around the model (no sealer in between)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [bytes(row[0]) for row in connection.exec_driver_sql("SELECT jpeg FROM face_images ORDER BY id")]
    finally:
        engine.dispose()


def test_images_are_sealed_in_the_file_and_open_for_central(sealed):
    database, _, path = sealed
    photo = jpeg()
    token = database.run(lambda s: evidence.store_image(s, m.FaceImageKind.ENROLMENT, photo).token)
    [column] = stored_column(path)
    assert is_sealed(column) and photo not in column
    opened = database.run(lambda s: evidence.image_jpeg(s, evidence.image_by_token(s, token)))
    assert opened == photo


def test_without_the_key_a_sealed_image_is_refused_not_served(sealed, tmp_path):
    database, _, _ = sealed
    token = database.run(lambda s: evidence.store_image(s, m.FaceImageKind.ENROLMENT, jpeg()).token)
    keyless = Database(database.url)
    try:
        with pytest.raises(SealError, match="without its key file"):
            keyless.run(lambda s: evidence.image_jpeg(s, evidence.image_by_token(s, token)))
    finally:
        keyless.dispose()


def test_images_kept_in_clear_before_the_key_still_open_and_get_sealed_by_reseal(sealed):
    database, key, path = sealed
    photo = jpeg()
    clear = Database(database.url)
    try:
        clear.run(lambda s: evidence.store_image(s, m.FaceImageKind.ENROLMENT, photo))
    finally:
        clear.dispose()
    assert stored_column(path) == [photo]
    assert database.run(lambda s: evidence.image_jpeg(s, s.scalars(select(m.FaceImage)).one())) == photo
    assert database.run(lambda s: evidence.reseal_images(s)) == 1
    assert database.run(lambda s: evidence.reseal_images(s)) == 0
    assert is_sealed(stored_column(path)[0])


def test_rotate_key_and_reseal_move_every_image_to_the_new_key(sealed, capsys):
    database, key, path = sealed
    photos = [jpeg() for _ in range(3)]
    for photo in photos:
        database.run(lambda s, p=photo: evidence.store_image(s, m.FaceImageKind.ENROLMENT, p))
    old_key = Sealer.from_file(key).current
    assert main(["central", "rotate-key", "--key-file", str(key), "--json"]) == 0
    assert main(["central", "reseal", "--database", database.url, "--key-file", str(key), "--batch", "2",
                 "--json"]) == 0
    assert '"resealed": 3' in capsys.readouterr().out
    rotated = Sealer.from_file(key)
    assert rotated.current != old_key
    assert all(rotated.is_current(blob) for blob in stored_column(path))
    with pytest.raises(SealError, match="does not open"):
        # Each blob is bound to its own row: one row's seal does not open as another's.
        blobs = stored_column(path)
        tokens = database.run(lambda s: [i.token for i in s.scalars(select(m.FaceImage).order_by(m.FaceImage.id))])
        rotated.open(blobs[0], f"face_images:{tokens[1]}")



def test_central_reseals_in_the_background_after_a_rotation(sealed):
    from central.rpc.server import reseal_in_background

    database, key, path = sealed
    for _ in range(5):
        database.run(lambda s: evidence.store_image(s, m.FaceImageKind.ENROLMENT, jpeg()))
    add_key(key)
    rotated = Database(database.url, sealer=Sealer.from_file(key))
    try:
        assert reseal_in_background(rotated, batch=2, pause_s=0) == 5
        assert all(rotated.sealer.is_current(blob) for blob in stored_column(path))
        assert reseal_in_background(rotated, batch=2, pause_s=0) == 0
    finally:
        rotated.dispose()
