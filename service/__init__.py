"""The API's service layer: what a request asks for, written with its event in one transaction.

``models`` holds the table the API owns (submissions: what was asked, with its idempotency key and
cancel request); ``commands`` the writes (submit, cancel, rate), each raising the domain's named
errors (``composition.errors``) that the API maps to HTTP in one place (``api.problems``).
"""
