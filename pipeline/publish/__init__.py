"""What leaves the pipeline: CSV and DuckDB files, the workbook, the HTML report,
the data dictionary, written atomically into a versioned folder."""
