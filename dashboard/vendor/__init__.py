"""Third-party browser files the dashboard serves itself (the server may have no internet).

Dash serves a package's files under /_dash-component-suites/<package>/ with this `__version__`
and the file's modification time in the URL, so a browser may keep them for a year: the version
here is the vendored plotly.js's, and changes with it (README.md: where it comes from, how to
update it).
"""

PLOTLY_BUNDLE = "plotly-cartesian.min.js"
__version__ = "4.1.1"  # of plotly.js-cartesian-dist-min, the file above
