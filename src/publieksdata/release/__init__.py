"""Disclosure control: the only door out of the warehouse."""
