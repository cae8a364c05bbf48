"""The report and suppressions commands."""
