"""Rendering, sending, links, web app and CLI of the newsletter delivery system."""
