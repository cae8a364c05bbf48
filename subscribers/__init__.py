"""Subscriber storage, lists, import/export, segments and suppression (never imports mailer)."""
