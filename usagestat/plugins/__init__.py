"""Plugin discovery, the QuickJS runtime, the host API and isolated probing."""
