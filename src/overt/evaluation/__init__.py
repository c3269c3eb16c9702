"""Accuracy evaluation by standard protocols (verification pairs; later 1:N identification)."""
