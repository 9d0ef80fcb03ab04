"""Format plugins shipped with annotator (entry-point group ``annotator.formats``)."""
