"""Readers: what a subscriber or a stranger can do with the links in an issue.

Owns: signed per-recipient link tokens and URLs (`links`), forward-to-a-friend rules and the
friend's copy (`forwarding`), double opt-in sign-up (`signup`), and the single-message payloads
they send (`messages`: a forwarded copy, a confirmation). The pages that use them are in `web`.
"""
