"""Delivery: read an export, map it to the standard and validate it, row by row."""
