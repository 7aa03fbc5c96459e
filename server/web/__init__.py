"""The HTTP side: the FastAPI app and its lifespan, the JSON API routes and the browser login,
each a thin adapter over the packages below it."""
