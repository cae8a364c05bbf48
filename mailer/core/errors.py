"""Domain errors of the mailer; the CLI prints them as one line, the web app maps them to 4xx."""


class NewsletterError(Exception):
    """Bad input or an impossible request, with a message that says what and where."""


class NotFound(NewsletterError):
    """What was asked for does not exist (the API answers 404)."""


class Conflict(NewsletterError):
    """The object changed since the caller read it (the API answers 409)."""
