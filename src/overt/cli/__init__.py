"""The ``overt`` command line: one module per command group."""
