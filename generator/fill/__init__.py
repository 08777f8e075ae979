"""The AI fill step."""
