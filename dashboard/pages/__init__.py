"""One module per page: `PAGE` (its registry entry), `layout` and `register_callbacks`."""
