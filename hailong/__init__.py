"""The wire contract between a counter unit and the server, and the little both sides share
(errors, MQTT addresses). It imports nothing else of ours, so either side can be read, built and
tested alone.
"""
