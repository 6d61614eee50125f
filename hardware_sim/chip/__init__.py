"""The virtual ePassport chip and its link to pcscd through vsmartcard's vpcd."""
from hardware_sim.chip.card import CardRemoved, ChipFaults, EMRTD_AID, VirtualChip

__all__ = ["CardRemoved", "ChipFaults", "EMRTD_AID", "VirtualChip"]
