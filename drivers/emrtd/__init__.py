"""The eMRTD protocol stack (ICAO Doc 9303, BSI TR-03110): TLV, ISO 7816, BAC, PACE, chip and active
authentication, the LDS, passive authentication, the chip reader and its checks."""
