"""The editor workspace under /admin: server-rendered pages, signed in and role-checked."""
