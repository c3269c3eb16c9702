"""``python -m overt``."""

from overt.cli.app import run

run()
