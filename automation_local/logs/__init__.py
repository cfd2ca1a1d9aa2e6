"""Where the local runtime keeps its logs (what CloudWatch Logs holds on AWS)."""
