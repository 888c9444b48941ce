"""Headless verbs of `anklume-tui --batch VERB`: one module each, sharing verbs.common."""
