"""ISO/IEC 7816-4 command/response APDUs, transports and secure messaging."""
