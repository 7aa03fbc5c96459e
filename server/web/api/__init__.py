"""The JSON API under /api/v1: one module of routes per concern, each route a thin adapter over
a service below `server.web`, with the shared dependencies (database session, logged-in user) in
`deps`.
"""
