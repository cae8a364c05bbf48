"""The render command: an issue file to HTML and text."""
