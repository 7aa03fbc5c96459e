"""The web dashboard for HR (Phòng Nội vụ), unit heads, officers and viewers; `app.create_dash` is
the entry point.

The server's login guard says who is looking (`sources.access`). Pages (in `pages/`) read the
API's own report runs through `queries` (server/reporting/access_reports.py), held to what that
user may see and audited, compute their views in `report_view`, turn the rows into charts with
`figures`, table records with `tables` (the review's grid with `review_grid`) and words with
`captions`, and lay them out with `components` (the review's controls with `review_controls`).
"""
