"""Benchmarks (filled in by bench/*.py); see BENCHMARKS.md."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("no benchmarks yet")


if __name__ == "__main__":
    main()
