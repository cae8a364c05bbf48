"""Domain errors of the mailer; the CLI prints them as one line, the web app maps them to 4xx."""


class NewsletterError(Exception):
    """Bad input or an impossible request, with a message that says what and where."""
