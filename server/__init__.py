"""The collection server: ratings in from the broker, stored once per officer, kept provable,
counted into the figures HR defends, and served over HTTP. docs/architecture.md shows its layers.
"""
