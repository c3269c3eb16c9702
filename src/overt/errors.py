"""The one exception tree of Overt.

Library code raises these; the boundaries (CLI, API) translate them into a one-line message
and an exit or status code. Messages never contain biometric data, names or subject ids.
"""

from __future__ import annotations


class OvertError(Exception):
    """Base of every error Overt raises on purpose. ``exit_code`` is used by the CLI."""

    exit_code: int = 1


class ConfigError(OvertError):
    """Invalid configuration or command-line arguments."""

    exit_code = 2


class InputError(OvertError):
    """Bad input from the user: unreadable file, wrong format, invalid value."""

    exit_code = 3


class ImageError(InputError):
    """An image could not be read: missing, empty, truncated, not an image, or too large."""


class VideoError(InputError):
    """A video or stream could not be opened or read."""


class NoFaceError(InputError):
    """An image that should hold exactly one face holds none."""


class MultipleFacesError(InputError):
    """An image that should hold exactly one face holds several."""


class QualityError(InputError):
    """A face is of too poor quality for the purpose (enrolment, verification)."""


class ModelError(OvertError):
    """A model is unknown, missing, fails its sha256 check, or cannot be loaded."""

    exit_code = 4


class BackendUnavailableError(ModelError):
    """An optional backend's package is not installed (e.g. ``overt[dlib]``)."""


class StorageError(OvertError):
    """Reading or writing persistent state failed."""

    exit_code = 5


class StaleLeaseError(StorageError):
    """A write carried a fencing token older than its lease's epoch: another worker has taken the
    lease over since, and this (paused, not dead) leader must stop its work. Nothing was written."""


class CryptoError(OvertError):
    """Encryption keys are missing, wrong or unsafe, or a ciphertext does not authenticate.

    Raised before anything is changed: a wrong or missing key never destroys data.
    """

    exit_code = 6


class KeyMissingError(CryptoError):
    """The key-encryption key (key file, environment variable or passphrase) is not available."""


class InsecureKeyFileError(CryptoError):
    """The key file is readable by group or others (it must be mode 0600)."""


class WrongKeyError(CryptoError):
    """The key-encryption key does not belong to this data directory."""


class KeyRotatedError(WrongKeyError):
    """Another process rotated the key-encryption key and this one cannot load the new key."""


class DecryptionError(CryptoError):
    """A ciphertext failed to authenticate: wrong key, wrong row, tampered, or its key was destroyed."""


class KeyDestroyedError(DecryptionError):
    """The data key of this ciphertext was destroyed (crypto-shredded); the data is gone for good."""


class AuthError(OvertError):
    """Unknown user, wrong password, or a role that may not do this."""

    exit_code = 7


class GovernanceError(OvertError):
    """A governance rule refuses the action (e.g. authorising one's own deployment)."""

    exit_code = 8


class NotFoundError(InputError):
    """A deployment, entry, user or alert with that id does not exist."""


class AuditIntegrityError(OvertError):
    """The audit log's hash chain does not verify."""

    exit_code = 9
