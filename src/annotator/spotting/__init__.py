"""Spotting: proposals with onset, apex, offset and an emotion guess, and their evaluation."""
