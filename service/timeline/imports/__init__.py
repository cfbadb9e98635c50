"""Timeline import: events read from another tool's own export (PagerDuty, Slack, GitHub, CSV).

One module per source turns its format into `ImportedEvent`s, naming every entry and field at
fault; `service` drops what the timeline already has and writes the rest in one flush.
"""
