"""publieksdata: privacy-by-design audience data for the Dutch cultural sector."""

__version__ = "0.1.0"
