"""ICAO Doc 9303 machine readable zones: parse, validate and generate TD1, TD2, TD3,
MRV-A and MRV-B, with every check digit, and transliterate names to the MRZ alphabet."""
from drivers.mrz.checkdigit import check_digit
from drivers.mrz.generate import generate_mrva, generate_mrvb, generate_td1, generate_td2, generate_td3
from drivers.mrz.model import Mrz, MrzError, Problem
from drivers.mrz.names import transliterate
from drivers.mrz.parse import parse

__all__ = [
    "Mrz", "MrzError", "Problem", "check_digit", "generate_mrva", "generate_mrvb",
    "generate_td1", "generate_td2", "generate_td3", "parse", "transliterate",
]
