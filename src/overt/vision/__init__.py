"""Detect, align, embed and measure faces. Models load lazily, never at import time."""
