"""The demo load: planned orders, sent into a running local runtime and followed to their
end from outside (tracker), with their side effects counted at the stand-ins."""
