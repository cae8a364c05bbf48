"""What editors do, each as one audited service function shared by the CLI, the API and pages.

`lists` (create), `people` (add, change, erase), `sends` (create from a stored issue, test
copies, pause, resume, cancel). Every function takes the acting Principal, checks its role and
writes the audit entry in the same transaction as the change.
"""
