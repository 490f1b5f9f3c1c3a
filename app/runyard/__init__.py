"""runyard: experiment tracking."""
