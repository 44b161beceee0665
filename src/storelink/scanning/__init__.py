"""What a store tablet scans: the code formats (codes.py) and the one entry point that dispatches
each kind of code to the domain that handles it (scanner.py)."""
