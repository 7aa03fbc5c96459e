"""Mosquitto for Hài Lòng: its files and process, the device accounts kept through the
dynamic-security plugin, the server's own client ids, and bringing an older broker up to date."""
