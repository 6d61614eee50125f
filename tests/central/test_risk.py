"""Risk rules: the rule file is validated; each indicator fires when it should, with the rules' version."""
from __future__ import annotations

from pathlib import Path

import pytest

from central.risk.rules import DEFAULT_RULES, RiskConfigError, RiskRules
from proto.limes.v1 import central_pb2 as pb

from .conftest import crossing_request


def test_the_shipped_rules_load():
    rules = RiskRules.load()
    assert rules.version and {r.kind for r in rules.rules} == {"document_expiring", "previous_refusals",
                                                                "crossing_frequency", "previous_overstay"}
    assert DEFAULT_RULES.name == "risk_rules.toml"


def test_a_plain_crossing_scores_zero_with_the_version(stub):
    response = stub.RecordCrossing(crossing_request())
    assert (response.risk_score, list(response.risk_rules_fired)) == (0.0, [])
    assert response.risk_rules_version == RiskRules.load().version


def test_document_expiring_soon(stub):
    response = stub.RecordCrossing(crossing_request(
        document=pb.TravelDocument(number="P1", type="P", issuing_state="DEU", expiry_date="2026-12-10")))
    assert list(response.risk_rules_fired) == ["document_expires_soon"]
    assert response.risk_score == pytest.approx(0.2)


def test_frequent_crossings_fire_from_the_seventh(stub):
    fired = []
    for hour in range(7):
        response = stub.RecordCrossing(crossing_request(occurred_at=f"2026-11-20T{10 + hour:02d}:00:00Z"))
        fired.append("frequent_crossings" in response.risk_rules_fired)
    assert fired == [False] * 6 + [True]


@pytest.mark.parametrize("text, message", [
    ('rule = []', "version"),
    ('version = "1"\n[[rule]]\nkind = "document_expiring"\nwithin_days = 3\nweight = 0.1', "name"),
    ('version = "1"\n[[rule]]\nname = "x"\nkind = "astrology"\nweight = 0.1', "kind"),
    ('version = "1"\n[[rule]]\nname = "x"\nkind = "document_expiring"\nweight = 0.1', "within_days"),
    ('version = "1"\n[[rule]]\nname = "x"\nkind = "document_expiring"\nwithin_days = 3\nweight = 2', "weight"),
    ('version = "1"\n' + '[[rule]]\nname = "x"\nkind = "document_expiring"\nwithin_days = 3\nweight = 0.1\n' * 2,
     "unique"),
    ('version = ', "rules.toml: Invalid value"),  # TOML syntax: the file and tomllib's reason
])
def test_malformed_rule_files_are_refused_naming_the_field(tmp_path: Path, text, message):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RiskConfigError, match=message):
        RiskRules.load(path)
