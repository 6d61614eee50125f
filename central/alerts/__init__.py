"""Document and person alert lists, and the face matcher they can be searched through."""
