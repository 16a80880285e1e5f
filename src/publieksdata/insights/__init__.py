"""Metric definitions over the warehouse, written once as portable Ibis expressions."""
