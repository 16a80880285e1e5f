"""Pseudonymisation: normalise identifiers, keyed pseudonyms, keys and person linkage."""
