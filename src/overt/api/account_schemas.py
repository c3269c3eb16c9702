"""Bodies of the account routes (password change, admin reset, role change)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from overt.api.schemas import In


class PasswordChangeIn(In):
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class PasswordResetIn(In):
    temporary_password: str = Field(
        min_length=12, max_length=1024, description="The user must replace it at their next login."
    )


class RoleIn(In):
    role: Literal["admin", "authorising_officer", "watchlist_manager", "operator", "auditor"]
