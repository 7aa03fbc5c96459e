"""Ratings in, exactly once: broker messages dated, ordered, attributed and stored, then
acknowledged; the fair spool, the kept rejects, unit connections and the queue system's services."""
