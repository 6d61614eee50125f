"""How a border post puts its own answer and headquarters' together (central.rpc.headquarters.national_answer):
no limit when the post's own permits or the traveller's nationality say so, the national answer under the
short-stay rule, and with a visa the stricter of the two."""
from __future__ import annotations

from central.rpc.headquarters import national_answer, rule_alone
from central.stays.regime import Regime, StayRules
from proto.limes.v1 import central_pb2 as pb

R = pb.CheckStayResponse
ON = "2026-12-06"


def answer(regime, latest="", used=0, refused="") -> pb.CheckStayResponse:
    return R(regime=regime, latest_exit=latest, days_used=used, refused=refused, on=ON)


def test_a_visa_exempt_traveller_gets_the_national_answer():
    own = answer(R.VISA_EXEMPT, used=101, refused="F: has already stayed 90 days (101 days used)")
    national = answer(R.VISA_EXEMPT, "2027-01-03", 62)
    assert national_answer(own, national) == R(regime=R.VISA_EXEMPT, latest_exit="2027-01-03", days_used=62, on=ON,
                                               scope="national")


def test_a_permit_the_post_holds_or_free_movement_means_no_limit():
    national = answer(R.VISA_EXEMPT, used=95, refused="F: has already stayed 90 days")
    for regime in (R.EXEMPT, R.FREE_MOVEMENT):
        merged = national_answer(answer(regime), national)
        assert (merged.regime, merged.refused, merged.latest_exit, merged.scope) == (regime, "", "", "national")


def test_with_a_visa_the_stricter_of_the_posts_and_the_national_answer():
    own = answer(R.VISA_REQUIRED, "2027-02-01", 10)          # the visa ends on 1 February
    national = answer(R.VISA_EXEMPT, "2027-01-03", 62)       # the rule, on every post's crossings
    merged = national_answer(own, national)
    assert (merged.regime, merged.latest_exit, merged.days_used, merged.refused) == (R.VISA_REQUIRED, "2027-01-03",
                                                                                   62, "")
    assert national_answer(answer(R.VISA_REQUIRED, "2026-12-20", 10), national).latest_exit == "2026-12-20"
    no_visa = answer(R.VISA_REQUIRED, used=10, refused="C: no valid visa on record for this day")
    assert national_answer(no_visa, national).refused.startswith("C:")
    over = answer(R.VISA_EXEMPT, used=91, refused="F: has already stayed 90 days")
    merged = national_answer(own, over)
    assert merged.refused.startswith("F:") and merged.latest_exit == ""


def test_headquarters_judges_a_posts_question_without_visas():
    rules = StayRules(visa_required=frozenset({"UTO"}))
    assert rules.regime("UTO") is Regime.VISA_REQUIRED
    assert rule_alone(rules).regime("UTO") is Regime.VISA_EXEMPT
    assert rule_alone(rules).regime("FRA") is Regime.FREE_MOVEMENT
    assert rule_alone(rules).regime("UTO", "IR") is Regime.EXEMPT
