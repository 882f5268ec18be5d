"""The contract's tables: rows from results, their pandera models, aggregates,
recurring statements, the review queue and analysts' corrections."""
