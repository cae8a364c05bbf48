"""The editor workspace under /admin: sign-in, sign-out, and the pages people use.

`auth.page_principal(role)` is the dependency every workspace page declares; `install(app)`
adds the routes and turns "please sign in" into a redirect to /admin/login.
"""
