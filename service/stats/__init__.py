"""`GET /v1/stats`. Importing the package declares the indexes the statistics read on their tables."""

from service.stats import indexes as indexes
