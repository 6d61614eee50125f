"""`limes` subcommands for the device drivers: MRZ and the serial document reader."""
from __future__ import annotations

from drivers import chip_commands
from drivers.devices.docreader import commands as docreader_commands
from drivers.mrz import commands as mrz_commands


def register(sub) -> None:
    mrz_commands.register(sub)
    docreader_commands.register(sub)
    chip_commands.register(sub)
