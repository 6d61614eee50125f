"""Passive authentication of eMRTD chip data against trusted CSCAs."""
from drivers.emrtd.passiveauth.store import CscaStore, MasterListLoad, StoreError
from drivers.emrtd.passiveauth.verify import PassiveAuthResult, verify, verify_signed_file

__all__ = ["CscaStore", "MasterListLoad", "PassiveAuthResult", "StoreError", "verify", "verify_signed_file"]
