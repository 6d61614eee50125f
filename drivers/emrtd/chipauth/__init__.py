"""Telling a genuine chip from a copy (Doc 9303 Part 11 section 6): Chip
Authentication (`ca`: ephemeral-static Diffie-Hellman with the key of DG14,
then secure messaging under the new keys) and Active Authentication (`aa`:
the chip signs a challenge with the key of DG15; RSA signatures use ISO/IEC
9796-2 message recovery, `iso9796`)."""
