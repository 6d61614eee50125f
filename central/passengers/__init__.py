"""Advance passenger data: manifests screened before the flight lands."""
