"""The virtual ePassport chip and its link to pcscd through vsmartcard's vpcd."""
from hardware_sim.chip.card import EMRTD_AID, CardRemoved, ChipFaults, VirtualChip

__all__ = ["CardRemoved", "ChipFaults", "EMRTD_AID", "VirtualChip"]
