"""usagestat: how much of each AI quota, credit pool or balance is used, and when it resets."""

__version__ = "0.1.0"
