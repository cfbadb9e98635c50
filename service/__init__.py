"""Incident postmortems, their timelines and action items, over HTTP."""

__version__ = "0.1.0"
