"""Local user accounts (argon2id password hashes) and authentication."""

from __future__ import annotations

from overt.users.service import UserService, hash_password, verify_password

__all__ = ["UserService", "hash_password", "verify_password"]
