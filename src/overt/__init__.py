"""Overt: live facial recognition whose safeguards are the product."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
