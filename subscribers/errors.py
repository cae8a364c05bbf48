"""Domain errors of the subscriber store (CSV rows, segment expressions, unknown lists)."""


class SubscriberError(Exception):
    """Bad input to the subscriber store, with a message that says what and where."""
