"""Code every function of the backbone shares: the message contracts and their routing.

Built once as the `SharedLayer` of template.yaml and attached to every function.
"""
