"""Fingerprints: images, WSQ, minutiae, quality, ISO/IEC 19794-2 and ANSI/NIST-ITL records, 1:1 comparison.

Pure code (numpy and OpenCV on arrays in memory); the scanner driver lives in drivers/devices/fingerprint.
docs/FINGERPRINTS.md says how faithful each part is to NIST's tools.
"""
