"""The ways into the figures beside the counter unit: the citizen's phone (a rating link per
ticket or per counter card), paper survey forms entered by staff, and the queue system's ticket
events. Each ends in the same stored ratings, services and shifts as the unit's, through the
ingest's one way in (server/ingest/store.py), so reports need no second path."""
