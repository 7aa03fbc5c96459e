"""Who may do what and who did it: roles and scopes, users with their passwords and login tokens,
and the audit log every write, export and login goes to."""
