"""A short-stay visa read from its MRZ (MRV-A or MRV-B, ICAO Doc 9303 Part 7), to store with its holder.

What the MRZ carries: the visa number (its document number), the issuing state, the holder's names,
nationality, birth date and sex, and the visa's last day of validity (its expiry date). What it does not:
the first day of validity, the number of entries and the duration of stay are printed on the sticker
only; whoever records the visa supplies them (`limes central add-stay --visa-mrz ... --from --entries
--duration-days`), as they do for any permitted stay. Storing goes through
central.records.overstay.add_permitted_stay with the kind SHORT_STAY_VISA and the holder's traveller.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from central.errors import InvalidArgument
from drivers.alertmatch.normalize import document_number, name_key, state_code
from drivers.mrz import MrzError
from drivers.mrz import parse as parse_mrz


@dataclass(frozen=True)
class VisaMrz:
    number: str
    issuing_state: str
    surname: str
    given_names: str
    nationality: str
    birth_date: dt.date | None
    sex: str
    valid_until: dt.date

    @property
    def name_key(self) -> str:
        return name_key(self.surname, self.given_names)


def read_visa_mrz(text: str) -> VisaMrz:
    """The visa's fields from its MRZ text; InvalidArgument naming what is wrong (never another exception)."""
    try:
        mrz = parse_mrz(text)
    except MrzError as exc:
        raise InvalidArgument("visa_mrz", "; ".join(f"{p.field}: {p.reason}" for p in exc.problems)) from None
    if mrz.format not in ("MRVA", "MRVB"):
        raise InvalidArgument("visa_mrz", f"a visa MRZ (MRV-A or MRV-B) is required, not {mrz.format}")
    if mrz.expiry_date is None:
        raise InvalidArgument("visa_mrz", "the visa MRZ has no end of validity")
    number, state = document_number(mrz.document_number), state_code(mrz.issuing_state)
    if not number or not state:
        raise InvalidArgument("visa_mrz", "the visa MRZ has no visa number or issuing state")
    return VisaMrz(number, state, mrz.surname, mrz.given_names, state_code(mrz.nationality), mrz.birth_date,
                   mrz.sex, mrz.expiry_date)
