"""Topic classification of statements with spaCy (see classifier.py)."""
