"""Generators of checked-in files (`make events`, `make schemas`, `make snapshot`): not part
of the local runtime; a test fails when a checked-in file differs from what they write."""
