"""Development only (never installed): the browser and screenshot helpers, the dashboard's demo
data, a throwaway PostgreSQL and the bench harness, shared by the tests and the bench scripts."""
