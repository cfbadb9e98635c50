"""Where the trackers' published contracts live: a copy of the shared contracts in this folder.

`tests/trackers/test_contracts_copy.py` fails when the copy drifts from `../shared/contracts`.
"""

from pathlib import Path

CONTRACTS = Path(__file__).resolve().parent
GITHUB = CONTRACTS / "github"
JIRA = CONTRACTS / "jira"
LINEAR = CONTRACTS / "linear"
