"""Watch lists. For now a simple in-memory enrolment from a folder of subject folders."""

from __future__ import annotations

from overt.watchlist.enrol import EnrolledImage, EnrolmentReport, RejectedImage, Watchlist, enrol_folder

__all__ = ["EnrolledImage", "EnrolmentReport", "RejectedImage", "Watchlist", "enrol_folder"]
