"""Events: what happened to the mail after SendGrid took it, and what that means.

Record first, judge later. Owns: the signed Event Webhook intake that stores a post and its
events in one transaction (`intake`), tying each event to its send and subscriber
(`correlate`), applying the policy exactly once per event (`processing`, `policy`), importing
SendGrid's own suppression lists (`suppressions`), and a send's report (`report`,
`report_queries`). Entry points: `intake.store_post`, `processing.apply_post`,
`report.assemble`.
"""
