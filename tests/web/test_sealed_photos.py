"""The web desk over a database whose face images are sealed at rest."""
from __future__ import annotations

from sqlalchemy import select

from central.database import models as m
from central.database.engine import Database
from central.records import evidence
from central.web import WebSettings, create_app
from common.sealing import Sealer, add_key
from tests.web.conftest import USERS, sign_in


def test_the_web_desk_serves_a_sealed_photo_opened_and_refuses_it_without_the_key(desk, tmp_path):
    add_key(tmp_path / "desk.key")
    sealer = Sealer.from_file(tmp_path / "desk.key")
    sealed_db = Database(desk.database.url, sealer=sealer)
    try:
        clear = desk.database.run(lambda s: {i.token: i.jpeg for i in s.scalars(select(m.FaceImage))})
        while sealed_db.run(lambda s: evidence.reseal_images(s)):
            pass
        token, photo = next(iter(clear.items()))
        keyless = desk.app.test_client()
        sign_in(keyless, USERS["officer"])
        refused = keyless.get(f"/photos/{token}")
        assert refused.status_code == 503 and photo not in refused.data
        app = create_app(sealed_db, settings=WebSettings(secret_key="test-secret"), clock=desk.clock)
        keyed = app.test_client()
        sign_in(keyed, USERS["officer"])
        shown = keyed.get(f"/photos/{token}")
        assert shown.status_code == 200 and shown.data == photo
        outcomes = sealed_db.run(lambda s: [e.outcome for e in s.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == "ViewPhoto").order_by(m.AuditEntry.id))])
        assert outcomes[-2:] == ["NOT SHOWN: sealed, key missing", "shown"]
    finally:
        sealed_db.dispose()
