"""The web dashboard for HR (Phòng Nội vụ) and unit heads; `app.create_dash` is the entry point.

Pages (in `pages/`) read figures through `server.reports` and `queries`, turn them into charts and
table rows with the pure functions of `figures`, and lay them out with `components`.
"""
