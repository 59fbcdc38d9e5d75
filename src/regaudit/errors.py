"""The package's own error types: every failure a user can cause ends in one of these."""


class RegauditError(Exception):
    """A problem with the input that the user can act on; the message says what and what to do."""


class UnreadableFile(RegauditError):
    """The file cannot be read as any Keras model format."""


class NotAKerasModel(RegauditError):
    """The file is readable but holds no Keras model (e.g. an HDF5 file of another program)."""


class InputTooLarge(RegauditError):
    """The input exceeds a documented limit (config size, nesting depth)."""
