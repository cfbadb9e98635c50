"""Whether a command line is one the `postmortems` console script accepts, checked by its own parser."""

from collections.abc import Sequence

from service.cli import _parser


def accepted(argv: Sequence[str]) -> bool:
    """A known command with known options and valid values: argparse would not refuse it."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit:
        return False
    return getattr(arguments, "handler", None) is not None
