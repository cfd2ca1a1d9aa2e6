"""Local runtime of the backbone: an embedded AWS emulator and the template deployed into it.

Development tooling only; nothing here is deployed to AWS.
"""
