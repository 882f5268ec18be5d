"""Reading: a source file becomes a DocumentResult (sniffing, readers, OCR,
the template walk, normalisation), in an isolated, bounded worker, cached by content."""
