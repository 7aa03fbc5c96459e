"""The web dashboard for HR (Phòng Nội vụ), unit heads, officers and viewers; `app.create_dash` is
the entry point.

The server's login guard says who is looking (`sources.access`). Pages (in `pages/`) read the
API's own reports through `queries`, held to what that user may see, turn them into charts and
table rows with the pure functions of `figures`, and lay them out with `components`.
"""
